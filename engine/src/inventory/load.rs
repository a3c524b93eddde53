//! Finding and reading inventory files: one YAML/JSON file, or a directory of
//! `systems.*`, `identities.*`, `entitlements.*` in YAML, JSON or CSV.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{suggest, Code, Problem, Problems};
use crate::limits::{size, MAX_CSV_FIELD_BYTES};
use crate::node::{csv_row, csv_row_cells, Node, Value};
use crate::scan::Span;
use crate::source::{Loc, Source};

use super::decode::{self, ENTITLEMENT_FIELDS, IDENTITY_FIELDS, SYSTEM_FIELDS};
use super::{validate, Interner, Inventory};

pub(crate) const SECTIONS: &[&str] = &["systems", "identities", "entitlements"];
const EXTENSIONS: &[&str] = &["yaml", "yml", "json", "csv"];

/// Another kind of document an inventory path may name, told apart by the caller that
/// knows it (a sources file): `json_head` looks at a JSON file's start, `root` at a parsed
/// YAML or JSON document.
#[derive(Clone, Copy)]
pub struct Others {
    /// True when the start of a JSON file shows it is another kind of document.
    pub json_head: fn(&Path) -> bool,
    /// True when a parsed document is another kind.
    pub root: fn(&Node) -> bool,
}

impl Others {
    /// Inventories only: every document is read as one.
    pub const NONE: Others = Others {
        json_head: |_| false,
        root: |_| false,
    };
}

/// A document [`Others`] recognised, handed back unread as an inventory.
pub struct Foreign {
    /// Its text.
    pub src: Arc<Source>,
    /// Parsed, with locations.
    pub root: Node,
}

/// Loads and validates a native inventory (a file or a directory; no sources file). Every
/// problem found is returned, not only the first; `Err` when any is an error. The second
/// value names the files read.
pub fn load_native(path: &Path) -> Result<(Inventory, Vec<String>), Problems> {
    let mut sink = Problems::default();
    let mut inv = Inventory::default();
    let mut read = Vec::new();
    // Nothing is foreign, so nothing is handed back.
    let _ = read_path(path, Others::NONE, &mut inv, &mut sink, &mut read);
    finish(inv, sink).map(|inv| (inv, read))
}

/// Validates the records read into `inv` (with the problems found reading them). Once
/// the inventory is valid its text is released (records keep file and line), so memory
/// holds records, not the input as well.
pub fn finish(mut inv: Inventory, mut sink: Problems) -> Result<Inventory, Problems> {
    validate::check(&mut inv, &mut sink);
    sink.sort();
    if sink.has_errors() {
        Err(sink)
    } else {
        // Warnings keep the text (they render with their snippet); records release theirs.
        inv.warnings = sink;
        release_text(&mut inv);
        inv.strings = Interner::default();
        Ok(inv)
    }
}

/// Reads an inventory file or directory into `inv` without validating it; the files read
/// are added to `read`. A file that `others` recognises is handed back unread.
pub fn read_path(
    path: &Path,
    others: Others,
    inv: &mut Inventory,
    sink: &mut Problems,
    read: &mut Vec<String>,
) -> Option<Foreign> {
    if path.is_dir() {
        for (section, file) in section_files(path, sink) {
            read_section_file(&file, section, inv, sink);
            read.push(file.display().to_string());
        }
    } else if is_json(path) && streamable(path) && !(others.json_head)(path) {
        read_json(path, None, inv, sink);
        read.push(path.display().to_string());
    } else if let Some(src) = read_source(path, sink) {
        // YAML entitlements are decoded as the parser completes each one, into `streamed`:
        // holding every record as a node first would take several times the file's size.
        let mut streamed = (Inventory::default(), Problems::default());
        let root = if is_json(path) {
            crate::json::value(&src)
        } else {
            let (ents, problems) = (&mut streamed.0, &mut streamed.1);
            let root = crate::yaml::parse_streamed(&src, "entitlements", &mut |item| {
                push_record(&item, "entitlements", ents, problems);
            });
            match root {
                // Another kind of document is read from its whole tree, as it was written.
                Ok(r) if (others.root)(&r) => crate::yaml::parse(&src),
                other => other,
            }
        };
        match root {
            Ok(root) if (others.root)(&root) => return Some(Foreign { src, root }),
            Ok(root) => {
                read_whole(&root, inv, sink);
                if inv.entitlements.is_empty() {
                    // Taken, not copied: a copy would hold the records twice for a moment.
                    inv.entitlements = std::mem::take(&mut streamed.0.entitlements);
                } else {
                    inv.entitlements.append(&mut streamed.0.entitlements);
                }
                sink.0.append(&mut streamed.1 .0);
                read.push(src.name().to_owned());
            }
            Err(p) => {
                sink.push(p);
                read.push(src.name().to_owned());
            }
        }
    }
    None
}

