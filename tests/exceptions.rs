//! Exceptions: applied per track, expired and unused ones reported, self-approval caught,
//! and every problem in an exceptions file reported with its code and line.

use std::path::Path;

use dualtrack_engine::{eval, exceptions, open, policy, Model, Track};
use serde_json::Value as Json;

use crate::common::{self, dualtrack, parts};

const ACME_EXCEPTIONS: &str = "tests/fixtures/exceptions/acme.yaml";

fn check(extra: &[&str]) -> (i32, Json, String) {
    let mut args = vec![
        "check",
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
        "--exceptions",
        ACME_EXCEPTIONS,
    ];
    args.extend(extra);
    let (code, stdout, stderr) = parts(&dualtrack(&args));
    let report = serde_json::from_str(&stdout).unwrap_or(Json::Null);
    (code, report, stderr)
}

/// `(status, rule)` of each finding of `identity` on `track`, sorted.
fn statuses(report: &Json, identity: &str, track: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["identity"] == identity && f["track"] == track)
        .map(|f| {
            (
                f["status"].as_str().unwrap().to_owned(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn pair(status: &str, rule: &str) -> (String, String) {
    (status.to_owned(), rule.to_owned())
}

#[test]
fn live_sox_exception_marks_its_finding_excepted() {
    let (code, report, stderr) = check(&[]);
    assert_eq!(code, 1, "other findings stay open; stderr: {stderr}");
    assert_eq!(
        statuses(&report, "helen.zhou", "sox"),
        [pair("excepted", "SOX-PRIV-001")]
    );
    // The SOX exception leaves the SOC finding on the same access alone.
    assert_eq!(statuses(&report, "helen.zhou", "soc"), [pair("open", "SOC-EXC-001")]);
}

#[test]
fn soc_exception_never_silences_the_sox_finding() {
    let (_, report, _) = check(&[]);
    assert_eq!(
        statuses(&report, "svc-sap-batch", "soc"),
        [pair("excepted", "SOC-EXC-003")]
    );
    assert_eq!(statuses(&report, "svc-sap-batch", "sox"), [pair("open", "SOX-NHI-002")]);
}

#[test]
fn expired_exception_leaves_the_finding_open_and_is_reported() {
    let (_, report, _) = check(&[]);
    assert_eq!(
        statuses(&report, "carlos.mendez", "sox"),
        [pair("open", "EXC-EXPIRED"), pair("open", "SOX-SOD-001")]
    );
    let expired = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "EXC-EXPIRED")
        .unwrap();
    assert_eq!(expired["evidence"]["exception.id"], "EXC-2026-003");
    assert_eq!(expired["evidence"]["exception.expires"], "2026-09-15");
    assert_eq!(expired["location"]["file"], ACME_EXCEPTIONS);
    assert_eq!(expired["location"]["line"], 17);
}

#[test]
fn unused_and_self_approved_exceptions_are_reported() {
    let (_, report, _) = check(&[]);
    let mut about: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("EXC-"))
        .map(|f| {
            (
                f["evidence"]["exception.id"].as_str().unwrap().to_owned(),
                f["rule"].as_str().unwrap().to_owned(),
                f["track"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    about.sort();
    let want = [
        ("EXC-2026-003", "EXC-EXPIRED", "sox"),
        ("EXC-2026-017", "EXC-SELF-APPROVED", "sox"),
        ("EXC-2026-022", "EXC-SELF-APPROVED", "soc"),
        ("EXC-2026-030", "EXC-UNUSED", "soc"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect();
    assert_eq!(about, want);
    // Selected by entitlement only: the identity comes from the finding it matched.
    assert_eq!(
        statuses(&report, "anna.kowalski", "sox"),
        [pair("excepted", "SOX-PRIV-002"), pair("open", "EXC-SELF-APPROVED")]
    );
}

#[test]
fn summary_counts_excepted_findings_as_not_open() {
    let (_, with, _) = check(&[]);
    let (code, without, _) = parts_json(&[
        "check",
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let excepted = with["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "excepted")
        .count();
    assert_eq!(excepted, 4);
    // Four findings about exceptions are added, four findings are excepted.
    assert_eq!(
        with["summary"]["findings"],
        without["summary"]["findings"].as_u64().unwrap() + 4
    );
    assert_eq!(with["summary"]["open"], without["summary"]["open"]);
}

#[test]
fn one_track_reports_only_that_tracks_exceptions() {
    let (_, report, _) = check(&["--track", "soc"]);
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("EXC-"))
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["EXC-SELF-APPROVED", "EXC-UNUSED"],
        "SOX exceptions are not reported unused"
    );
}

fn parts_json(args: &[&str]) -> (i32, Json, String) {
    let (code, stdout, stderr) = parts(&dualtrack(args));
    (code, serde_json::from_str(&stdout).unwrap_or(Json::Null), stderr)
}

#[test]
fn held_and_streamed_evaluation_agree() {
    let model = Model::load().unwrap();
    let pack = policy::load(policy::builtin_files(), &model).unwrap();
    let (inv, _) = open::load(Path::new("../examples/acme")).unwrap();
    let x = exceptions::load(Path::new("../tests/fixtures/exceptions/acme.yaml")).unwrap();
    assert!(x.check(&pack, |id| inv.identity(id).is_some()).0.is_empty());
    let opts = eval::Options {
        as_of: dualtrack_engine::node::parse_date("2026-10-01").unwrap(),
        tracks: Track::ALL.to_vec(),
    };
    let mut report = eval::evaluate(&inv, &pack, &model, &opts).unwrap();
    x.apply_report(&mut report, &inv);
    let held: Vec<(String, String)> = report
        .findings
        .iter()
        .map(|f| (f.id.clone(), f.status.as_str().to_owned()))
        .collect();
    let (_, streamed, _) = check(&[]);
    let streamed: Vec<(String, String)> = streamed["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(held, streamed);
}

#[test]
fn every_problem_in_an_exceptions_file_is_coded_and_located() {
    let path = Path::new("../tests/fixtures/exceptions/bad.yaml");
    let problems = match exceptions::load(path) {
        Ok(_) => panic!("bad.yaml should not load"),
        Err(p) => p,
    };
    let codes: Vec<&str> = problems.0.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(
        codes,
        ["DT602", "DT104", "DT103", "DT107", "DT104", "DT104", "DT603", "DT105"]
    );
    insta::assert_snapshot!("bad_decode", common::render(&problems));
}

#[test]
fn exceptions_are_checked_against_the_pack_and_inventory() {
    let model = Model::load().unwrap();
    let pack = policy::load(policy::builtin_files(), &model).unwrap();
    let (inv, _) = open::load(Path::new("../examples/acme")).unwrap();
    let src = dualtrack_engine::source::Source::new(
        "cross.yaml",
        "exceptions:\n  - id: A\n    rule: SOX-PRIV-01\n    track: sox\n    identity: helen.zhou\n    compensating_control: c\n    expires: 2026-12-31\n  - id: B\n    rule: SOX-PRIV-001\n    track: soc\n    identity: helen.zhou\n    compensating_control: c\n    expires: 2026-12-31\n  - id: C\n    rule: SOC-EXC-001\n    track: soc\n    identity: marcus.le\n    compensating_control: c\n    expires: 2026-12-31\n",
    );
    let x = exceptions::from_source(&src).unwrap();
    let problems = x.check(&pack, |id| inv.identity(id).is_some());
    let codes: Vec<&str> = problems.0.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["DT501", "DT601", "DT106"]);
    insta::assert_snapshot!("cross_check", common::render(&problems));
}

#[test]
fn check_exits_3_on_a_bad_exceptions_file() {
    let (code, _, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-01",
        "--exceptions",
        "tests/fixtures/exceptions/bad.yaml",
    ]));
    assert_eq!(code, 3);
    assert!(stderr.contains("DT602"), "{stderr}");
}

#[test]
fn lint_checks_exceptions_with_the_pack_and_inventory() {
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "lint",
        "--inventory",
        "examples/acme",
        "--exceptions",
        ACME_EXCEPTIONS,
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "warnings do not fail lint; stderr: {stderr}");
    let report: Json = serde_json::from_str(&stdout).unwrap();
    let ours: Vec<(String, String, u64)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"] == ACME_EXCEPTIONS)
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["level"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    // Only the exception naming its identity can be caught before evaluation; the one
    // selecting by entitlement is reported by `check` as EXC-SELF-APPROVED.
    assert_eq!(ours, [("DT604".to_owned(), "warning".to_owned(), 64)]);

    let (code, stdout, _) = parts(&dualtrack(&[
        "lint",
        "--inventory",
        "examples/acme",
        "--exceptions",
        "tests/fixtures/exceptions/bad.yaml",
        "--format",
        "json",
    ]));
    assert_eq!(code, 3);
    let report: Json = serde_json::from_str(&stdout).unwrap();
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"] == "tests/fixtures/exceptions/bad.yaml")
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["DT602", "DT104", "DT103", "DT107", "DT104", "DT104", "DT603", "DT105"]
    );
}
