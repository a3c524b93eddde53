//! Property tests (proptest; the cargo-fuzz targets in `fuzz/` need nightly, these run on
//! stable in CI). Over every good fixture:
//!
//! - mutated files (byte flips, inserted bytes, truncation, duplicated and deleted lines)
//!   never make a loader panic: inventories in YAML, JSON and CSV form, exceptions,
//!   campaigns, decisions, policy tests and rule files (YAML and `.cedar`);
//! - the streamed check (`inventory::index` + `eval::stream`) agrees with loading
//!   everything (`inventory::load` + `eval::evaluate`): the same findings JSON when both
//!   evaluate, the same diagnostic codes and lines when both refuse the input;
//! - shuffling each section's records gives the same findings JSON, byte for byte once
//!   each finding's line is mapped back to where its record was before the shuffle.
//!
//! The YAML inventories of `tests/fixtures/rules/` and `examples/acme` are written out in
//! each form by the test (one record per line), so every form covers the same records.
//! Case counts are modest so the file runs in well under a minute in debug; raise them
//! with `PROPTEST_CASES` (cases per fixture) to search harder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::{TimeZone, Utc};
use dualtrack_engine::eval;
use dualtrack_engine::inventory::{ENTITLEMENT_FIELDS, IDENTITY_FIELDS, SYSTEM_FIELDS};
use dualtrack_engine::source::Source;
use dualtrack_engine::{
    campaign, decisions, exceptions, open, policy, policytest, render, Model, Options, Pack, Problems, Track,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::Value as Json;

use crate::common;

const SECTIONS: [&str; 3] = ["systems", "identities", "entitlements"];

// ---------------------------------------------------------------------------------------
// Set-up

struct Ctx {
    model: Model,
    pack: Pack,
    opts: Options,
}

fn ctx() -> &'static Ctx {
    static CTX: OnceLock<Ctx> = OnceLock::new();
    CTX.get_or_init(|| {
        let model = Model::load().unwrap();
        let pack = policy::load(policy::builtin_files(), &model).unwrap();
        let opts = Options {
            as_of: Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap(),
            tracks: Track::ALL.to_vec(),
        };
        Ctx { model, pack, opts }
    })
}

/// Cases per fixture: `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A runner with a fixed seed (CI runs are reproducible; a failure prints its minimal
/// input) that keeps no regression files.
fn runner(default_cases: u32) -> TestRunner {
    let config = Config {
        cases: cases(default_cases),
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

/// Runs `test` on `strategy` and panics with the minimal failing input.
fn check<S: Strategy>(what: &str, cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    if let Err(e) = runner(cases).run(&strategy, test) {
        panic!("{what}: {e}");
    }
}

// ---------------------------------------------------------------------------------------
// Inventory fixtures, written in each form

/// An inventory's records, by section.
#[derive(Debug, Clone)]
struct Records {
    name: String,
    sections: [Vec<Json>; 3],
}

/// The good YAML inventories: `tests/fixtures/rules/*.yaml` and `examples/acme`.
fn inventories() -> &'static [Records] {
    static ALL: OnceLock<Vec<Records>> = OnceLock::new();
    ALL.get_or_init(|| {
        let root = common::root();
        let section = |doc: &Json, s: &str| doc.get(s).and_then(Json::as_array).cloned().unwrap_or_default();
        let mut out = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures/rules"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        for f in files {
            let doc: Json = serde_yaml::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            out.push(Records {
                name: f.file_stem().unwrap().to_string_lossy().into_owned(),
                sections: SECTIONS.map(|s| section(&doc, s)),
            });
        }
        let acme = SECTIONS.map(|s| {
            let text = std::fs::read_to_string(root.join(format!("examples/acme/{s}.yaml"))).unwrap();
            section(&serde_yaml::from_str(&text).unwrap(), s)
        });
        out.push(Records {
            name: "acme".into(),
            sections: acme,
        });
        // CSV writes tags as `key=value;…`: a `;` inside a value (Acme's `used_by`) has no
        // CSV spelling, so every form gets the value with `,` instead.
        for r in &mut out {
            for rec in r.sections.iter_mut().flatten() {
                if let Some(Json::Object(tags)) = rec.get_mut("tags") {
                    for v in tags.values_mut() {
                        if let Json::String(s) = v {
                            *s = s.replace(';', ",");
                        }
                    }
                }
            }
        }
        out
    })
}

