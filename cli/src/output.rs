//! Writing what commands produce: their output on stdout, where a closed pipe is no error,
//! and artefact directories (an evidence pack, a campaign plan), written atomically: built
//! in a temporary directory beside `--out`, then renamed into place, so a half-written one
//! is never left behind, and an existing directory is replaced only when it holds an
//! earlier artefact and nothing else.

use std::io::Write;
use std::path::Path;

use dualtrack_engine::artefact::File;

use crate::exit::Failure;

/// What writing to stdout came to: a closed pipe (`| head`) is not an error worth a
/// message, and the exit code still counts; any other error stops the run with
/// `cannot write the {what}`.
pub fn written(result: std::io::Result<()>, what: &str) -> Result<(), Failure> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Error(format!("cannot write the {what}: {e}")))
        }
        _ => Ok(()),
    }
}

/// Prints `text` on stdout and flushes it, as [`written`] says.
pub fn print(text: &str, what: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    written(out.write_all(text.as_bytes()).and_then(|()| out.flush()), what)
}

/// True when `dir` holds an artefact of dualtrack (a pack or a plan) and nothing else: its `manifest.json`
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
pub fn write_atomically(out: &Path, files: &[File]) -> std::io::Result<()> {
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
