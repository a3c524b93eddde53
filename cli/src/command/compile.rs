//! `dualtrack compile`: the Cedar that YAML rules and the SoD matrix compile to.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use dualtrack_engine::policy::{text, Origin};

use crate::exit::{Failure, EXIT_CLEAN};
use crate::load;

/// Arguments of `compile`.
#[derive(Debug, Args)]
pub struct CompileArgs {
    /// Policy pack directory (default: the built-in pack).
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Only these rules (default: every rule not written in `.cedar`).
    #[arg(value_name = "RULE")]
    pub rules: Vec<String>,
}

/// Runs `compile`.
pub fn run(args: &CompileArgs) -> Result<ExitCode, Failure> {
    let (_, pack) = load::pack(args.policies.as_deref())?;
    if let Some(wanted) = args.rules.iter().find(|wanted| pack.rule(wanted).is_none()) {
        return Err(Failure::Usage(format!("no rule `{wanted}` in the pack")));
    }
    let mut out = String::new();
    for rule in &pack.rules {
        let chosen = if args.rules.is_empty() {
            rule.origin != Origin::Cedar
        } else {
            args.rules.contains(&rule.id)
        };
        if chosen {
            out.push_str(&format!("// {} (from {})\n", rule.id, rule.loc));
            out.push_str(&text::cedar(rule));
            out.push('\n');
        }
    }
    print!("{out}");
    Ok(ExitCode::from(EXIT_CLEAN))
}
