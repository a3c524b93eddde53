//! `dualtrack-bench to-yaml FILE.json OUT.yaml`: rewrites a JSON inventory as one block-style
//! YAML file (a list item per record, a line per field; values as JSON scalars, which YAML
//! reads as the same values), record by record, so the YAML input path can be measured.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde_json::{Map, Value};

/// Converts `json` into the YAML file `out`.
pub fn convert(json: &Path, out: &Path) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut current = String::new();
    crate::records::for_each(json, |section, bytes| {
        if current != section {
            current = section.to_owned();
            writeln!(w, "{section}:")?;
        }
        record(&mut w, bytes)
    })?;
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
