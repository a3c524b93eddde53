//! One file per subcommand; each has `<Name>Args` and `run`, which returns the exit code,
//! or the [`Failure`] that stopped it for [`run`] here to print. Commands share loading
//! (`crate::load`), output (`crate::output`) and argument types (`crate::args`), and
//! import nothing from one another.

pub mod campaign;
pub mod check;
pub mod compile;
pub mod diff;
pub mod drift;
pub mod evidence;
pub mod explain;
pub mod import;
pub mod lint;
pub mod test;

use std::process::ExitCode;

use clap::Subcommand;

use crate::exit::Failure;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plan an access-review campaign: reviewer worklists and instructions per track.
    Campaign(campaign::CampaignArgs),
    /// Evaluate an inventory against both tracks and report findings.
    Check(check::CheckArgs),
    /// Print the Cedar that the pack's YAML rules and SoD matrix compile to.
    Compile(compile::CompileArgs),
    /// The findings impact of a policy change: added, removed and changed findings.
    Diff(diff::DiffArgs),
    /// What changed between two snapshots (inventories or evidence packs): access added, removed, changed and escalated; identities; findings new and resolved.
    Drift(drift::DriftArgs),
    /// Write the audit evidence pack: per-track summaries, findings, exception logs and narratives, OSCAL results and a manifest.
    Evidence(evidence::EvidenceArgs),
    /// Explain a rule (documentation, controls, Cedar) or a finding (the values that made it fire).
    Explain(explain::ExplainArgs),
    /// Read the exports a sources file lists and write the merged native inventory.
    Import(import::ImportArgs),
    /// Check policies and an inventory before a campaign, without evaluating.
    Lint(lint::LintArgs),
    /// Run the pack's policy unit tests (`*.test.yaml`): given records, expect these findings and no others.
    Test(test::TestArgs),
}

/// Runs a subcommand; a failure that stopped it is printed on stderr here, and exits with
/// its code.
pub fn run(command: &Command) -> ExitCode {
    let outcome = match command {
        Command::Campaign(args) => campaign::run(args),
        Command::Check(args) => check::run(args),
        Command::Compile(args) => compile::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Drift(args) => drift::run(args),
        Command::Evidence(args) => evidence::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Import(args) => import::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Test(args) => test::run(args),
    };
    outcome.unwrap_or_else(Failure::report)
}
