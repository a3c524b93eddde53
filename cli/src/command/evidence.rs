//! `dualtrack evidence`: evaluate both tracks, apply exceptions, and write the audit
//! evidence pack to `--out` atomically (built in a temporary directory beside it, then
//! renamed into place), so a half-written pack is never left behind.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use clap::Args;
use dualtrack_engine::evidence::{self, sha256_hex, Input, Sources};
use dualtrack_engine::exceptions::Exceptions;
use dualtrack_engine::{eval, inventory, open, policy, Model, Problems, Track};

use super::check::{load_decisions, load_exceptions};
use super::{load_pack, EXIT_CLEAN, EXIT_INVALID};
use crate::args::parse_as_of;
use crate::diagnostics;
use crate::progress::Progress;

/// Arguments of `evidence`.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// Inventory: a YAML/JSON file, or a directory of systems/identities/entitlements files.
    #[arg(long, value_name = "PATH")]
    pub inventory: PathBuf,
    /// Policy pack directory (default: the built-in pack).
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Exceptions file (`exceptions.yaml`).
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Campaign file (`campaign.yaml`), for the SLAs of `--decisions`.
    #[arg(long, value_name = "FILE")]
    pub campaign: Option<PathBuf>,
    /// Decisions of the campaign: a decisions CSV, or a directory of filled worklists. Adds each track's decision log, coverage and the `DEC-*` findings.
    #[arg(long, value_name = "PATH", requires = "campaign")]
    pub decisions: Option<PathBuf>,
    /// Review date, `YYYY-MM-DD` or RFC 3339 (default: now; give it for a reproducible pack).
    #[arg(long, value_name = "DATE", value_parser = parse_as_of)]
    pub as_of: Option<DateTime<Utc>>,
    /// Directory to write the pack to; an existing pack there is replaced.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Show progress on stderr even when it is not a terminal (a terminal shows it anyway
    /// once the run takes more than a second).
    #[arg(long)]
    pub progress: bool,
}

/// Runs `evidence`.
pub fn run(args: &EvidenceArgs) -> ExitCode {
    match build(args) {
        Ok(files) => match write_atomically(&args.out, &files) {
            Ok(()) => {
                println!("wrote {} files to {}", files.len(), args.out.display());
                ExitCode::from(EXIT_CLEAN)
            }
            Err(e) => {
                eprintln!("error: cannot write the evidence pack to `{}`: {e}", args.out.display());
                ExitCode::from(EXIT_INVALID)
            }
        },
        Err(problems) => {
            diagnostics::eprint(&problems);
            ExitCode::from(EXIT_INVALID)
        }
    }
}

/// What `evidence` and `campaign plan` load before evaluating the whole inventory.
pub struct Whole {
    /// The schema model.
    pub model: Model,
    /// The policy pack.
    pub pack: policy::Pack,
    /// The inventory, held whole.
    pub inv: inventory::Inventory,
    /// The inventory files read, to hash.
    pub read: Vec<String>,
    /// The exceptions, when given.
    pub exceptions: Option<Exceptions>,
}

/// Loads the pack, the whole inventory (checked against the pack; its warnings printed)
/// and the exceptions.
pub fn load_whole(policies: Option<&Path>, inventory: &Path, exceptions: Option<&Path>) -> Result<Whole, Problems> {
    let (model, pack) = load_pack(policies)?;
    let (inv, read) = open::load(inventory)?;
    let crosscheck = eval::crosscheck(&inv, &pack);
    if crosscheck.has_errors() {
        return Err(crosscheck);
    }
    if !inv.warnings.0.is_empty() {
        diagnostics::eprint(&inv.warnings);
    }
    let exceptions = load_exceptions(exceptions, &pack, &inv)?;
    Ok(Whole {
        model,
        pack,
        inv,
        read,
        exceptions,
    })
}

fn build(args: &EvidenceArgs) -> Result<Vec<evidence::File>, Problems> {
    let Whole {
        model,
        pack,
        inv,
        read,
        exceptions,
    } = load_whole(args.policies.as_deref(), &args.inventory, args.exceptions.as_deref())?;
    let opts = eval::Options {
        as_of: args.as_of.unwrap_or_else(Utc::now),
        tracks: Track::ALL.to_vec(),
    };
    let decisions = load_decisions(args.campaign.as_deref(), args.decisions.as_deref())?;
    let campaign = match &decisions {
        Some(d) => d.campaign.clone(),
        None => args
            .campaign
            .as_deref()
            .map(dualtrack_engine::campaign::load)
            .transpose()?,
    };
    let progress = Mutex::new(Progress::new(inv.identities.len(), args.progress));
    let evaluated = eval::evaluate_counted(&inv, &pack, &model, &opts, &|| {
        if let Ok(mut p) = progress.lock() {
            p.add(1);
        }
    });
    if let Ok(mut p) = progress.lock() {
        p.finish();
    }
    let mut report = evaluated?;
    if let Some(d) = &decisions {
        dualtrack_engine::decisions::verify::apply_report(d, &mut report, &inv, exceptions.as_ref())?;
    }
    if let Some(x) = &exceptions {
        x.apply_report(&mut report, &inv);
    }
    let mut extras: Vec<PathBuf> = [&args.exceptions, &args.campaign]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    extras.extend(decisions.iter().flat_map(|d| d.files.iter().cloned()));
    let inputs = hash_inputs(read, &extras, &pack)?;
    Ok(evidence::build(&Sources {
        report: &report,
        inventory: &inv,
        pack: &pack,
        exceptions: exceptions.as_ref(),
        decisions: decisions.as_ref(),
        campaign: campaign.as_ref(),
        inputs: &inputs,
    }))
}

