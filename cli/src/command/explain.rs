//! `dualtrack explain`: a rule's documentation, controls and Cedar; or, for a finding id,
//! the finding with the attribute values that made its rule fire.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;
use dualtrack_engine::diag::did_you_mean;
use dualtrack_engine::policy::text;
use dualtrack_engine::{eval, Track};

use crate::args::parse_as_of;
use crate::exit::{Failure, EXIT_CLEAN};
use crate::load;

/// Arguments of `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule id (`SOC-STALE-001`) or a finding id (needs `--inventory`).
    #[arg(value_name = "RULE|FINDING")]
    pub id: String,
    /// Policy pack directory (default: the built-in pack).
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Inventory to evaluate when explaining a finding id.
    #[arg(long, value_name = "PATH")]
    pub inventory: Option<PathBuf>,
    /// Review date for a finding id, as given to `check`.
    #[arg(long, value_name = "DATE", value_parser = parse_as_of)]
    pub as_of: Option<DateTime<Utc>>,
}

/// Runs `explain`.
pub fn run(args: &ExplainArgs) -> Result<ExitCode, Failure> {
    if let Some(rule) = dualtrack_engine::pseudo::get(&args.id) {
        print!("{}", rule.explain());
        return Ok(ExitCode::from(EXIT_CLEAN));
    }
    let Some(inventory) = &args.inventory else {
        let (_, pack) = load::pack(args.policies.as_deref())?;
        if let Some(risk) = pack.risk_of(&args.id) {
            print!("{}", text::explain_risk(&args.id, risk, &pack.rulesets, &pack.controls));
            return Ok(ExitCode::from(EXIT_CLEAN));
        }
        let Some(rule) = pack.rule(&args.id) else {
            let hint = did_you_mean(&args.id, pack.rules.iter().map(|r| r.id.as_str()))
                .map_or_else(String::new, |c| format!(" (did you mean `{c}`?)"));
            return Err(Failure::Usage(format!(
                "no rule `{}` in the pack{hint}; to explain a finding id, give --inventory",
                args.id
            )));
        };
        print!("{}", text::explain(rule, &pack.controls));
        return Ok(ExitCode::from(EXIT_CLEAN));
    };
    // One review date for loading (an SAP source reads assignments held then) and evaluation.
    let as_of = args.as_of.unwrap_or_else(Utc::now);
    let loaded = load::pack_and_inventory(inventory, args.policies.as_deref(), Some(as_of))?;
    if let Some(rule) = loaded.pack.rule(&args.id) {
        print!("{}", text::explain(rule, &loaded.pack.controls));
        return Ok(ExitCode::from(EXIT_CLEAN));
    }
    if let Some(risk) = loaded.pack.risk_of(&args.id) {
        print!(
            "{}",
            text::explain_risk(&args.id, risk, &loaded.pack.rulesets, &loaded.pack.controls)
        );
        return Ok(ExitCode::from(EXIT_CLEAN));
    }
    let opts = eval::Options {
        as_of,
        tracks: Track::ALL.to_vec(),
    };
    let report = eval::evaluate(&loaded.inventory, &loaded.pack, &loaded.model, &opts)?;
    let Some(finding) = report.findings.iter().find(|f| f.id == args.id) else {
        return Err(Failure::Usage(format!(
            "no rule and no finding `{}` (finding ids depend on the inventory, the pack and --as-of)",
            args.id
        )));
    };
    let mut out = format!(
        "finding {}: {} on {} track\n  {}\n  identity: {}\n  entitlements: {}\n  at: {}:{}\n\nWhy it fired (the attribute values the rule read)\n",
        finding.id,
        finding.rule,
        finding.track.as_str(),
        finding.message,
        finding.identity,
        finding.entitlements.join(", "),
        finding.file,
        finding.line
    );
    for (path, value) in finding.evidence.iter() {
        out.push_str(&format!("  {path} = {value}\n"));
    }
    out.push('\n');
    if let Some(rule) = loaded.pack.rule(&finding.rule) {
        out.push_str(&text::explain(rule, &loaded.pack.controls));
    } else if let Some(risk) = loaded.pack.risk_of(&finding.rule) {
        out.push_str(&text::explain_risk(
            &finding.rule,
            risk,
            &loaded.pack.rulesets,
            &loaded.pack.controls,
        ));
    }
    print!("{out}");
    Ok(ExitCode::from(EXIT_CLEAN))
}