/// How an inventory is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// One YAML file.
    Yaml,
    /// One JSON file.
    Json,
    /// A directory of `systems.csv`, `identities.csv`, `entitlements.csv`.
    Csv,
}

const FORMS: [Form; 3] = [Form::Yaml, Form::Json, Form::Csv];

/// Written files: (file name, bytes, line of each record of each section it holds).
type Written = Vec<(String, Vec<u8>, Vec<(usize, usize, u32)>)>;

/// Writes `r` in `form`, each record on its own line, sections in `order` (indexes into
/// the records). Returns the files with the line of every (section, record).
fn write_form(r: &Records, form: Form, order: &[Vec<usize>; 3]) -> Written {
    match form {
        Form::Yaml | Form::Json => {
            let yaml = form == Form::Yaml;
            let mut text = String::new();
            let mut lines = Vec::new();
            let mut line = 1u32;
            if !yaml {
                text.push_str("{\n");
                line += 1;
            }
            for (s, name) in SECTIONS.iter().enumerate() {
                let recs = &order[s];
                let open = if yaml {
                    format!("{name}:")
                } else {
                    format!("\"{name}\": [")
                };
                text.push_str(&open);
                if recs.is_empty() {
                    text.push_str(if yaml { " []\n" } else { "]" });
                } else {
                    text.push('\n');
                }
                line += 1;
                for (k, &i) in recs.iter().enumerate() {
                    let rec = flow(&r.sections[s][i]);
                    if yaml {
                        text.push_str(&format!("  - {rec}\n"));
                    } else {
                        let comma = if k + 1 < recs.len() { "," } else { "" };
                        text.push_str(&format!("  {rec}{comma}\n"));
                    }
                    lines.push((s, i, line));
                    line += 1;
                }
                if !yaml {
                    if !recs.is_empty() {
                        // The closing bracket has a line of its own.
                        text.push(']');
                        line += 1;
                    }
                    text.push_str(if s + 1 < SECTIONS.len() { ",\n" } else { "\n" });
                }
            }
            if !yaml {
                text.push_str("}\n");
            }
            let name = if yaml { "inventory.yaml" } else { "inventory.json" };
            vec![(name.to_owned(), text.into_bytes(), lines)]
        }
        Form::Csv => SECTIONS
            .iter()
            .enumerate()
            .map(|(s, name)| {
                let fields = [SYSTEM_FIELDS, IDENTITY_FIELDS, ENTITLEMENT_FIELDS][s];
                let recs = &order[s];
                let used: Vec<&str> = fields
                    .iter()
                    .copied()
                    .filter(|f| recs.iter().any(|&i| r.sections[s][i].get(*f).is_some()))
                    .collect();
                let header = if used.is_empty() { vec!["id"] } else { used.clone() };
                let mut w = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::Any(b'\n'))
                    .from_writer(Vec::new());
                w.write_record(&header).unwrap();
                let mut lines = Vec::new();
                for (k, &i) in recs.iter().enumerate() {
                    let rec = &r.sections[s][i];
                    w.write_record(header.iter().map(|f| cell(rec.get(*f)))).unwrap();
                    lines.push((s, i, u32::try_from(k).unwrap() + 2));
                }
                (format!("{name}.csv"), w.into_inner().unwrap(), lines)
            })
            .collect(),
    }
}

