//! `dualtrack drift`: what changed between two snapshots of the estate — access added,
//! removed and changed (escalations marked), identities and systems added, departed and
//! changed, findings new and resolved. Each side is an evidence pack or an inventory; one
//! side is reduced to what the comparison needs before the other is read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use dualtrack_engine::drift::{self, Snapshot};
use dualtrack_engine::{baseline, eval, policy, Model, Track};

use crate::args::parse_as_of;
use crate::diagnostics;
use crate::exit::{Failure, EXIT_CLEAN, EXIT_FINDINGS};
use crate::{load, output};

/// Output formats of `drift`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DriftFormat {
    /// A section per kind of record, one line per change, for people.
    Human,
    /// `{"entitlements", "identities", "systems", "findings": {"new", "resolved"}, "summary"}`.
    Json,
    /// A summary for a job summary or a ticket.
    Markdown,
    /// One row per change, for spreadsheets.
    Csv,
}

/// What makes `drift` exit 1.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DriftFailOn {
    /// An entitlement that became privileged or gave its holder a new SoD function.
    Escalation,
    /// Any entitlement, identity or system added, removed or changed.
    Change,
    /// Never (invalid input still exits 3).
    Never,
}

/// Arguments of `drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The earlier snapshot: an evidence pack (a directory with `manifest.json`), an
    /// inventory or a sources file.
    #[arg(long, value_name = "PATH")]
    pub base: PathBuf,
    /// The later snapshot, as `--base`.
    #[arg(long, value_name = "PATH")]
    pub head: PathBuf,
    /// Policy pack directory the inventory sides are evaluated with (default: the built-in
    /// pack); a pack side keeps the findings it recorded.
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Review date of the inventory sides, `YYYY-MM-DD` or RFC 3339 (default: now).
    #[arg(long, value_name = "DATE", value_parser = parse_as_of)]
    pub as_of: Option<DateTime<Utc>>,
    /// Review date of an inventory `--base`, when it is not `--as-of`.
    #[arg(long, value_name = "DATE", value_parser = parse_as_of)]
    pub base_as_of: Option<DateTime<Utc>>,
    /// Exit 1 on an escalation, on any change, or never.
    #[arg(long, value_enum, default_value = "never")]
    pub fail_on: DriftFailOn,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: DriftFormat,
}

/// Reads one side: a pack is verified and read, an inventory evaluated with the pack
/// (loaded once, on first need, into `policies`).
fn snapshot(
    path: &Path,
    flag: &str,
    as_of: DateTime<Utc>,
    dir: Option<&Path>,
    policies: &mut Option<(Model, policy::Pack)>,
) -> Result<Snapshot, Failure> {
    if is_pack(path) {
        return Ok(Snapshot::of_pack(baseline::load_with_findings(path, flag)?));
    }
    let (model, pack) = match policies {
        Some(loaded) => loaded,
        None => policies.insert(load::pack(dir)?),
    };
    let idx = load::index(path, Some(as_of))?;
    let opts = eval::Options {
        as_of,
        tracks: Track::ALL.to_vec(),
    };
    let (snapshot, warnings) = Snapshot::evaluate(&path.display().to_string(), &idx, pack, model, &opts)?;
    if !warnings.0.is_empty() {
        diagnostics::eprint(&warnings);
    }
    Ok(snapshot)
}

/// True when `path` is an evidence pack (a directory with a `manifest.json`).
fn is_pack(path: &Path) -> bool {
    path.join("manifest.json").is_file()
}

/// Runs `drift`.
pub fn run(args: &DriftArgs) -> Result<ExitCode, Failure> {
    let now = Utc::now();
    let head_as_of = args.as_of.unwrap_or(now);
    let base_as_of = args.base_as_of.unwrap_or(head_as_of);
    let mut policies = None;
    let dir = args.policies.as_deref();
    let report = if is_pack(&args.head) {
        let base = snapshot(&args.base, "--base", base_as_of, dir, &mut policies)?;
        let head = snapshot(&args.head, "--head", head_as_of, dir, &mut policies)?;
        drift::compare(base, head)
    } else {
        // An inventory head is compared with the base as it streams, so only what differs
        // is held of it. A base pack is read on a thread of its own while the head is
        // indexed, as `check --since` reads its baseline; a base inventory is reduced to
        // its state and findings (and dropped) before the head is read, so two inventories
        // are never held at once.
        let (base, load::Indexed { model, pack, index }) = if is_pack(&args.base) {
            let (base, indexed) = std::thread::scope(|s| {
                let base = s.spawn(|| baseline::load_with_findings(&args.base, "--base"));
                (base.join(), load::pack_and_index(&args.head, dir, Some(head_as_of)))
            });
            let base = base.map_err(|_| Failure::Error("reading the base pack failed".to_owned()))??;
            (Snapshot::of_pack(base), indexed?)
        } else {
            let base = snapshot(&args.base, "--base", base_as_of, dir, &mut policies)?;
            let (model, pack) = match policies {
                Some(loaded) => loaded,
                None => load::pack(dir)?,
            };
            let index = load::index(&args.head, Some(head_as_of))?;
            (base, load::Indexed { model, pack, index })
        };
        let opts = eval::Options {
            as_of: head_as_of,
            tracks: Track::ALL.to_vec(),
        };
        let (report, warnings) =
            drift::compare_streamed(base, &args.head.display().to_string(), &index, &pack, &model, &opts)?;
        if !warnings.0.is_empty() {
            diagnostics::eprint(&warnings);
        }
        report
    };
    let text = match args.format {
        DriftFormat::Human => drift::human(&report),
        DriftFormat::Json => drift::json(&report),
        DriftFormat::Markdown => drift::markdown(&report),
        DriftFormat::Csv => drift::csv(&report),
    };
    output::print(&text, "report")?;
    let fails = match args.fail_on {
        DriftFailOn::Escalation => report.escalated() > 0,
        DriftFailOn::Change => !report.no_change(),
        DriftFailOn::Never => false,
    };
    Ok(ExitCode::from(if fails { EXIT_FINDINGS } else { EXIT_CLEAN }))
}
