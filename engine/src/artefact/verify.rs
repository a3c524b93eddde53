//! Checking a written artefact against its `manifest.json` before anything in it is
//! trusted: every output the manifest lists must be there with the same SHA-256, and
//! nothing else may be (the manifest and, later, its signature aside). Used for the
//! baseline pack of a delta review; every problem names the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::diag::{Code, Problem, Problems};
use crate::node::{Node, Value};
use crate::source::Loc;

use super::{sha256_hex, PACK_FORMAT};

/// Files in a pack directory that the manifest does not list by design.
const NOT_LISTED: &[&str] = &["manifest.json", "manifest.json.sig"];

/// A pack whose files all match its manifest.
#[derive(Debug)]
pub struct Verified {
    /// The pack directory.
    pub dir: PathBuf,
    /// The parsed manifest.
    pub manifest: Node,
    /// SHA-256 of `manifest.json` as read: it names the whole pack.
    pub manifest_sha256: String,
    /// The bytes of the verified files whose path starts with the `keep` prefix given.
    pub kept: BTreeMap<String, Vec<u8>>,
}

/// Verifies the pack at `dir` (`flag` names the option that gave it, for messages) and
/// keeps the bytes of the files under `keep`. `Err` names every missing, modified or extra
/// file, or says why the manifest cannot be read or is of an older format.
pub fn pack(dir: &Path, flag: &str, keep: &str) -> Result<Verified, Problems> {
    pack_reading(dir, flag, keep, |_| ()).map(|(verified, ())| verified)
}

/// [`pack`], and `read` run on the kept files as soon as their own bytes are verified,
/// while the rest of the pack is hashed on another thread (the files kept are small; the
/// others can be a gigabyte). What `read` gives is returned only when the whole pack
/// verifies.
pub fn pack_reading<T: Send>(
    dir: &Path,
    flag: &str,
    keep: &str,
    read: impl FnOnce(&BTreeMap<String, Vec<u8>>) -> T + Send,
) -> Result<(Verified, T), Problems> {
    let manifest_path = dir.join("manifest.json");
    if !dir.is_dir() {
        return Err(one(Problem::error(
            Code::Io,
            None,
            format!("`{flag} {}` is not a directory holding an evidence pack", dir.display()),
        )
        .with_help("give the directory `dualtrack evidence --out` wrote")));
    }
    let bytes = std::fs::read(&manifest_path)
        .map_err(|e| one(crate::text::io_problem(&manifest_path.display().to_string(), &e, flag)))?;
    let manifest_sha256 = sha256_hex(&bytes);
    let src = crate::text::decode(manifest_path.display().to_string(), bytes).map_err(one)?;
    let manifest = crate::json::value(&src).map_err(one)?;
    let mut sink = Problems::default();
    let listed = listed(&manifest, flag, &mut sink).ok_or_else(|| {
        let mut s = sink.clone();
        s.sort();
        s
    })?;
    let mut kept = BTreeMap::new();
    let mut names = BTreeSet::new();
    let mut others = Vec::new();
    for (rel, sha, loc) in &listed {
        names.insert(rel.clone());
        let Some(path) = inside(dir, rel) else {
            sink.push(tampered(
                loc,
                format!("the manifest lists `{rel}`, which is not a path inside the pack"),
            ));
            continue;
        };
        if !rel.starts_with(keep) {
            others.push((rel, sha, loc, path));
            continue;
        }
        // Files kept are read whole and verified first.
        match std::fs::read(&path) {
            Err(_) => sink.push(missing(loc, rel, dir)),
            Ok(b) if sha256_hex(&b) != *sha => sink.push(modified(loc, rel)),
            Ok(b) => {
                kept.insert(rel.clone(), b);
            }
        }
    }
    // The others (an OSCAL document of a million findings is close to a gigabyte) are
    // hashed as they are read, beside `read`; it runs only on kept files that verified.
    let read_kept = !sink.has_errors();
    let (hashed, value) = std::thread::scope(|s| {
        let hashing = s.spawn(|| {
            others
                .iter()
                .filter_map(|(rel, sha, loc, path)| match hash_file(path) {
                    Err(_) => Some(missing(loc, rel, dir)),
                    Ok(h) if h != **sha => Some(modified(loc, rel)),
                    Ok(_) => None,
                })
                .collect::<Vec<_>>()
        });
        let value = read_kept.then(|| read(&kept));
        (hashing.join(), value)
    });
    match hashed {
        Ok(problems) => sink.0.extend(problems),
        Err(_) => sink.push(Problem::error(
            Code::Io,
            Some(manifest.loc.clone()),
            format!("hashing the files of `{}` failed", dir.display()),
        )),
    }
    let mut found = Vec::new();
    walk(dir, dir, &mut found);
    for rel in found {
        if !names.contains(&rel) && !NOT_LISTED.contains(&rel.as_str()) {
            sink.push(tampered(
                &manifest.loc,
                format!("`{rel}` is in the pack but not in its manifest (a file was added)"),
            ));
        }
    }
    sink.sort();
    match value {
        Some(value) if !sink.has_errors() => Ok((
            Verified {
                dir: dir.to_path_buf(),
                manifest,
                manifest_sha256,
                kept,
            },
            value,
        )),
        _ => Err(sink),
    }
}