/// Every input read, hashed: the inventory files `read`, the `extras` given by path, and
/// the pack's files. Inputs are hashed as the bytes on disk (so `sha256sum` agrees); the
/// built-in pack has no file, so its embedded text is hashed under its `builtin:` name.
pub fn hash_inputs(
    read: Vec<String>,
    extras: &[PathBuf],
    pack: &dualtrack_engine::Pack,
) -> Result<Vec<Input>, Problems> {
    let mut inputs = Vec::new();
    let mut paths: Vec<String> = read;
    for extra in extras {
        paths.push(extra.display().to_string());
    }
    for src in &pack.sources {
        if src.name().starts_with("builtin:") {
            inputs.push(Input {
                path: src.name().to_owned(),
                sha256: sha256_hex(src.text().as_bytes()),
            });
        } else {
            paths.push(src.name().to_owned());
        }
    }
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|e| {
            Problems(vec![dualtrack_engine::Problem::error(
                dualtrack_engine::Code::Io,
                None,
                format!(
                    "cannot read `{path}` again to hash it: {}",
                    e.to_string().to_lowercase()
                ),
            )])
        })?;
        inputs.push(Input {
            path,
            sha256: sha256_hex(&bytes),
        });
    }
    inputs.sort();
    inputs.dedup();
    Ok(inputs)
}

/// True when `dir` holds a dualtrack evidence pack and nothing else: its `manifest.json`
/// was written by dualtrack and lists, as outputs, every other file under `dir`.
fn is_earlier_pack(dir: &Path) -> bool {
    let Ok(bytes) = std::fs::read(dir.join("manifest.json")) else {
        return false;
    };
    let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return false;
    };
    let by_dualtrack = manifest
        .get("generator")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|g| g.starts_with("dualtrack "));
    let outputs: std::collections::BTreeSet<&str> = manifest
        .get("files")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter(|f| f.get("role").and_then(serde_json::Value::as_str) == Some("output"))
        .filter_map(|f| f.get("path").and_then(serde_json::Value::as_str))
        .collect();
    let mut files = Vec::new();
    if !by_dualtrack || !list_files(dir, dir, &mut files) {
        return false;
    }
    files
        .iter()
        .all(|f| f == "manifest.json" || outputs.contains(f.as_str()))
}

/// Collects the paths of the files under `dir`, relative to `root` with `/` separators;
/// `false` on anything that is neither a file nor a directory (a symlink, say).
fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    for entry in entries {
        let Ok(entry) = entry else { return false };
        let Ok(kind) = entry.file_type() else { return false };
        let path = entry.path();
        if kind.is_dir() {
            if !list_files(root, &path, out) {
                return false;
            }
        } else if kind.is_file() {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(rel.to_string_lossy().replace('\\', "/"));
        } else {
            return false;
        }
    }
    true
}

/// Writes `files` under a fresh temporary directory beside `out`, then renames it to
/// `out`. An existing `out` is replaced only when it is empty or holds an earlier pack and
/// nothing else (see [`is_earlier_pack`]): the pack must not wipe a directory given by
/// mistake, or one a pull request names on purpose.
pub fn write_atomically(out: &Path, files: &[evidence::File]) -> std::io::Result<()> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| std::io::Error::other("`--out` must name a directory"))?;
    if out.exists() {
        if !out.is_dir() {
            return Err(std::io::Error::other("it exists and is not a directory"));
        }
        let empty = std::fs::read_dir(out)?.next().is_none();
        if !empty && !is_earlier_pack(out) {
            return Err(std::io::Error::other(
                "it exists and is not an earlier evidence pack (a dualtrack `manifest.json` that \
                 lists every file in it); refusing to replace it",
            ));
        }
    }
    std::fs::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.new-"))
        .tempdir_in(parent)?;
    for (rel, bytes) in files {
        let path = staging.path().join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, bytes)?;
    }
    if out.exists() {
        // Move the old pack aside onto an empty directory of our own, put the new one in
        // place, then drop the old one (its guard deletes it).
        let old = tempfile::Builder::new()
            .prefix(&format!(".{name}.old-"))
            .tempdir_in(parent)?;
        std::fs::rename(out, old.path())?;
        if let Err(e) = std::fs::rename(staging.path(), out) {
            std::fs::rename(old.path(), out)?;
            return Err(e);
        }
    } else {
        std::fs::rename(staging.path(), out)?;
    }
    Ok(())
}
