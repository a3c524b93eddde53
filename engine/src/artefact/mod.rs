//! Files a run writes as an artefact (a campaign plan, an evidence pack): the bytes with
//! their path, the inputs read with their SHA-256, and the manifest list that names both.
//! Shared by `campaign` and `evidence`, below both.

use serde_json::json;
use sha2::{Digest, Sha256};

/// One file of an artefact: path relative to its directory (forward slashes) and bytes.
pub type File = (String, Vec<u8>);

/// One input file read for the run, named as the user gave it (`builtin:…` for the pack).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// Path as given, or `builtin:…`.
    pub path: String,
    /// Lowercase hex SHA-256 of the bytes read.
    pub sha256: String,
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A manifest's `files`: every input (sorted) and every output, with its SHA-256 and role.
pub fn manifest_files(inputs: &[Input], files: &[File]) -> Vec<serde_json::Value> {
    let mut inputs: Vec<&Input> = inputs.iter().collect();
    inputs.sort();
    let mut list: Vec<serde_json::Value> = inputs
        .iter()
        .map(|i| json!({"path": i.path, "role": "input", "sha256": i.sha256}))
        .collect();
    list.extend(
        files
            .iter()
            .map(|(p, b)| json!({"path": p, "role": "output", "sha256": sha256_hex(b)})),
    );
    list
}

pub mod verify;

/// The format of an evidence pack this version writes and reads back as a baseline. A pack
/// without it was written before packs could serve as baselines.
pub const PACK_FORMAT: &str = "dualtrack-evidence/2";
