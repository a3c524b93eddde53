//! The CLI corpus (`tests/corpus/`, described in its README): every bad input exits 3 (or
//! the code in the case's `exit` file) with coded diagnostics, each at a `file:line`, and
//! never panics; every odd-but-valid input is accepted with JSON on stdout. Rendered
//! output is snapshotted next to each case (`stderr.snap`, `stdout.snap`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use dualtrack_engine::Code;
use regex::Regex;
use serde_json::Value as Json;

use crate::common;

/// Codes that no bad input of the corpus triggers, each with the reason. Every other code
/// of [`Code::ALL`] must be seen at least once across `tests/corpus/bad/`.
const NOT_FROM_INPUT: &[(&str, &str)] = &[
    (
        "DT100",
        "io: a path that cannot be read (missing, a directory, no permission) is an argument \
         problem, not file content; it has no line to show (tests/cli.rs covers missing paths)",
    ),
    (
        "DT209",
        "schema: the Cedar schema is compiled into the binary; no user file can make it invalid",
    ),
    (
        "DT302",
        "entity-error: entities are built from records the loader has already validated, and \
         every attribute is typed to match the schema; a failure here is an engine bug",
    ),
    (
        "DT410",
        "proven-vacuous: needs `lint --prove` and cvc5, which the corpus does not run; \
         tests/prove.rs triggers it",
    ),
    ("DT411", "can-error: as DT410; tests/prove.rs triggers it"),
    ("DT412", "proven-equivalent: as DT410; tests/prove.rs triggers it"),
    ("DT413", "shadowed: as DT410; tests/prove.rs triggers it"),
    (
        "DT414",
        "proof-inconclusive: as DT410; tests/prove.rs triggers it with a stand-in solver",
    ),
];

/// Codes whose diagnostics may lack a `file:line`, with the reason. The message must then
/// name the path it is about (in backticks).
const UNLOCATED: &[(&str, &str)] = &[(
    "DT109",
    "layout: a section file or catalog that is missing (or one of several candidates) has no \
     line to point at; the message or its help names the directory or file concerned",
)];

/// A case: a directory holding its input files and `args`.
struct Case {
    /// `bad/NAME` or `valid/NAME`.
    id: String,
    dir: PathBuf,
    args: Vec<String>,
    /// The expected exit code (bad cases: 3 unless an `exit` file says otherwise).
    exit: Option<i32>,
}

/// What running a case gave.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

fn corpus() -> PathBuf {
    common::root().join("tests/corpus")
}

/// The cases under `tests/corpus/{kind}`, sorted by name.
fn cases(kind: &str) -> Vec<Case> {
    let mut out: Vec<Case> = std::fs::read_dir(corpus().join(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let args = std::fs::read_to_string(dir.join("args"))
                .unwrap_or_else(|e| panic!("{kind}/{name}: no `args` file: {e}"));
            assert_eq!(args.trim_end().lines().count(), 1, "{kind}/{name}: `args` is one line");
            let exit = std::fs::read_to_string(dir.join("exit"))
                .ok()
                .map(|t| t.trim().parse().unwrap());
            Case {
                id: format!("{kind}/{name}"),
                args: args.split_whitespace().map(str::to_owned).collect(),
                dir,
                exit,
            }
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Copies the case's files (not its snapshots) to `to`.
fn stage(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".snap") || name.ends_with(".snap.new") {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            stage(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Decodes the escapes of a recipe's text: `\n`, `\r`, `\t`, `\\` and `\xNN`.
fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).unwrap());
            }
            other => panic!("unknown escape `\\{}` in a recipe", other.unwrap_or(' ')),
        }
    }
    out
}

/// Writes the files a `recipe` describes (large inputs are made at run time, not committed):
/// `> FILE` starts FILE, `text TEXT` appends TEXT, `repeat N TEXT` appends TEXT N times
/// with `{n}` replaced by the repetition's number (from 1); `#` starts a comment.
fn expand(recipe: &str, dir: &Path) {
    use std::io::Write;
    let mut file: Option<std::io::BufWriter<std::fs::File>> = None;
    for line in recipe.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (op, rest) = line.split_once(' ').unwrap_or((line, ""));
        if op == ">" {
            let path = dir.join(rest);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            if let Some(mut f) = file.take() {
                f.flush().unwrap();
            }
            file = Some(std::io::BufWriter::new(std::fs::File::create(path).unwrap()));
            continue;
        }
        let out = file.as_mut().expect("`> FILE` comes first in a recipe");
        match op {
            "text" => out.write_all(&unescape(rest)).unwrap(),
            "repeat" => {
                let (n, text) = rest.split_once(' ').unwrap();
                let n: usize = n.parse().unwrap();
                if text.contains("{n}") {
                    let parts: Vec<Vec<u8>> = text.split("{n}").map(unescape).collect();
                    for i in 1..=n {
                        let number = i.to_string();
                        for (k, part) in parts.iter().enumerate() {
                            if k > 0 {
                                out.write_all(number.as_bytes()).unwrap();
                            }
                            out.write_all(part).unwrap();
                        }
                    }
                } else {
                    let once = unescape(text);
                    for _ in 0..n {
                        out.write_all(&once).unwrap();
                    }
                }
            }
            _ => panic!("unknown recipe line `{line}`"),
        }
    }
    if let Some(mut f) = file {
        f.flush().unwrap();
    }
}

