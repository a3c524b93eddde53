//! `dualtrack diff`: the findings impact of a policy change — one inventory evaluated with
//! the base and the head policies, findings added, removed and changed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use dualtrack_engine::diff::{self, FindingsDiff};
use dualtrack_engine::{eval, inventory, policy, prove, render, Finding, Model, Problems, Report};

use crate::args::{parse_as_of, FailOn, TrackArg};
use crate::exit::{Failure, EXIT_CLEAN, EXIT_FINDINGS};
use crate::progress::Progress;
use crate::{load, output};

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DiffFormat {
    /// One line per change, for people.
    Human,
    /// `{"added": [...], "removed": [...], "changed": [{"before", "after"}...]}`.
    Json,
    /// A summary for a pull-request comment.
    Markdown,
    /// SARIF 2.1.0 of the added findings (what the change newly flags).
    Sarif,
}

/// Arguments of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Base policies: a directory, or a git revision (the head directory's path at that revision).
    #[arg(long, value_name = "DIR|GIT_REV")]
    pub base: String,
    /// Head policies directory.
    #[arg(long, value_name = "DIR", default_value = "policies")]
    pub head: PathBuf,
    /// Inventory evaluated with both (optional with `--prove`: then its findings diff
    /// follows the proof).
    #[arg(long, value_name = "PATH", required_unless_present = "prove")]
    pub inventory: Option<PathBuf>,
    /// Review date, `YYYY-MM-DD` or RFC 3339 (default: now).
    #[arg(long, value_name = "DATE", value_parser = parse_as_of)]
    pub as_of: Option<DateTime<Utc>>,
    /// Tracks to evaluate.
    #[arg(long, value_enum, default_value = "both")]
    pub track: TrackArg,
    /// Exit 1 when the change brings an open finding at or above this severity.
    #[arg(long, value_enum, default_value = "low")]
    pub fail_on: FailOn,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: DiffFormat,
    /// Show progress on stderr even when it is not a terminal (a terminal shows it anyway
    /// once the run takes more than a second).
    #[arg(long)]
    pub progress: bool,
    /// Prove, for every inventory the schema allows, what the change can add or hide per
    /// rule (needs cvc5). Exit 1 when a change can hide findings or could not be proven not
    /// to (`only-removes`, `adds-and-removes`, `removed`, `inconclusive`); 2 when no solver
    /// is found.
    #[arg(long)]
    pub prove: bool,
    /// With `--prove`: the time limit of one solver query, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = prove::solver::DEFAULT_QUERY_LIMIT_MS)]
    pub query_limit_ms: u64,
}

/// Runs `diff`.
pub fn run(args: &DiffArgs) -> Result<ExitCode, Failure> {
    let scratch;
    let base_dir: PathBuf = if Path::new(&args.base).is_dir() {
        PathBuf::from(&args.base)
    } else {
        scratch =
            tempfile::tempdir().map_err(|e| Failure::Error(format!("cannot create a temporary directory: {e}")))?;
        checkout(&args.base, &args.head, scratch.path()).map_err(Failure::Usage)?
    };
    if args.prove {
        return run_prove(args, &base_dir);
    }
    let Some(inventory_path) = args.inventory.as_deref() else {
        return Err(Failure::Usage("`--inventory` is required without `--prove`".to_owned()));
    };
    let (d, tally, head_pack) = findings_diff(args, &base_dir, inventory_path)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match args.format {
        DiffFormat::Human => out.write_all(diff::human(&d).as_bytes()),
        DiffFormat::Markdown => out.write_all(diff::markdown(&d, render::MARKDOWN_EXAMPLES).as_bytes()),
        DiffFormat::Json => serde_json::to_writer_pretty(&mut out, &d)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n")),
        DiffFormat::Sarif => {
            let added = Report::from_tally(&tally, d.added.clone());
            render::write_sarif(&added, &head_pack, &mut out)
        }
    };
    output::written(written.and_then(|()| out.flush()), "diff")?;
    Ok(match args.fail_on.severity() {
        Some(min) if new_findings(&d, min) => ExitCode::from(EXIT_FINDINGS),
        _ => ExitCode::from(EXIT_CLEAN),
    })
}

