//! `dualtrack-bench to-yaml FILE.json OUT.yaml`: rewrites a JSON inventory as one block-style
//! YAML file (a list item per record, a line per field; values as JSON scalars, which YAML
//! reads as the same values), record by record, so the YAML input path can be measured.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use dualtrack_engine::scan;
use serde_json::{Map, Value};

/// Converts `json` into the YAML file `out`.
pub fn convert(json: &Path, out: &Path) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut failed: Option<std::io::Error> = None;
    let mut current = "";
    let name: Arc<str> = Arc::from(json.display().to_string());
    let problems = scan::scan(
        BufReader::new(File::open(json)?),
        &name,
        None,
        &["systems", "identities", "entitlements"],
        |section, bytes, _| {
            let mut done = Ok(());
            if current != section {
                current = match section {
                    "systems" => "systems",
                    "identities" => "identities",
                    _ => "entitlements",
                };
                done = writeln!(w, "{section}:");
            }
            let done = done.and_then(|()| record(&mut w, bytes));
            if let Err(e) = done {
                failed.get_or_insert(e);
            }
        },
    );
    if let Some(e) = failed {
        return Err(e);
    }
    if let Some(p) = problems.0.first() {
        return Err(std::io::Error::other(format!("{}: {}", p.at(), p.message)));
    }
    w.flush()
}

fn record(w: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    let record: Map<String, Value> = serde_json::from_slice(bytes)?;
    let mut lead = "  - ";
    for (k, v) in &record {
        writeln!(w, "{lead}{k}: {}", serde_json::to_string(v)?)?;
        lead = "    ";
    }
    Ok(())
}