/// Runs one case from a copy of its directory, without colour.
fn run(case: &Case) -> Ran {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("case");
    stage(&case.dir, &dir);
    if let Ok(recipe) = std::fs::read_to_string(case.dir.join("recipe")) {
        expand(&recipe, &dir);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_dualtrack"))
        .args(&case.args)
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the dualtrack binary runs");
    // Paths are relative to the case directory; should one still show the temporary
    // directory, it is replaced so the snapshot does not depend on it.
    let clean = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .replace(&dir.display().to_string(), "[CASE]")
            .replace(&tmp.path().display().to_string(), "[TMP]")
    };
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: clean(&out.stdout),
        stderr: clean(&out.stderr),
    }
}

/// Runs every case, two or more at a time.
fn run_all(cases: &[Case]) -> Vec<Ran> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Ran>>> = Mutex::new(cases.iter().map(|_| None).collect());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let ran = run(case);
                results.lock().unwrap()[i] = Some(ran);
            });
        }
    });
    results.into_inner().unwrap().into_iter().map(Option::unwrap).collect()
}

/// The bad corpus, run once for all the tests that look at it.
fn bad_corpus() -> &'static [(Case, Ran)] {
    static BAD: OnceLock<Vec<(Case, Ran)>> = OnceLock::new();
    BAD.get_or_init(|| {
        let cases = cases("bad");
        let ran = run_all(&cases);
        cases.into_iter().zip(ran).collect()
    })
}

fn header() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?m)^[ │]*(DT\d{3,4})\([a-z-]+\)$").unwrap())
}

/// A location: miette's snippet header `[path:line:col]`, or `path:line` in the text.
fn located() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\[[^\]\s]+:\d+:\d+\]|[\w./-]+\.(?:ya?ml|json|csv|cedar):\d+").unwrap())
}

/// Each diagnostic of `text` as (code, rendered block).
fn diagnostics(text: &str) -> Vec<(&str, &str)> {
    let starts: Vec<(usize, &str)> = header()
        .captures_iter(text)
        .map(|c| (c.get(0).unwrap().start(), c.get(1).unwrap().as_str()))
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, (start, code))| {
            let end = starts.get(i + 1).map_or(text.len(), |(e, _)| *e);
            (*code, &text[*start..end])
        })
        .collect()
}

/// Output longer than this many lines is snapshotted as its first and last half of them
/// (1,000 diagnostics of a broken file need not be committed; they are all checked).
const SNAPSHOT_LINES: usize = 120;

/// Snapshots `text` as `name.snap` in the case's own directory.
fn snapshot(case: &Case, name: &str, text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    let text = if lines.len() > SNAPSHOT_LINES {
        let half = SNAPSHOT_LINES / 2;
        format!(
            "{}\n[… {} lines not snapshotted …]\n{}\n",
            lines[..half].join("\n"),
            lines.len() - SNAPSHOT_LINES,
            lines[lines.len() - half..].join("\n")
        )
    } else {
        text.to_owned()
    };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(case.dir.strip_prefix(common::root().join("tests")).unwrap());
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!("dualtrack {}", case.args.join(" ")));
    settings.bind(|| insta::assert_snapshot!(name, &text));
}

/// Runs `check` on each case and collects every failure, so one run lists them all.
fn each<'a, T: 'a>(items: impl IntoIterator<Item = &'a T>, id: impl Fn(&T) -> &str, check: impl Fn(&T)) {
    let mut failed = Vec::new();
    for item in items {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(item))).is_err() {
            failed.push(id(item).to_owned());
        }
    }
    assert!(failed.is_empty(), "{} case(s) failed: {failed:#?}", failed.len());
}