/// JSON on one line with a space after each `:` and `,`, so it is flow YAML as well.
fn flow(v: &Json) -> String {
    match v {
        Json::Object(m) => {
            let entries: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", Json::from(k.as_str()), flow(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        Json::Array(items) => format!("[{}]", items.iter().map(flow).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

/// A CSV cell: lists `;`-joined, tags `key=value;…`.
fn cell(v: Option<&Json>) -> String {
    match v {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(Json::Array(items)) => items.iter().map(|i| cell(Some(i))).collect::<Vec<_>>().join(";"),
        Some(Json::Object(m)) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(Some(v))))
            .collect::<Vec<_>>()
            .join(";"),
        Some(other) => other.to_string(),
    }
}

fn identity_order(r: &Records) -> [Vec<usize>; 3] {
    [0, 1, 2].map(|s| (0..r.sections[s].len()).collect())
}

/// Writes `files` into a fresh directory under `tmp`; returns the path to load (the file
/// itself for YAML and JSON, the directory for CSV).
fn materialise(tmp: &Path, tag: &str, form: Form, files: &[(String, Vec<u8>)]) -> PathBuf {
    let dir = tmp.join(tag);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    match form {
        Form::Csv => dir,
        _ => dir.join(&files[0].0),
    }
}

// ---------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Clone)]
enum Mutation {
    /// Flip one bit of one byte.
    Flip(Index, u8),
    /// Insert a byte.
    Insert(Index, u8),
    /// Cut the file here.
    Truncate(Index),
    /// Write a line twice.
    DuplicateLine(Index),
    /// Leave a line out.
    DeleteLine(Index),
}

/// Bytes that mean something to YAML, JSON or CSV.
const SPECIAL: &[u8] = b"{}[],:\"'\n\r\t -#&*!|>%@`\\;=?\0\xef\xbb\xbf\xff";

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![any::<u8>(), prop::sample::select(SPECIAL)];
    prop_oneof![
        3 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        3 => (any::<Index>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => any::<Index>().prop_map(Mutation::DuplicateLine),
        2 => any::<Index>().prop_map(Mutation::DeleteLine),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..4)
}

/// Line spans `[start, end)` including the line break.
fn line_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push((start, bytes.len()));
    }
    out
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    match m {
        Mutation::Flip(i, bit) => {
            if !bytes.is_empty() {
                let at = i.index(bytes.len());
                bytes[at] ^= 1 << bit;
            }
        }
        Mutation::Insert(i, b) => {
            let at = i.index(bytes.len() + 1);
            bytes.insert(at, *b);
        }
        Mutation::Truncate(i) => {
            let at = i.index(bytes.len() + 1);
            bytes.truncate(at);
        }
        Mutation::DuplicateLine(i) | Mutation::DeleteLine(i) => {
            let spans = line_spans(bytes);
            if spans.is_empty() {
                return;
            }
            let (a, b) = spans[i.index(spans.len())];
            if matches!(m, Mutation::DuplicateLine(_)) {
                let line = bytes[a..b].to_vec();
                bytes.splice(a..a, line);
            } else {
                bytes.drain(a..b);
            }
        }
    }
}

fn mutated(bytes: &[u8], ms: &[Mutation]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for m in ms {
        apply(&mut out, m);
    }
    out
}

// ---------------------------------------------------------------------------------------
// The two ways of evaluating an inventory (as bench/tests/streamed.rs runs them)

/// `check --format json`: index, then the streamed evaluation. `Err` holds what `check`
/// prints: the loading warnings too.
fn streamed(path: &Path) -> Result<String, Problems> {
    let c = ctx();
    let idx = open::index(path)?;
    let with_warnings = |mut p: Problems| {
        p.0.extend(idx.inventory.warnings.0.iter().cloned());
        p
    };
    render::json_report(&idx, &c.pack, &c.model, &c.opts).map_err(with_warnings)
}

/// Everything loaded, cross-checked, evaluated, then rendered. `Err` holds the loading
/// warnings too.
fn held(path: &Path) -> Result<String, Problems> {
    let c = ctx();
    let (inv, _) = open::load(path)?;
    let with_warnings = |mut p: Problems| {
        p.0.extend(inv.warnings.0.iter().cloned());
        p
    };
    let problems = eval::crosscheck(&inv, &c.pack);
    if problems.has_errors() {
        return Err(with_warnings(problems));
    }
    let report = eval::evaluate(&inv, &c.pack, &c.model, &c.opts).map_err(with_warnings)?;
    Ok(render::json(&report))
}

/// Code and `file:line` of every diagnostic, sorted (the directory part of the path is
/// the same both ways).
fn coded(p: &Problems) -> Vec<String> {
    let mut v: Vec<String> = p.0.iter().map(|p| format!("{} {}", p.code.as_str(), p.at())).collect();
    v.sort();
    v
}

