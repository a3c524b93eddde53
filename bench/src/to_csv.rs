//! `dualtrack-bench to-csv FILE.json DIR`: rewrites a JSON inventory as a directory —
//! `systems.json`, `identities.json` and `entitlements.csv` (list fields `;`-joined) — record
//! by record, so the CSV input path can be measured and tested at any size.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use dualtrack_engine::inventory::ENTITLEMENT_FIELDS;
use serde_json::{Map, Value};

/// Converts `json` into the directory `dir` (created if needed).
pub fn convert(json: &Path, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut sections = Vec::new();
    for section in ["systems", "identities"] {
        let mut w = BufWriter::new(File::create(dir.join(format!("{section}.json")))?);
        w.write_all(b"[\n")?;
        sections.push((section, w, 0usize));
    }
    let mut rows = csv::Writer::from_path(dir.join("entitlements.csv"))?;
    rows.write_record(ENTITLEMENT_FIELDS)?;
    crate::records::for_each(json, |section, bytes| {
        match sections.iter_mut().find(|(s, _, _)| *s == section) {
            Some((_, w, n)) => {
                *n += 1;
                w.write_all(if *n == 1 { b"  " } else { b",\n  " })?;
                w.write_all(bytes)
            }
            None => Ok(rows.write_record(row(bytes)?)?),
        }
    })?;
    for (_, mut w, _) in sections {
        w.write_all(b"\n]\n")?;
        w.flush()?;
    }
    rows.flush()
}

/// The CSV cells of one entitlement record, in `ENTITLEMENT_FIELDS` order.
fn row(bytes: &[u8]) -> std::io::Result<Vec<String>> {
    let record: Map<String, Value> = serde_json::from_slice(bytes)?;
    Ok(ENTITLEMENT_FIELDS
        .iter()
        .map(|f| match record.get(*f) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(";"),
            Some(other) => other.to_string(),
        })
        .collect())
}