fn missing(loc: &Loc, rel: &str, dir: &Path) -> Problem {
    tampered(loc, format!("`{rel}` is missing from the pack at `{}`", dir.display()))
}

fn modified(loc: &Loc, rel: &str) -> Problem {
    tampered(
        loc,
        format!("`{rel}` was modified: its SHA-256 is not the one the manifest lists"),
    )
}

/// Lowercase hex SHA-256 of the file at `path`, read in pieces.
fn hash_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn one(p: Problem) -> Problems {
    Problems(vec![p])
}

fn tampered(loc: &Loc, message: String) -> Problem {
    Problem::error(Code::PackTampered, Some(loc.clone()), message).with_help(
        "a baseline must be the pack as it was signed off: restore it from where it is kept, \
         or build it again with `dualtrack evidence`",
    )
}

/// The outputs the manifest lists: (path, sha256, where listed). `None` after reporting a
/// manifest of another format or shape.
fn listed(manifest: &Node, flag: &str, sink: &mut Problems) -> Option<Vec<(String, String, Loc)>> {
    let Value::Map(entries) = &manifest.value else {
        sink.push(Problem::error(
            Code::PackFormat,
            Some(manifest.loc.clone()),
            "`manifest.json` is not a JSON object",
        ));
        return None;
    };
    let get = |key: &str| entries.iter().find(|(k, _, _)| k == key).map(|(_, n, _)| n);
    match get("format").map(|n| &n.value) {
        Some(Value::Str(s)) if s == PACK_FORMAT => {}
        Some(Value::Str(s)) => {
            sink.push(
                Problem::error(
                    Code::PackFormat,
                    get("format").map(|n| n.loc.clone()),
                    format!("the pack is of format `{s}`; this version reads `{PACK_FORMAT}`"),
                )
                .with_help("build the pack again with this version of `dualtrack evidence`"),
            );
            return None;
        }
        _ => {
            let by = match get("generator").map(|n| &n.value) {
                Some(Value::Str(g)) => format!(" (by {g})"),
                _ => String::new(),
            };
            sink.push(
                Problem::error(
                    Code::PackFormat,
                    Some(manifest.loc.clone()),
                    format!("the pack was written{by} before packs could serve as a baseline (`{PACK_FORMAT}`): it holds no reviewed inventory or decisions to compare with"),
                )
                .with_help(format!(
                    "build the previous campaign's pack again with this version (`dualtrack evidence` with its inventory, `--campaign`, `--decisions` and `--as-of`), then pass it to `{flag}`"
                )),
            );
            return None;
        }
    }
    let Some(Value::Seq(files)) = get("files").map(|n| &n.value) else {
        sink.push(Problem::error(
            Code::PackFormat,
            Some(manifest.loc.clone()),
            "`manifest.json` has no `files` list",
        ));
        return None;
    };
    let mut out = Vec::new();
    for item in files {
        let Value::Map(e) = &item.value else { continue };
        let text = |key: &str| {
            e.iter()
                .find(|(k, _, _)| k == key)
                .and_then(|(_, n, _)| match &n.value {
                    Value::Str(s) => Some(s.clone()),
                    _ => None,
                })
        };
        if text("role").as_deref() != Some("output") {
            continue;
        }
        match (text("path"), text("sha256")) {
            (Some(p), Some(h)) => out.push((p, h, item.loc.clone())),
            _ => sink.push(Problem::error(
                Code::PackFormat,
                Some(item.loc.clone()),
                "a manifest entry lacks its `path` or `sha256`",
            )),
        }
    }
    (!sink.has_errors()).then_some(out)
}

/// `dir/rel` when `rel` is a plain relative path with forward slashes.
fn inside(dir: &Path, rel: &str) -> Option<PathBuf> {
    let ok = !rel.is_empty()
        && !rel.starts_with('/')
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\'));
    ok.then(|| dir.join(rel))
}

/// Every file under `dir`, relative to `root` with forward slashes.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(root, &p, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
}