/// `diff --prove`: the verdict of every rule, over every inventory.
fn run_prove(args: &DiffArgs, base_dir: &Path) -> Result<ExitCode, Failure> {
    if matches!(args.format, DiffFormat::Sarif) {
        return Err(Failure::Usage("`--prove` writes human, json or markdown".to_owned()));
    }
    let mut solver = prove::Solver::find().map_err(|e| Failure::NoSolver(e.to_string()))?;
    solver.query_limit_ms = args.query_limit_ms;
    let model = Model::load().map_err(|p| Problems(vec![p]))?;
    let load = |dir: &Path| policy::dir_files(dir).and_then(|files| policy::load(files, &model));
    let base = load(base_dir).map_err(|problems| Failure::DoesNotLoad {
        what: base_policies(args),
        problems,
    })?;
    let head = load(&args.head).map_err(|problems| Failure::DoesNotLoad {
        what: head_policies(args),
        problems,
    })?;
    let report = prove::prove_change(&base, &head, &model, &solver, &args.track.tracks())
        .map_err(|e| Failure::Error(e.to_string()))?;
    // With an inventory, its findings diff follows the proof: what the change can do on
    // any inventory, then what it does on this one.
    let on_inventory = match args.inventory.as_deref() {
        None => None,
        Some(path) => {
            let (d, _, _) = findings_diff(args, base_dir, path)?;
            Some((path, d))
        }
    };
    let text = match args.format {
        DiffFormat::Human => {
            let mut text = report.human();
            if let Some((path, d)) = &on_inventory {
                text.push_str(&format!("\non the inventory `{}`:\n", path.display()));
                text.push_str(&diff::human(d));
            }
            text
        }
        DiffFormat::Markdown => {
            let mut text = report.markdown();
            if let Some((_, d)) = &on_inventory {
                text.push('\n');
                text.push_str(&diff::markdown(d, render::MARKDOWN_EXAMPLES));
            }
            text
        }
        DiffFormat::Json => {
            let mut json = report.to_json();
            if let (Some((_, d)), Some(obj)) = (&on_inventory, json.as_object_mut()) {
                let v = serde_json::to_value(d).map_err(|e| Failure::Error(format!("cannot write the diff: {e}")))?;
                obj.insert("inventory".to_owned(), v);
            }
            format!("{json:#}\n")
        }
        // Refused above.
        DiffFormat::Sarif => String::new(),
    };
    output::print(&text, "proof")?;
    let adds_findings = match (&on_inventory, args.fail_on.severity()) {
        (Some((_, d)), Some(min)) => new_findings(d, min),
        _ => false,
    };
    Ok(ExitCode::from(if report.can_hide_findings() || adds_findings {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }))
}

/// The findings diff of the inventory at `inventory_path` between the base and head
/// packs, with the head report's tally and the head pack.
fn findings_diff(
    args: &DiffArgs,
    base_dir: &Path,
    inventory_path: &Path,
) -> Result<(FindingsDiff, dualtrack_engine::finding::Tally, policy::Pack), Failure> {
    let opts = eval::Options {
        as_of: args.as_of.unwrap_or_else(Utc::now),
        tracks: args.track.tracks(),
    };
    let idx = load::index(inventory_path, Some(opts.as_of))?;
    // Each identity is evaluated twice: with the base policies, then with the head's.
    let mut progress = Progress::new(2 * idx.inventory.identities.len(), args.progress);
    let base = match evaluate(base_dir, &idx, &opts, &mut progress) {
        Ok((_, report)) => report.findings,
        Err(problems) => {
            progress.finish();
            return Err(Failure::DoesNotLoad {
                what: base_policies(args),
                problems,
            });
        }
    };
    let head = evaluate(&args.head, &idx, &opts, &mut progress);
    progress.finish();
    let (head_pack, head_report) = head.map_err(|problems| Failure::DoesNotLoad {
        what: head_policies(args),
        problems,
    })?;
    let tally = head_report.tally();
    Ok((diff::diff(base, head_report.findings), tally, head_pack))
}

