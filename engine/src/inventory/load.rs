//! Finding and reading inventory files: one YAML/JSON file, or a directory of
//! `systems.*`, `identities.*`, `entitlements.*` in YAML, JSON or CSV.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{suggest, Code, Problem, Problems};
use crate::json::Top;
use crate::node::{csv_row, Node, Value};
use crate::source::{Loc, Source};

use super::decode::{self, ENTITLEMENT_FIELDS, IDENTITY_FIELDS, SYSTEM_FIELDS};
use super::{validate, Interner, Inventory};

const SECTIONS: &[&str] = &["systems", "identities", "entitlements"];
const EXTENSIONS: &[&str] = &["yaml", "yml", "json", "csv"];

/// Loads and validates an inventory. Every problem found is returned, not only the first;
/// `Err` when any is an error. The second value names the files read. Once the inventory
/// is valid its text is released (records keep file and line), so memory holds records,
/// not the input as well.
pub fn load(path: &Path) -> Result<(Inventory, Vec<String>), Problems> {
    let mut sink = Problems::default();
    let mut inv = Inventory::default();
    let mut read = Vec::new();
    if path.is_dir() {
        for section in SECTIONS {
            let candidates: Vec<PathBuf> = EXTENSIONS
                .iter()
                .map(|ext| path.join(format!("{section}.{ext}")))
                .filter(|p| p.is_file())
                .collect();
            match candidates.as_slice() {
                [] => sink.push(
                    Problem::error(
                        Code::Layout,
                        None,
                        format!("inventory directory `{}` has no `{section}` file", path.display()),
                    )
                    .with_help(format!(
                        "add `{section}.yaml`, `{section}.json` or `{section}.csv` (it may hold an empty list)"
                    )),
                ),
                [one] => {
                    if let Some(src) = read_source(one, &mut sink) {
                        read_section(&src, section, &mut inv, &mut sink);
                        read.push(src);
                    }
                }
                many => sink.push(
                    Problem::error(
                        Code::Layout,
                        None,
                        format!(
                            "inventory directory `{}` has several `{section}` files: {}",
                            path.display(),
                            many.iter()
                                .map(|p| format!("`{}`", p.display()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .with_help("keep exactly one file per section"),
                ),
            }
        }
    } else if let Some(src) = read_source(path, &mut sink) {
        if extension(&src) == "json" {
            read_json(&src, None, &mut inv, &mut sink);
        } else {
            match crate::yaml::parse(&src) {
                Ok(root) => read_whole(&root, &mut inv, &mut sink),
                Err(p) => sink.push(p),
            }
        }
        read.push(src);
    }
    validate::check(&mut inv, &mut sink);
    sink.sort();
    if sink.has_errors() {
        Err(sink)
    } else {
        let names = read.iter().map(|s| s.name().to_owned()).collect();
        // Warnings keep the text (they render with their snippet); records release theirs.
        inv.warnings = sink;
        release_text(&mut inv, &read);
        inv.strings = Interner::default();
        Ok((inv, names))
    }
}

fn read_source(path: &Path, sink: &mut Problems) -> Option<Arc<Source>> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(Source::new(path.display().to_string(), text)),
            Err(e) => {
                let src = Source::new(
                    path.display().to_string(),
                    String::from_utf8_lossy(e.as_bytes()).into_owned(),
                );
                let at = e.utf8_error().valid_up_to();
                sink.push(
                    Problem::error(Code::Syntax, Some(src.loc(at, 1)), "file is not valid UTF-8")
                        .with_help("save the file as UTF-8"),
                );
                None
            }
        },
        Err(e) => {
            sink.push(
                Problem::error(
                    Code::Io,
                    None,
                    format!("cannot read `{}`: {}", path.display(), e.to_string().to_lowercase()),
                )
                .with_help("check the path given to `--inventory`"),
            );
            None
        }
    }
}

fn extension(src: &Source) -> String {
    Path::new(src.name())
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Reads a JSON inventory record by record (never holding the whole document's tree):
/// the whole inventory when `only` is `None`, else one section's file.
fn read_json(src: &Arc<Source>, only: Option<&str>, inv: &mut Inventory, sink: &mut Problems) {
    // Entitlements dominate a large inventory; reserving for a typical record size (about
    // 160 bytes of JSON) spares the copies of repeated growth. Untouched capacity is only
    // address space, not resident memory.
    if only.is_none_or(|o| o == "entitlements") {
        inv.entitlements.reserve(src.text().len() / 160);
    }
    let mut records = Problems::default();
    let top = crate::json::stream(src, |key, node| match key.or(only) {
        Some(section) if SECTIONS.contains(&section) && only.is_none_or(|o| o == section) => {
            push_record(&node, section, inv, &mut records)
        }
        _ => {}
    });
    sink.0.append(&mut records.0);
    let keys = match top {
        Err(p) => return sink.push(p),
        Ok(Top::List) if only.is_some() => return,
        Ok(Top::Object(keys)) => keys,
        Ok(Top::List | Top::Other(_)) => {
            return sink.push(
                Problem::error(
                    Code::Shape,
                    Some(src.whole()),
                    "an inventory file must be a JSON object",
                )
                .with_help("an inventory file holds the keys `systems`, `identities` and `entitlements`"),
            );
        }
    };
    let expected: Vec<&str> = only.map_or_else(|| SECTIONS.to_vec(), |o| vec![o]);
    for (key, key_loc, value) in &keys {
        if !expected.contains(&key.as_str()) {
            sink.push(
                Problem::error(
                    Code::UnknownField,
                    Some(key_loc.clone()),
                    format!("unknown section `{key}` in inventory"),
                )
                .with_help(suggest(key, &expected)),
            );
        } else if let Some(v) = value.as_ref().filter(|v| !matches!(v.value, Value::Null)) {
            sink.push(Problem::error(
                Code::Shape,
                Some(v.loc.clone()),
                format!("`{key}` must be a list, found {}", v.kind()),
            ));
        }
    }
    for section in expected {
        if !keys.iter().any(|(k, _, _)| k == section) {
            sink.push(
                Problem::error(
                    Code::MissingField,
                    Some(src.whole()),
                    format!("inventory has no `{section}` section"),
                )
                .with_help(format!("add `\"{section}\": []`")),
            );
        }
    }
}

fn read_whole(root: &Node, inv: &mut Inventory, sink: &mut Problems) {
    let entries = match root.as_map("an inventory file") {
        Ok(e) => e,
        Err(p) => {
            sink.push(p.with_help("an inventory file holds the keys `systems`, `identities` and `entitlements`"));
            return;
        }
    };
    for (key, _, key_loc) in entries {
        if !SECTIONS.contains(&key.as_str()) {
            sink.push(
                Problem::error(
                    Code::UnknownField,
                    Some(key_loc.clone()),
                    format!("unknown section `{key}` in inventory"),
                )
                .with_help(suggest(key, SECTIONS)),
            );
        }
    }
    for section in SECTIONS {
        match entries.iter().find(|(k, _, _)| k == section) {
            Some((_, node, _)) => read_records(node, section, inv, sink),
            None => sink.push(
                Problem::error(
                    Code::MissingField,
                    Some(root.loc.clone()),
                    format!("inventory has no `{section}` section"),
                )
                .with_help(format!("add `{section}:` (an empty list `[]` is fine)")),
            ),
        }
    }
}

fn read_section(src: &Arc<Source>, section: &str, inv: &mut Inventory, sink: &mut Problems) {
    match extension(src).as_str() {
        "csv" => return read_csv(src, section, inv, sink),
        "json" => return read_json(src, Some(section), inv, sink),
        _ => {}
    }
    let root = match crate::yaml::parse(src) {
        Ok(r) => r,
        Err(p) => {
            sink.push(p);
            return;
        }
    };
    // A section file is a bare list, or a map whose single key is the section name.
    if let Value::Map(entries) = &root.value {
        for (key, node, key_loc) in entries {
            if key == section {
                read_records(node, section, inv, sink);
            } else {
                sink.push(
                    Problem::error(
                        Code::UnknownField,
                        Some(key_loc.clone()),
                        format!("unknown key `{key}` in the `{section}` file"),
                    )
                    .with_help(format!("this file holds only `{section}:`")),
                );
            }
        }
        if !entries.iter().any(|(k, _, _)| k == section) {
            sink.push(
                Problem::error(
                    Code::MissingField,
                    Some(root.loc.clone()),
                    format!("no `{section}` list in this file"),
                )
                .with_help(format!("put the records under `{section}:`")),
            );
        }
    } else if matches!(root.value, Value::Null) {
        // An empty file is an empty section.
    } else {
        read_records(&root, section, inv, sink);
    }
}

fn read_records(node: &Node, section: &str, inv: &mut Inventory, sink: &mut Problems) {
    if matches!(node.value, Value::Null) {
        return;
    }
    let items = match node.as_seq(&format!("`{section}`")) {
        Ok(i) => i,
        Err(p) => {
            sink.push(p);
            return;
        }
    };
    for item in items {
        push_record(item, section, inv, sink);
    }
}

fn push_record(item: &Node, section: &str, inv: &mut Inventory, sink: &mut Problems) {
    match section {
        "systems" => inv.systems.extend(decode::system(item, sink)),
        "identities" => inv.identities.extend(decode::identity(item, sink)),
        _ => inv
            .entitlements
            .extend(decode::entitlement(item, sink, &mut inv.strings)),
    }
}

fn read_csv(src: &Arc<Source>, section: &str, inv: &mut Inventory, sink: &mut Problems) {
    let allowed = match section {
        "systems" => SYSTEM_FIELDS,
        "identities" => IDENTITY_FIELDS,
        _ => ENTITLEMENT_FIELDS,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(src.text().as_bytes());
    let header_loc = src.loc_to_eol(0);
    let headers: Vec<(String, Loc)> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|h| (h.trim().trim_start_matches('\u{feff}').to_owned(), header_loc.clone()))
            .collect(),
        Err(e) => {
            sink.push(csv_error(src, &e));
            return;
        }
    };
    let mut known = Vec::with_capacity(headers.len());
    for (h, loc) in &headers {
        if allowed.contains(&h.as_str()) {
            known.push((h.clone(), loc.clone()));
        } else {
            sink.push(
                Problem::error(
                    Code::UnknownField,
                    Some(loc.clone()),
                    format!("unknown column `{h}` in `{section}` CSV"),
                )
                .with_label("header row")
                .with_help(suggest(h, allowed)),
            );
            // Keep the slot so later cells stay aligned; the column is ignored after reporting.
            known.push((String::new(), loc.clone()));
        }
    }
    for result in reader.records() {
        match result {
            Ok(rec) => {
                let offset = rec.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
                let cells: Vec<String> = rec.iter().map(str::to_owned).collect();
                let mut row = csv_row(src, offset, &known, &cells);
                if let Value::Map(entries) = &mut row.value {
                    entries.retain(|(k, _, _)| !k.is_empty());
                }
                push_record(&row, section, inv, sink);
            }
            Err(e) => sink.push(csv_error(src, &e)),
        }
    }
}

fn csv_error(src: &Arc<Source>, e: &csv::Error) -> Problem {
    let offset = e.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
    let msg = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("row has {len} cells, the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "row is not valid UTF-8".to_owned(),
        _ => e.to_string().to_lowercase(),
    };
    Problem::error(
        Code::Syntax,
        Some(src.loc_to_eol(offset)),
        format!("invalid CSV: {msg}"),
    )
    .with_help("every row needs one cell per header column; quote cells that contain commas")
}

/// Points every record's locations at a text-less stand-in of its file, dropping the text.
fn release_text(inv: &mut Inventory, read: &[Arc<Source>]) {
    let stand_ins: Vec<(Arc<Source>, Arc<Source>)> = read
        .iter()
        .map(|s| (Arc::clone(s), Source::released(s.name())))
        .collect();
    let swap = |loc: &mut Loc| {
        if let Some((_, to)) = stand_ins.iter().find(|(from, _)| Arc::ptr_eq(from, &loc.src)) {
            loc.src = Arc::clone(to);
        }
    };
    for s in &mut inv.systems {
        swap(&mut s.loc);
        s.owner.iter_mut().for_each(|o| swap(&mut o.loc));
    }
    for i in &mut inv.identities {
        swap(&mut i.loc);
        i.owner
            .iter_mut()
            .chain(i.manager.iter_mut())
            .for_each(|o| swap(&mut o.loc));
    }
    for e in &mut inv.entitlements {
        swap(&mut e.loc);
        swap(&mut e.identity.loc);
        swap(&mut e.system.loc);
        e.functions.iter_mut().for_each(|f| swap(&mut f.loc));
    }
}