/// The one file of each section in an inventory directory; a missing or doubled section
/// is reported.
pub(crate) fn section_files(dir: &Path, sink: &mut Problems) -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    for section in SECTIONS {
        let candidates: Vec<PathBuf> = EXTENSIONS
            .iter()
            .map(|ext| dir.join(format!("{section}.{ext}")))
            .filter(|p| p.is_file())
            .collect();
        match candidates.as_slice() {
            [] => sink.push(
                Problem::error(
                    Code::Layout,
                    None,
                    format!("inventory directory `{}` has no `{section}` file", dir.display()),
                )
                .with_help(format!(
                    "add `{section}.yaml`, `{section}.json` or `{section}.csv` (it may hold an empty list)"
                )),
            ),
            [one] => out.push((*section, one.clone())),
            many => sink.push(
                Problem::error(
                    Code::Layout,
                    None,
                    format!(
                        "inventory directory `{}` has several `{section}` files: {}",
                        dir.display(),
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
    out
}

/// Reads one section's file (YAML, JSON or CSV) into `inv`.
pub(crate) fn read_section_file(file: &Path, section: &str, inv: &mut Inventory, sink: &mut Problems) {
    if is_json(file) && streamable(file) {
        read_json(file, Some(section), inv, sink);
    } else if let Some(src) = read_source(file, sink) {
        read_section(&src, section, inv, sink);
    }
}

/// Decodes and validates records written inline in another YAML document (a policy test
/// case holds its own `systems`, `identities` and `entitlements`): each section is the node
/// under that key, `None` when the key is absent (an empty section). Problems are the ones
/// [`load_native`] reports for the same records; the text is kept, so they show their snippet.
pub fn from_nodes(
    systems: Option<&Node>,
    identities: Option<&Node>,
    entitlements: Option<&Node>,
) -> Result<Inventory, Problems> {
    let mut sink = Problems::default();
    let mut inv = Inventory::default();
    for (section, node) in SECTIONS.iter().zip([systems, identities, entitlements]) {
        if let Some(node) = node {
            read_records(node, section, &mut inv, &mut sink);
        }
    }
    validate::check(&mut inv, &mut sink);
    sink.sort();
    if sink.has_errors() {
        return Err(sink);
    }
    inv.warnings = sink;
    inv.strings = Interner::default();
    Ok(inv)
}

fn read_source(path: &Path, sink: &mut Problems) -> Option<Arc<Source>> {
    crate::text::read(path, "--inventory").map_err(|p| sink.push(p)).ok()
}

fn extension(src: &Source) -> String {
    Path::new(src.name())
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// True when the file at `path` can be read as a stream (UTF-8, or refused as the whole
/// file would be); a UTF-16 file is decoded whole instead.
pub fn streamable(path: &Path) -> bool {
    crate::text::sniff_file(path).streamable()
}

/// True when `path` names a JSON file.
pub fn is_json(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Opens `path` for reading, or reports why it cannot be read.
pub(crate) fn open(path: &Path, sink: &mut Problems) -> Option<std::fs::File> {
    match std::fs::File::open(path) {
        Ok(f) => Some(f),
        Err(e) => {
            sink.push(io_problem(path, &e));
            None
        }
    }
}

fn io_problem(path: &Path, e: &std::io::Error) -> Problem {
    Problem::error(
        Code::Io,
        None,
        format!("cannot read `{}`: {}", path.display(), e.to_string().to_lowercase()),
    )
    .with_help("check the path given to `--inventory`")
}

/// Parses one record read back from a JSON file (see [`crate::scan`]).
pub(crate) fn json_record(name: &Arc<str>, bytes: &[u8], span: Span) -> Result<Node, Problem> {
    let src = span.window(name, bytes)?;
    crate::json::value(&src)
}

/// Reads a JSON inventory file record by record, a few megabytes at a time: the whole
/// inventory when `only` is `None`, else one section's file.
fn read_json(path: &Path, only: Option<&str>, inv: &mut Inventory, sink: &mut Problems) {
    let Some(file) = open(path, sink) else { return };
    let name: Arc<str> = Arc::from(path.display().to_string());
    let mut records = Problems::default();
    let mut structure = crate::scan::scan(
        std::io::BufReader::new(file),
        &name,
        only,
        SECTIONS,
        |section, bytes, span| match json_record(&name, bytes, span) {
            Ok(node) => push_record(&node, section, inv, &mut records),
            Err(p) => records.push(p),
        },
    );
    sink.0.append(&mut records.0);
    sink.0.append(&mut structure.0);
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
    if extension(src) == "csv" {
        return read_csv(src, section, inv, sink);
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

pub(crate) fn push_record(item: &Node, section: &str, inv: &mut Inventory, sink: &mut Problems) {
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
    for row in csv_rows(src, section, allowed, sink) {
        push_record(&row, section, inv, sink);
    }
}

/// The rows of a CSV file whose header names fields of `allowed`, each as a located map
/// (unknown columns are reported and left out; bad rows are reported and skipped).
pub(crate) fn csv_rows(src: &Arc<Source>, what: &str, allowed: &[&str], sink: &mut Problems) -> Vec<Node> {
    let delimiter = delimiter_of(src.text());
    csv_rows_from(src, 0, delimiter, true, what, allowed, sink)
}

/// [`csv_rows`] of the text from byte `start` on (a line before the header is not data),
/// with fields separated by `delimiter`; with `locate_cells` each cell is located at its own
/// text, not at its row.
pub(crate) fn csv_rows_from(
    src: &Arc<Source>,
    start: usize,
    delimiter: u8,
    locate_cells: bool,
    what: &str,
    allowed: &[&str],
    sink: &mut Problems,
) -> Vec<Node> {
    let body = src.text().get(start..).unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .delimiter(delimiter)
        .from_reader(body.as_bytes());
    let cells: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
            .collect(),
        Err(e) => {
            sink.push(csv_error_at(
                src.loc_to_eol(start + record_start(body, e.position())),
                &e,
            ));
            return Vec::new();
        }
    };
    let known = csv_headers_at(src, start, what, allowed, cells, sink);
    let mut out = Vec::new();
    for result in reader.records() {
        match result {
            Ok(rec) => {
                let offset = start + record_start(body, rec.position());
                if let Some(p) = csv_field_too_large(&rec, || src.loc_to_eol(offset)) {
                    sink.push(p);
                    continue;
                }
                let cells: Vec<String> = rec.iter().map(str::to_owned).collect();
                let mut row = if locate_cells {
                    csv_row_cells(src, offset, delimiter, &known, &cells)
                } else {
                    csv_row(src, offset, &known, &cells)
                };
                if let Value::Map(entries) = &mut row.value {
                    entries.retain(|(k, _, _)| !k.is_empty());
                }
                out.push(row);
            }
            Err(e) => sink.push(csv_error_at(
                src.loc_to_eol(start + record_start(body, e.position())),
                &e,
            )),
        }
    }
    out
}

/// The separator a CSV header line uses: the most frequent of `,`, `;`, tab and `|`
/// outside quotes (`,` when none occurs).
pub(crate) fn delimiter_of(body: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for b in body.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                    c.1 += 1;
                }
            }
            _ => {}
        }
    }
    // The first of the most frequent, so `,` wins a tie.
    counts
        .iter()
        .fold((b',', 0), |best, c| if c.1 > best.1 { *c } else { best })
        .0
}

/// True when the CSV file at `path` separates its header's fields with `,` (the streamed
/// reader's separator); a file that cannot be read counts as such (its reader reports it).
pub fn comma_separated(path: &Path) -> bool {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(4096);
    let read = std::fs::File::open(path).and_then(|f| f.take(4096).read_to_end(&mut head));
    read.is_err() || delimiter_of(&String::from_utf8_lossy(&head)) == b','
}

/// The DT112 problem for a row with a field larger than [`MAX_CSV_FIELD_BYTES`], at `loc()`.
pub(crate) fn csv_field_too_large(row: &csv::StringRecord, loc: impl FnOnce() -> Loc) -> Option<Problem> {
    row.iter().any(|f| f.len() > MAX_CSV_FIELD_BYTES).then(|| {
        Problem::error(
            Code::Limit,
            Some(loc()),
            format!("CSV field is larger than {}", size(MAX_CSV_FIELD_BYTES)),
        )
        .with_label("this row")
        .with_help("shorten the field, or check for an unbalanced `\"` that runs into later rows")
    })
}

/// The header cells of a CSV section, each with the header line's location; an unknown
/// or repeated column is reported and keeps an empty name, so later cells stay aligned and
/// are ignored.
pub(crate) fn csv_headers(
    src: &Arc<Source>,
    section: &str,
    allowed: &[&str],
    cells: Vec<String>,
    sink: &mut Problems,
) -> Vec<(String, Loc)> {
    csv_headers_at(src, 0, section, allowed, cells, sink)
}

/// [`csv_headers`] of a header row at byte `start`.
fn csv_headers_at(
    src: &Arc<Source>,
    start: usize,
    section: &str,
    allowed: &[&str],
    cells: Vec<String>,
    sink: &mut Problems,
) -> Vec<(String, Loc)> {
    let loc = src.loc_to_eol(start);
    let mut known: Vec<(String, Loc)> = Vec::with_capacity(cells.len());
    for h in cells {
        let allowed_here = allowed.contains(&h.as_str());
        if allowed_here && known.iter().any(|(k, _)| *k == h) {
            // As a key twice in a YAML or JSON map: which cell would count is a guess.
            sink.push(
                Problem::error(
                    Code::DuplicateKey,
                    Some(loc.clone()),
                    format!("column `{h}` appears twice in `{section}` CSV"),
                )
                .with_label("header row")
                .with_help("each column may appear once in the header; remove or rename one"),
            );
            known.push((String::new(), loc.clone()));
        } else if allowed_here {
            known.push((h, loc.clone()));
        } else {
            sink.push(
                Problem::error(
                    Code::UnknownField,
                    Some(loc.clone()),
                    format!("unknown column `{h}` in `{section}` CSV"),
                )
                .with_label("header row")
                .with_help(suggest(&h, allowed)),
            );
            known.push((String::new(), loc.clone()));
        }
    }
    known
}

/// A CSV error at its position in `src`.
pub(crate) fn csv_error(src: &Arc<Source>, e: &csv::Error) -> Problem {
    csv_error_at(src.loc_to_eol(record_start(src.text(), e.position())), e)
}

/// The offset in `src` of the record the csv reader says is at `position`: after a `\r\n`
/// line end the reader places the next record at the `\n`, whose line is the one before.
fn record_start(text: &str, position: Option<&csv::Position>) -> usize {
    let offset = position.map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
    if text.as_bytes().get(offset) == Some(&b'\n') {
        offset + 1
    } else {
        offset
    }
}

/// A CSV error at `loc`.
pub(crate) fn csv_error_at(loc: Loc, e: &csv::Error) -> Problem {
    let msg = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("row has {len} cells, the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { pos, .. } => {
            let row = pos.as_ref().map_or(0, csv::Position::byte);
            return Problem::error(
                Code::Encoding,
                Some(loc),
                format!("file is not valid UTF-8 in the row at byte offset {row}"),
            )
            .with_label("not UTF-8")
            .with_help("save the file as UTF-8 (in Excel: \"CSV UTF-8\")");
        }
        _ => e.to_string().to_lowercase(),
    };
    Problem::error(Code::Syntax, Some(loc), format!("invalid CSV: {msg}"))
        .with_help("every row needs one cell per header column; quote cells that contain commas")
}

/// Points every record's locations at a text-less stand-in of its file (same name and
/// line), dropping the text the records were read from.
pub(crate) fn release_text(inv: &mut Inventory) {
    let mut stand_ins: Vec<Arc<Source>> = Vec::new();
    let mut last: Option<(Arc<Source>, Arc<Source>)> = None;
    let mut swap = |loc: &mut Loc| {
        if loc.src.is_released() {
            return;
        }
        if let Some((from, to)) = &last {
            if Arc::ptr_eq(from, &loc.src) {
                loc.src = Arc::clone(to);
                return;
            }
        }
        let name = loc.src.name();
        let to = match stand_ins.iter().find(|s| s.name() == name) {
            Some(s) => Arc::clone(s),
            None => {
                let s = Source::released(name);
                stand_ins.push(Arc::clone(&s));
                s
            }
        };
        last = Some((std::mem::replace(&mut loc.src, Arc::clone(&to)), to));
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
            .chain(i.parent.iter_mut())
            .chain(i.sponsors.iter_mut())
            .chain(i.delegators.iter_mut())
            .for_each(|o| swap(&mut o.loc));
    }
    for e in &mut inv.entitlements {
        swap(&mut e.loc);
        swap(&mut e.identity.loc);
        swap(&mut e.system.loc);
        e.functions.iter_mut().for_each(|f| swap(&mut f.loc));
    }
}

/// An inventory from YAML text with `systems`, `identities` and `entitlements` keys, for
/// unit tests elsewhere in the engine; panics on text that is not one.
#[cfg(test)]
#[allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a broken test fixture is a failed test"
)]
pub(crate) fn from_yaml(text: &str) -> Inventory {
    let src = Source::new("test.yaml", text);
    let root = crate::yaml::parse(&src).expect("test YAML parses");
    let Value::Map(m) = &root.value else {
        panic!("test YAML is a map")
    };
    let get = |k: &str| m.iter().find(|(key, _, _)| key == k).map(|(_, n, _)| n);
    from_nodes(get("systems"), get("identities"), get("entitlements")).expect("test inventory is valid")
}