/// Loading everything stops before the function check when records are broken, while the
/// streamed run checks each record as it reads it (bench/tests/streamed.rs): the streamed
/// run may add DT205 diagnostics; everything else must match.
fn same_diagnostics(held: &Problems, streamed: &Problems) -> Result<(), String> {
    let (h, s) = (coded(held), coded(streamed));
    let without = |v: &[String]| {
        v.iter()
            .filter(|m| !m.starts_with("DT205"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let only = |v: &[String]| v.iter().filter(|m| m.starts_with("DT205")).cloned().collect::<Vec<_>>();
    let missing: Vec<String> = only(&h).into_iter().filter(|m| !s.contains(m)).collect();
    if without(&h) != without(&s) || !missing.is_empty() {
        return Err(format!("held {h:#?}\nstreamed {s:#?}"));
    }
    Ok(())
}

/// A known difference (`bad_utf8_csv_row_gives_the_same_diagnostics_both_ways`): loading
/// refuses a CSV file with a byte that is not UTF-8 as a whole (one DT101), while the
/// streamed check reads it row by row and also reports the other rows' problems.
const WHOLE_FILE_NOT_UTF8: &str = "file is not valid UTF-8";

/// Both ways agree on `path`: same findings JSON, or same diagnostics.
fn agree(path: &Path) -> Result<(), String> {
    match (held(path), streamed(path)) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Ok(a), Ok(b)) => Err(format!("findings differ\n--- held\n{a}\n--- streamed\n{b}")),
        (Err(a), Err(_)) if path.is_dir() && a.0.iter().any(|p| p.message == WHOLE_FILE_NOT_UTF8) => Ok(()),
        (Err(a), Err(b)) => same_diagnostics(&a, &b),
        (Ok(_), Err(b)) => Err(format!("only the streamed check refuses it: {:#?}", coded(&b))),
        (Err(a), Ok(_)) => Err(format!("only the held load refuses it: {:#?}", coded(&a))),
    }
}

/// Keeps failing files for a look (the test's temporary directory goes away): where they are.
fn kept(files: &[(String, Vec<u8>)]) -> String {
    let dir = std::env::temp_dir().join(format!("dualtrack-properties-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    format!("the files are kept in {}", dir.display())
}

// ---------------------------------------------------------------------------------------
// Inventories

#[test]
fn good_inventories_agree_in_every_form() {
    let tmp = tempfile::tempdir().unwrap();
    for r in inventories() {
        for form in FORMS {
            let files = write_form(r, form, &identity_order(r));
            let files: Vec<_> = files.into_iter().map(|(n, b, _)| (n, b)).collect();
            let path = materialise(tmp.path(), &format!("{}-{form:?}", r.name), form, &files);
            let json = held(&path).unwrap_or_else(|p| panic!("{} ({form:?}): {}", r.name, common::render(&p)));
            agree(&path).unwrap_or_else(|e| panic!("{} ({form:?}): {e}", r.name));
            assert!(json.contains("\"findings\""));
        }
    }
}

/// Found by `mutated_inventories_never_panic_and_both_ways_agree` (minimised by hand):
/// `tests/fixtures/fuzz/properties-csv-bad-utf8-row`. Loading refused the whole of
/// `entitlements.csv` for its invalid UTF-8 while the streamed check parsed the rows and
/// reported them; the streamed CSV path now checks the file's text first, as loading does.
#[test]
fn bad_utf8_csv_row_gives_the_same_diagnostics_both_ways() {
    let dir = common::root().join("tests/fixtures/fuzz/properties-csv-bad-utf8-row");
    let (a, b) = (held(&dir).unwrap_err(), streamed(&dir).unwrap_err());
    same_diagnostics(&a, &b).unwrap();
}

#[test]
fn mutated_inventories_never_panic_and_both_ways_agree() {
    let tmp = tempfile::tempdir().unwrap();
    for r in inventories() {
        for form in FORMS {
            let files: Vec<(String, Vec<u8>)> = write_form(r, form, &identity_order(r))
                .into_iter()
                .map(|(n, b, _)| (n, b))
                .collect();
            let n = std::sync::atomic::AtomicUsize::new(0);
            check(
                &format!("{} ({form:?})", r.name),
                4,
                (any::<Index>(), mutations()),
                |(which, ms)| {
                    let mut files = files.clone();
                    let k = which.index(files.len());
                    files[k].1 = mutated(&files[k].1, &ms);
                    let tag = format!(
                        "{}-{form:?}-{}",
                        r.name,
                        n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    );
                    let path = materialise(tmp.path(), &tag, form, &files);
                    // YAML is only ever loaded whole (`index` falls back to `load`).
                    agree(&path).map_err(|e| TestCaseError::fail(format!("{e}\n{}", kept(&files))))?;
                    std::fs::remove_dir_all(tmp.path().join(&tag)).unwrap();
                    Ok(())
                },
            );
        }
    }
}

/// The findings JSON with each finding's file cut to its name (the directories differ
/// between two writes) and its line mapped through `map` ((file name, line) → line).
fn remap_lines(json: &str, map: &BTreeMap<(String, u32), u32>) -> String {
    let mut doc: Json = serde_json::from_str(json).unwrap();
    for f in doc["findings"].as_array_mut().unwrap() {
        let loc = &mut f["location"];
        let file = Path::new(loc["file"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let line = u32::try_from(loc["line"].as_u64().unwrap()).unwrap();
        if let Some(to) = map.get(&(file.clone(), line)) {
            loc["line"] = Json::from(*to);
        }
        loc["file"] = Json::from(file);
    }
    serde_json::to_string_pretty(&doc).unwrap()
}

/// Where each record is: (file name, line) → (section, record).
fn places(files: &Written) -> BTreeMap<(String, u32), (usize, usize)> {
    files
        .iter()
        .flat_map(|(name, _, lines)| lines.iter().map(move |(s, i, l)| ((name.clone(), *l), (*s, *i))))
        .collect()
}

fn shuffled(order: &[usize], seed: u64) -> Vec<usize> {
    let mut v = order.to_vec();
    let mut x = seed | 1;
    for i in (1..v.len()).rev() {
        // xorshift64
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = usize::try_from(x % (i as u64 + 1)).unwrap();
        v.swap(i, j);
    }
    v
}

#[test]
fn shuffled_records_give_the_same_findings() {
    let tmp = tempfile::tempdir().unwrap();
    for r in inventories() {
        for form in FORMS {
            let base = write_form(r, form, &identity_order(r));
            let base_files: Vec<_> = base.iter().map(|(n, b, _)| (n.clone(), b.clone())).collect();
            let base_path = materialise(tmp.path(), &format!("{}-{form:?}-base", r.name), form, &base_files);
            let want = held(&base_path).unwrap();
            let base_places = places(&base);
            let by_record: BTreeMap<(usize, usize), (String, u32)> =
                base_places.iter().map(|(k, v)| (*v, k.clone())).collect();
            let n = std::sync::atomic::AtomicUsize::new(0);
            check(&format!("{} ({form:?})", r.name), 2, any::<[u64; 3]>(), |seeds| {
                let order = [0, 1, 2].map(|s| shuffled(&identity_order(r)[s], seeds[s]));
                let written = write_form(r, form, &order);
                let files: Vec<_> = written.iter().map(|(n, b, _)| (n.clone(), b.clone())).collect();
                let tag = format!(
                    "{}-{form:?}-{}",
                    r.name,
                    n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                );
                let path = materialise(tmp.path(), &tag, form, &files);
                // Lines in the shuffled files → lines of the same records in the base files.
                let map: BTreeMap<(String, u32), u32> = places(&written)
                    .into_iter()
                    .map(|(at, rec)| (at, by_record[&rec].1))
                    .collect();
                let want = remap_lines(&want, &BTreeMap::new());
                let got = held(&path).map_err(|p| TestCaseError::fail(common::render(&p)))?;
                prop_assert_eq!(&remap_lines(&got, &map), &want, "held");
                if form != Form::Yaml {
                    let got = streamed(&path).map_err(|p| TestCaseError::fail(common::render(&p)))?;
                    prop_assert_eq!(&remap_lines(&got, &map), &want, "streamed");
                }
                std::fs::remove_dir_all(tmp.path().join(&tag)).unwrap();
                Ok(())
            });
        }
    }
}

// ---------------------------------------------------------------------------------------
// Review inputs, policy tests and rule files

/// Files under `dir` (relative to the repository root) whose name ends with `suffix`.
fn fixtures(dir: &str, suffix: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(common::root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {dir}");
    out
}

/// Mutates each fixture `cases` times, writes it to `tmp/<name>` and hands the path to
/// `load`, which must return (an `Err` is fine).
fn never_panics(fixtures: &[(String, Vec<u8>)], cases: u32, load: impl Fn(&Path)) {
    let tmp = tempfile::tempdir().unwrap();
    for (name, bytes) in fixtures {
        let path = tmp.path().join(name);
        check(name, cases, mutations(), |ms| {
            std::fs::write(&path, mutated(bytes, &ms)).unwrap();
            load(&path);
            Ok(())
        });
    }
}

#[test]
fn mutated_exceptions_never_panic() {
    let c = ctx();
    let (acme, _) = open::load(&common::root().join("examples/acme")).unwrap();
    never_panics(&fixtures("tests/fixtures/exceptions", ".yaml"), 24, |path| {
        if let Ok(x) = exceptions::load(path) {
            let _ = x.check(&c.pack, |id| acme.identity(id).is_some());
            let _ = x.approval_problems(&acme);
        }
    });
}

#[test]
fn mutated_campaigns_and_decisions_never_panic() {
    let (acme, _) = open::load(&common::root().join("examples/acme")).unwrap();
    never_panics(&fixtures("tests/fixtures/campaign", ".yaml"), 48, |path| {
        if let Ok(c) = campaign::load(path) {
            let mut sink = Problems::default();
            campaign::lint::check(&c, &acme, &mut sink);
        }
    });
    let plan = campaign::load(&common::root().join("tests/fixtures/campaign/acme.yaml")).unwrap();
    let ents: Vec<_> = acme.entitlements.iter().collect();
    never_panics(&fixtures("tests/fixtures/decisions", ".csv"), 48, |path| {
        if let Ok(d) = decisions::load(path, Some(&plan)) {
            let _ = d.findings(ctx().opts.as_of, &Track::ALL, &ents);
        }
    });
}

#[test]
fn mutated_policy_tests_never_panic() {
    let c = ctx();
    never_panics(&fixtures("policies/tests", ".test.yaml"), 4, |path| {
        let src = Source::new(
            path.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned(),
        );
        if let Ok(suite) = policytest::load(vec![src], &c.pack) {
            let _ = policytest::run(&suite, &c.pack, &c.model, None);
        }
    });
}

#[test]
fn mutated_rule_files_never_panic() {
    let c = ctx();
    let catalogs: Vec<Arc<Source>> = policy::builtin_files()
        .into_iter()
        .filter(|s| s.name().ends_with("controls.yaml") || s.name().ends_with("functions.yaml"))
        .collect();
    assert_eq!(catalogs.len(), 2);
    let mut files = fixtures("policies/soc", ".yaml");
    files.extend(fixtures("policies/sox", ""));
    never_panics(&files, 4, |path| {
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        let mut pack_files = catalogs.clone();
        pack_files.push(Source::new(path.display().to_string(), text));
        let (pack, _) = policy::load_lenient(pack_files, &c.model);
        for rule in pack.iter().flat_map(|p| &p.rules) {
            let _ = policy::text::cedar(rule);
        }
    });
}

#[test]
fn sap_risk_findings_are_the_same_held_and_streamed() {
    for form in ["csv", "txt"] {
        let path = common::root().join(format!("tests/fixtures/sources/sap/sources-{form}.yaml"));
        let held = held(&path).unwrap_or_else(|p| panic!("{form}: {p:?}"));
        for rule in ["\"SOC-SAP-P2P-01\"", "\"SOX-SAP-P2P-01\"", "\"SOX-SAP-CA-01\""] {
            assert!(held.contains(rule), "{form}: no {rule}");
        }
        agree(&path).unwrap_or_else(|e| panic!("{form}: {e}"));
    }
}