fn new_findings(d: &FindingsDiff, min: dualtrack_engine::Severity) -> bool {
    d.new_open_at_or_above(min) > 0
}

/// The base policies, as an error names them.
fn base_policies(args: &DiffArgs) -> String {
    format!("the base policies (`{}`)", args.base)
}

/// The head policies, as an error names them.
fn head_policies(args: &DiffArgs) -> String {
    format!("the head policies (`{}`)", args.head.display())
}

/// Loads the pack in `dir` and evaluates the inventory with it.
fn evaluate(
    dir: &Path,
    idx: &inventory::Indexed,
    opts: &eval::Options,
    progress: &mut Progress,
) -> Result<(policy::Pack, Report), Problems> {
    let model = Model::load().map_err(|p| Problems(vec![p]))?;
    let pack = policy::load(policy::dir_files(dir)?, &model)?;
    let mut findings: Vec<Finding> = Vec::new();
    let (tally, _) = eval::stream::evaluate_streamed(idx, &pack, &model, opts, Ok, |f| {
        progress.add(1);
        findings.extend(f);
        Ok(())
    })?;
    let report = Report::from_tally(&tally, findings);
    Ok((pack, report))
}

/// Writes the files under `head`'s path as they were at git revision `rev` into `into`,
/// returning the directory that holds them.
fn checkout(rev: &str, head: &Path, into: &Path) -> Result<PathBuf, String> {
    if rev.starts_with('-') {
        return Err(format!("`{rev}` is not a directory or a git revision"));
    }
    let head_dir = if head.is_dir() { head } else { Path::new(".") };
    let git = |args: &[&str]| -> Result<Vec<u8>, String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(head_dir)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git to read `{rev}`: {e}"))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(format!(
                "`{rev}` is not a directory, and git cannot read it as a revision: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    let prefix = String::from_utf8_lossy(&git(&["rev-parse", "--show-prefix"])?)
        .trim()
        .to_owned();
    let commit = format!("{rev}^{{commit}}");
    // `--end-of-options` (and the leading-`-` check above) keep a revision from a pull
    // request from being read as a git option.
    git(&["rev-parse", "--verify", "--quiet", "--end-of-options", &commit])?;
    let listing = git(&[
        "ls-tree",
        "-r",
        "-z",
        "--full-tree",
        "--name-only",
        "--end-of-options",
        rev,
        "--",
        &prefix,
    ])?;
    let files: Vec<String> = listing
        .split(|b| *b == 0)
        .filter(|f| !f.is_empty())
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    if files.is_empty() {
        return Err(format!("no policies at `{rev}:{prefix}`"));
    }
    let root = into.join("base");
    for file in &files {
        let rel = file.strip_prefix(&prefix).unwrap_or(file);
        if !stays_inside(rel) {
            return Err(format!(
                "`{rev}` holds a path that leaves the policy directory: `{file}`"
            ));
        }
        let bytes = git(&["cat-file", "blob", "--end-of-options", &format!("{rev}:{file}")])?;
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot write `{}`: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    Ok(root)
}

/// True when the relative path `rel` names a file below its root: no `..`, no root.
fn stays_inside(rel: &str) -> bool {
    Path::new(rel)
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_paths_that_leave_the_directory_are_refused() {
        assert!(stays_inside("soc/stale.yaml"));
        assert!(!stays_inside("../outside.yaml"));
        assert!(!stays_inside("soc/../../outside.yaml"));
        assert!(!stays_inside("/etc/passwd"));
    }

    #[test]
    fn a_revision_that_looks_like_a_flag_is_refused() {
        let err = checkout("--output=x", Path::new("."), Path::new("/nonexistent")).unwrap_err();
        assert!(err.contains("not a directory or a git revision"), "{err}");
    }
}
