//! `dualtrack compile`: the Cedar that YAML rules and the SoD matrix compile to.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use dualtrack_engine::policy::{text, Origin};

use super::{EXIT_CLEAN, EXIT_INVALID, EXIT_USAGE};
use crate::diagnostics;
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
pub fn run(args: &CompileArgs) -> ExitCode {
    let (_, pack) = match load::pack(args.policies.as_deref()) {
        Ok(l) => l,
        Err(problems) => {
            diagnostics::eprint(&problems);
            return ExitCode::from(EXIT_INVALID);
        }
    };
    for wanted in &args.rules {
        if pack.rule(wanted).is_none() {
            eprintln!("error: no rule `{wanted}` in the pack");
            return ExitCode::from(EXIT_USAGE);
        }
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
    ExitCode::from(EXIT_CLEAN)
}
