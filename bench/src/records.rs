//! Reading a JSON inventory record by record, for the converters (`to-csv`, `to-yaml`).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use dualtrack_engine::scan;

/// Calls `each(section, bytes)` for every record of the JSON inventory `json`, in file
/// order, with the engine's own scanner. The first error `each` returns, or the file's
/// first structural problem, ends the conversion.
pub fn for_each(json: &Path, mut each: impl FnMut(&str, &[u8]) -> std::io::Result<()>) -> std::io::Result<()> {
    let mut failed: Option<std::io::Error> = None;
    let name: Arc<str> = Arc::from(json.display().to_string());
    let problems = scan::scan(
        BufReader::new(File::open(json)?),
        &name,
        None,
        &["systems", "identities", "entitlements"],
        |section, bytes, _| {
            if failed.is_none() {
                failed = each(section, bytes).err();
            }
        },
    );
    if let Some(e) = failed {
        return Err(e);
    }
    match problems.0.first() {
        Some(p) => Err(std::io::Error::other(format!("{}: {}", p.at(), p.message))),
        None => Ok(()),
    }
}