#[test]
fn bad_inputs_exit_3_with_located_coded_diagnostics() {
    let all = bad_corpus();
    assert!(all.len() >= 60, "the bad corpus has {} cases", all.len());
    each(
        all,
        |(case, _)| &case.id,
        |(case, ran)| {
            let id = &case.id;
            // `lint` prints its diagnostics on stdout; every other command on stderr.
            let text = if case.args[0] == "lint" {
                &ran.stdout
            } else {
                &ran.stderr
            };
            let both = format!("{}{}", ran.stdout, ran.stderr);
            assert!(!both.contains("panicked"), "{id} panicked:\n{both}");
            assert_eq!(
                ran.code,
                case.exit.unwrap_or(3),
                "{id}: exit code\n{}{}",
                ran.stdout,
                ran.stderr
            );
            let found = diagnostics(text);
            assert!(!found.is_empty(), "{id}: no diagnostic code in\n{text}");
            for (code, block) in &found {
                if located().is_match(block) {
                    continue;
                }
                assert!(
                    UNLOCATED.iter().any(|(c, _)| c == code) && block.contains('`'),
                    "{id}: {code} has no file:line:\n{block}"
                );
            }
            for (name, out) in [("stderr", &ran.stderr), ("stdout", &ran.stdout)] {
                if !out.is_empty() {
                    snapshot(case, name, out);
                }
            }
        },
    );
}

#[test]
fn the_bad_corpus_covers_every_code_an_input_can_trigger() {
    let seen: BTreeSet<&str> = bad_corpus()
        .iter()
        .flat_map(|(_, ran)| {
            header()
                .captures_iter(&ran.stderr)
                .chain(header().captures_iter(&ran.stdout))
                .map(|c| c.get(1).unwrap().as_str())
                .collect::<Vec<_>>()
        })
        .collect();
    let excluded: BTreeSet<&str> = NOT_FROM_INPUT.iter().map(|(c, _)| *c).collect();
    let wanted: BTreeSet<&str> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !excluded.contains(c))
        .collect();
    let missing: Vec<&&str> = wanted.difference(&seen).collect();
    assert!(missing.is_empty(), "no bad case triggers {missing:?}");
    let stale: Vec<&&str> = excluded.intersection(&seen).collect();
    assert!(
        stale.is_empty(),
        "{stale:?} is triggered by a case: take it off NOT_FROM_INPUT"
    );
}

/// The odd-but-valid corpus, run once.
fn valid_corpus() -> &'static [(Case, Ran)] {
    static VALID: OnceLock<Vec<(Case, Ran)>> = OnceLock::new();
    VALID.get_or_init(|| {
        let cases = cases("valid");
        let ran = run_all(&cases);
        cases.into_iter().zip(ran).collect()
    })
}

#[test]
fn odd_but_valid_inputs_are_accepted() {
    let all = valid_corpus();
    each(
        all,
        |(case, _)| &case.id,
        |(case, ran)| {
            let id = &case.id;
            assert!(
                !ran.stderr.contains("panicked") && !ran.stdout.contains("panicked"),
                "{id} panicked:\n{}",
                ran.stderr
            );
            assert!(
                [0, 1].contains(&ran.code),
                "{id}: exit {} is not 0 or 1:\n{}",
                ran.code,
                ran.stderr
            );
            serde_json::from_str::<Json>(&ran.stdout).unwrap_or_else(|e| panic!("{id}: stdout is not JSON: {e}"));
            for (code, block) in diagnostics(&ran.stderr) {
                assert!(located().is_match(block), "{id}: {code} has no file:line:\n{block}");
            }
            snapshot(case, "stdout", &ran.stdout);
            if !ran.stderr.is_empty() {
                snapshot(case, "stderr", &ran.stderr);
            }
        },
    );
}

/// Findings without their `location` (the file and line differ between the formats).
fn findings(case: &str) -> Json {
    let (_, ran) = valid_corpus()
        .iter()
        .find(|(c, _)| c.id == format!("valid/{case}"))
        .unwrap_or_else(|| panic!("no case valid/{case}"));
    let mut report: Json = serde_json::from_str(&ran.stdout).unwrap();
    for f in report["findings"].as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("location");
    }
    report["findings"].take()
}

#[test]
fn numeric_ids_give_the_same_findings_in_yaml_json_and_csv() {
    let yaml = findings("numeric-ids-yaml");
    assert!(
        yaml.as_array().is_some_and(|f| !f.is_empty()),
        "the case has findings to compare"
    );
    let ids: BTreeSet<&str> = yaml
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["entitlements"].as_array().unwrap())
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(ids.contains("12345:7:100"), "{ids:?}");
    assert!(ids.contains("0042:7:200"), "{ids:?}");
    assert_eq!(yaml, findings("numeric-ids-json"), "YAML and JSON");
    assert_eq!(yaml, findings("numeric-ids-csv"), "YAML and CSV");
}
