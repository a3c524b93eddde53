//! `dualtrack drift`: the two-quarter estate of `tests/fixtures/delta` compared as two
//! inventories and as the Q3 evidence pack against the Q4 inventory: exactly the changes
//! `q4.yaml` lists, in every format; `--fail-on`; a tampered pack refused.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value as Json;

use crate::common::{dualtrack, parts};

const Q3: &str = "tests/fixtures/delta/q3.yaml";
const Q4: &str = "tests/fixtures/delta/q4.yaml";

/// `drift` from `base` to q4.yaml (the Q3 inventory reviewed on 2026-07-20, Q4 on
/// 2026-10-01), with `extra` arguments.
fn drift(base: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "drift",
        "--base",
        base,
        "--head",
        Q4,
        "--base-as-of",
        "2026-07-20",
        "--as-of",
        "2026-10-01",
    ];
    args.extend(extra);
    parts(&dualtrack(&args))
}

/// Builds the Q3 evidence pack, with its campaign and decisions, at `out`.
fn q3_pack(out: &Path) {
    let (code, _, stderr) = parts(&dualtrack(&[
        "evidence",
        "--inventory",
        Q3,
        "--campaign",
        "tests/fixtures/delta/campaign-q3.yaml",
        "--decisions",
        "tests/fixtures/delta/decisions-q3.csv",
        "--as-of",
        "2026-07-20",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
}

fn json(out: &str) -> Json {
    serde_json::from_str(out).unwrap()
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The ids of the entitlements with `change`.
fn entitlements(report: &Json, change: &str) -> BTreeSet<String> {
    report["entitlements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["change"] == change)
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

/// (id, change, fields) of every identity listed.
fn identities(report: &Json) -> Vec<(String, String, Vec<String>)> {
    report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_owned(),
                i["change"].as_str().unwrap().to_owned(),
                strings(&i["fields"]),
            )
        })
        .collect()
}

#[test]
fn q3_to_q4_lists_exactly_the_changes_of_the_quarter() {
    let (code, out, stderr) = drift(Q3, &["--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("q3_q4_json", out);
    let r = json(&out);
    let set = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(entitlements(&r, "added"), set(&["ann:git:write", "ben:aws:poweruser"]));
    assert_eq!(entitlements(&r, "removed"), set(&["ann:git:read", "dave:git:triage"]));
    assert_eq!(entitlements(&r, "changed"), set(&["ben:aws:readonly"]));
    let changed = r["entitlements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "ben:aws:readonly")
        .unwrap();
    assert_eq!(strings(&changed["fields"]), ["privileged"]);
    let escalated: BTreeSet<String> = r["entitlements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["escalated"] == true)
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(escalated, set(&["ben:aws:poweruser", "ben:aws:readonly"]));
    // Holders' changes are listed once, under identities; every observation moved, and
    // none is listed.
    let ident = |id: &str, field: &str| (id.to_owned(), "changed".to_owned(), vec![field.to_owned()]);
    assert_eq!(
        identities(&r),
        [
            ident("carl", "status"),
            ident("dave", "manager"),
            ident("deploy-bot", "owner")
        ]
    );
    assert_eq!(r["systems"], serde_json::json!([]));
    // Terminated carl still holds his access: orphaned on both tracks, new since Q3.
    let new: BTreeSet<(String, String)> = r["findings"]["new"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["identity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(new.contains(&("SOC-ORPH-003".to_owned(), "carl".to_owned())), "{new:?}");
    assert!(new.contains(&("SOX-ORPH-001".to_owned(), "carl".to_owned())), "{new:?}");
    assert_eq!(r["findings"]["resolved"], serde_json::json!([]));
    assert_eq!(r["summary"]["entitlements"]["escalated"], 2);
    assert_eq!(r["summary"]["identities"]["changed"], 3);
}

#[test]
fn the_q3_pack_as_base_gives_the_changes_of_the_q3_inventory() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("q3");
    q3_pack(&pack);
    let (code, from_pack, stderr) = drift(pack.to_str().unwrap(), &["--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let (_, from_inventory, _) = drift(Q3, &["--format", "json"]);
    let (p, i) = (json(&from_pack), json(&from_inventory));
    assert_eq!(p["entitlements"], i["entitlements"]);
    assert_eq!(p["identities"], i["identities"]);
    assert_eq!(p["systems"], i["systems"]);
    assert_eq!(p["findings"], i["findings"]);
    let base = &p["summary"]["base"];
    assert_eq!(base["kind"], "pack");
    assert_eq!(base["campaign"], "UAR-2026-Q3");
    assert_eq!(base["as_of"], "2026-07-20T00:00:00Z");
}

#[test]
fn human_markdown_and_csv() {
    for format in ["human", "markdown", "csv"] {
        let (code, out, stderr) = drift(Q3, &["--format", format]);
        assert_eq!(code, 0, "{format}: {stderr}");
        insta::assert_snapshot!(format!("q3_q4_{format}"), out);
    }
}

#[test]
fn fail_on_escalation_exits_1_and_never_exits_0() {
    assert_eq!(drift(Q3, &["--fail-on", "escalation"]).0, 1);
    assert_eq!(drift(Q3, &["--fail-on", "change"]).0, 1);
    assert_eq!(drift(Q3, &["--fail-on", "never"]).0, 0);
    // A snapshot compared with itself: nothing changed, nothing fails.
    let (code, out, stderr) = parts(&dualtrack(&[
        "drift",
        "--base",
        Q4,
        "--head",
        Q4,
        "--as-of",
        "2026-10-01",
        "--fail-on",
        "change",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let r = json(&out);
    assert_eq!(r["entitlements"], serde_json::json!([]));
    assert_eq!(r["identities"], serde_json::json!([]));
    assert_eq!(r["findings"]["new"], serde_json::json!([]));
}

#[test]
fn a_pack_with_one_modified_byte_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("q3");
    q3_pack(&pack);
    let file = pack.join("population.csv");
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    let (code, out, stderr) = drift(pack.to_str().unwrap(), &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(out.is_empty(), "{out}");
    assert!(stderr.contains("DT1001"), "{stderr}");
    assert!(stderr.contains("population.csv"), "{stderr}");
}
