//! `dualtrack lint`: check policies and inventory before a campaign, without evaluating.
//! Every problem of every input in one run; exit 3 on any error (or, with
//! `--deny-warnings`, on any warning); notes never fail the run.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use dualtrack_engine::lint::{self, Inputs};
use dualtrack_engine::{prove, Level};

use crate::diagnostics;
use crate::exit::{Failure, EXIT_CLEAN, EXIT_INVALID};
use crate::{load, output};

/// Output formats of `lint`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Rendered diagnostics with source snippets, for people.
    Human,
    /// `{"summary": …, "diagnostics": […]}`, for tools.
    Json,
}

/// Arguments of `lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Policy pack directory (default: the built-in pack).
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Inventory to check as well: a YAML/JSON file, or a directory of
    /// systems/identities/entitlements files.
    #[arg(long, value_name = "PATH")]
    pub inventory: Option<PathBuf>,
    /// Exceptions file to check as well (`exceptions.yaml`).
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Campaign file to check as well (`campaign.yaml`; its reviewer checks need `--inventory`).
    #[arg(long, value_name = "FILE")]
    pub campaign: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Exit 3 on warnings too (notes never fail the run); useful in CI.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Also prove, with cvc5, which rules can never fire (DT410), can error (DT411), or are
    /// equivalent to (DT412) or shadowed by (DT413) another rule of their track. Exit 2
    /// when no solver is found.
    #[arg(long)]
    pub prove: bool,
    /// With `--prove`: the time limit of one solver query, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = prove::solver::DEFAULT_QUERY_LIMIT_MS)]
    pub query_limit_ms: u64,
}

/// Runs `lint`.
pub fn run(args: &LintArgs) -> Result<ExitCode, Failure> {
    let inputs = Inputs {
        policies: args.policies.clone(),
        inventory: args.inventory.clone(),
        exceptions: args.exceptions.clone(),
        campaign: args.campaign.clone(),
    };
    let solver = if args.prove {
        let mut s = prove::Solver::find().map_err(|e| Failure::NoSolver(e.to_string()))?;
        s.query_limit_ms = args.query_limit_ms;
        Some(s)
    } else {
        None
    };
    let mut problems = lint::run(&inputs);
    if let Some(solver) = &solver {
        // Proofs need a pack that loads; when it does not, its errors are already listed.
        if let Ok((model, pack)) = load::pack(args.policies.as_deref()) {
            let found = prove::lint(&pack, &model, solver).map_err(|e| Failure::Error(e.to_string()))?;
            found.into_iter().for_each(|p| problems.push(p));
            problems.sort();
        }
    }
    let text = match args.format {
        Format::Json => {
            let mut t = serde_json::to_string_pretty(&lint::to_json(&problems)).unwrap_or_default();
            t.push('\n');
            t
        }
        Format::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            diagnostics::render(&problems, color, 100)
        }
    };
    output::print(&text, "diagnostics")?;
    let fails = problems.has_errors() || (args.deny_warnings && problems.count(Level::Warning) > 0);
    Ok(ExitCode::from(if fails { EXIT_INVALID } else { EXIT_CLEAN }))
}
