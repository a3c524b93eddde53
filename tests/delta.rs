//! The delta review (`--since PACK`) on the two-quarter estate of `tests/fixtures/delta`:
//! the Q3 evidence pack is the baseline of the Q4 campaign. Q4 changes every kind of thing
//! the classification knows (see the comment at the top of `q4.yaml`), and its campaign
//! carries approvals forward on SOC and never on SOX.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::common::{dualtrack, parts, root};

const DIR: &str = "tests/fixtures/delta";

fn fixture(name: &str) -> String {
    root().join(DIR).join(name).display().to_string()
}

/// The Q3 pack, built in `tmp`.
fn q3_pack(tmp: &Path) -> PathBuf {
    let out = tmp.join("pack-q3");
    let (code, _, stderr) = parts(&dualtrack(&[
        "evidence",
        "--inventory",
        &fixture("q3.yaml"),
        "--campaign",
        &fixture("campaign-q3.yaml"),
        "--decisions",
        &fixture("decisions-q3.csv"),
        "--as-of",
        "2026-07-20",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    out
}

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|row| {
            headers
                .iter()
                .zip(row.unwrap().iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// The Q4 plan against the Q3 pack, built in `tmp`.
fn q4_plan(tmp: &Path, pack: &Path) -> PathBuf {
    let out = tmp.join("plan-q4");
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "campaign",
        "plan",
        "--campaign",
        &fixture("campaign-q4.yaml"),
        "--inventory",
        &fixture("q4.yaml"),
        "--as-of",
        "2026-10-01",
        "--since",
        pack.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    out
}

#[test]
fn the_plan_marks_each_row_and_carries_unchanged_approvals_on_soc_only() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = q4_plan(tmp.path(), &q3_pack(tmp.path()));
    let mut change: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    let mut carried = BTreeSet::new();
    for track in ["soc", "sox"] {
        for entry in std::fs::read_dir(plan.join(track)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "csv") {
                let is_carried = path.file_name().is_some_and(|n| n == "_carried.csv");
                for row in csv_rows(&path) {
                    let key = (track.to_owned(), row["entitlement"].clone());
                    if is_carried {
                        assert_eq!(row["baseline_campaign"], "UAR-2026-Q3");
                        assert!(row["decision"].is_empty(), "a carried row is not a decision: {row:?}");
                        carried.insert(key.clone());
                    }
                    let previous = change.insert(key, (row["change"].clone(), row["previous_decision"].clone()));
                    assert!(previous.is_none(), "a row is on one list only");
                }
            }
        }
    }
    let want: BTreeMap<(String, String), (String, String)> = [
        (
            "soc",
            "ann:erp:vendor-maint",
            "unchanged",
            "approve by olga on 2026-07-10",
        ),
        ("soc", "ann:git:write", "new", ""),
        ("soc", "ben:aws:poweruser", "new", ""),
        (
            "soc",
            "ben:aws:readonly",
            "changed: privileged",
            "approve by tom on 2026-07-12",
        ),
        ("soc", "ben:erp:report", "unchanged", "revoke by tom on 2026-07-12"),
        ("soc", "ben:git:write", "unchanged", "approve by tom on 2026-07-12"),
        (
            "soc",
            "carl:erp:journal",
            "changed: holder.status",
            "approve by olga on 2026-07-10",
        ),
        (
            "soc",
            "carl:git:read",
            "changed: holder.status",
            "approve by olga on 2026-07-10",
        ),
        (
            "soc",
            "dave:aws:readonly",
            "changed: holder.manager",
            "approve by tom on 2026-07-12",
        ),
        (
            "soc",
            "deploy-bot:aws:deploy",
            "changed: holder.owner",
            "approve by tom on 2026-07-12",
        ),
        (
            "sox",
            "ann:erp:vendor-maint",
            "unchanged",
            "approve by olga on 2026-07-15",
        ),
        ("sox", "ben:erp:report", "unchanged", "revoke by olga on 2026-07-15"),
        (
            "sox",
            "carl:erp:journal",
            "changed: holder.status",
            "approve by olga on 2026-07-15",
        ),
    ]
    .into_iter()
    .map(|(t, e, c, p)| ((t.to_owned(), e.to_owned()), (c.to_owned(), p.to_owned())))
    .collect();
    assert_eq!(change, want);
    let carried: Vec<(&str, &str)> = carried.iter().map(|(t, e)| (t.as_str(), e.as_str())).collect();
    assert_eq!(
        carried,
        [("soc", "ann:erp:vendor-maint"), ("soc", "ben:git:write")],
        "SOX never carries; a revoked row does not carry"
    );
    // New, changed and flagged rows come first on every worklist.
    let olga = csv_rows(&plan.join("sox/olga.csv"));
    let order: Vec<&str> = olga.iter().map(|r| r["entitlement"].as_str()).collect();
    assert_eq!(order, ["carl:erp:journal", "ann:erp:vendor-maint", "ben:erp:report"]);
    let header = std::fs::read_to_string(plan.join("sox/olga.csv")).unwrap();
    assert!(
        header.starts_with("track,entitlement,reviewer,identity,kind,owner,system,permission,privileged,last_used,severity,findings,recommended,change,previous_decision,decision,decided_at,rationale\n"),
        "{header}"
    );
    let manifest: Json = serde_json::from_slice(&std::fs::read(plan.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["since"]["campaign"], "UAR-2026-Q3");
}

#[test]
fn a_plan_without_since_has_the_columns_it_always_had() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    let (code, _, stderr) = parts(&dualtrack(&[
        "campaign",
        "plan",
        "--campaign",
        &fixture("campaign-q4.yaml"),
        "--inventory",
        &fixture("q4.yaml"),
        "--as-of",
        "2026-10-01",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(out.join("sox/olga.csv")).unwrap();
    assert!(text.starts_with("track,entitlement,reviewer,identity,kind,owner,system,permission,privileged,last_used,severity,findings,recommended,decision,decided_at,rationale\n"));
    assert!(!out.join("soc/_carried.csv").exists());
}

#[test]
fn check_since_gives_every_finding_its_change_and_checks_the_baseline_revokes() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = q3_pack(tmp.path());
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        &fixture("q4.yaml"),
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
        "--since",
        pack.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{stderr}");
    let report: Json = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["baseline"]["campaign"], "UAR-2026-Q3");
    assert_eq!(report["baseline"]["as_of"], "2026-07-20T00:00:00Z");
    let got: BTreeSet<(String, String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["track"].as_str().unwrap().to_owned(),
                f["entitlements"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(" "),
                f["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String, String)> = [
        ("DEC-NOT-REMOVED", "soc", "ben:erp:report", "unchanged"),
        ("DEC-NOT-REMOVED", "sox", "ben:erp:report", "unchanged"),
        ("SOC-ORPH-003", "soc", "carl:erp:journal carl:git:read", "changed"),
        ("SOX-ORPH-001", "sox", "carl:erp:journal", "changed"),
    ]
    .into_iter()
    .map(|(a, b, c, d)| (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned()))
    .collect();
    assert_eq!(got, want);
    let not_removed = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DEC-NOT-REMOVED" && f["track"] == "sox")
        .unwrap();
    assert_eq!(not_removed["evidence"]["decision.decided_at"], "2026-07-15T00:00:00Z");
    assert_eq!(not_removed["evidence"]["baseline.campaign"], "UAR-2026-Q3");
    // Without --since, no finding says `change`, and the report names no baseline.
    let (_, plain, _) = parts(&dualtrack(&[
        "check",
        "--inventory",
        &fixture("q4.yaml"),
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
    ]));
    assert!(!plain.contains("\"change\"") && !plain.contains("\"baseline\""));
}

/// Q4 decisions that copy Q3 approvals: onto a changed entitlement (SOC), onto a SOX row
/// (SOX never carries), and onto an unchanged SOC row (allowed); one fresh approval.
const Q4_DECISIONS: &str = "track,entitlement,reviewer,decision,decided_at,rationale
soc,ben:aws:readonly,tom,approve,2026-07-12,On call
sox,ann:erp:vendor-maint,olga,approve,2026-07-15,Vendor master maintenance is her job
soc,ben:git:write,tom,approve,2026-07-12,Developer
soc,ann:git:write,olga,approve,2026-10-05,Maintains the finance scripts
";

#[test]
fn approvals_carried_where_they_may_not_be_are_stale_and_carried_rows_need_no_decision() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = q3_pack(tmp.path());
    let decisions = tmp.path().join("decisions-q4.csv");
    std::fs::write(&decisions, Q4_DECISIONS).unwrap();
    let (_, stdout, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        &fixture("q4.yaml"),
        "--campaign",
        &fixture("campaign-q4.yaml"),
        "--decisions",
        decisions.to_str().unwrap(),
        "--as-of",
        "2026-11-02",
        "--format",
        "json",
        "--since",
        pack.to_str().unwrap(),
    ]));
    let report: Json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let of = |rule: &str| -> BTreeSet<(String, String)> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| {
                (
                    f["track"].as_str().unwrap().to_owned(),
                    f["entitlements"][0].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        v.iter().map(|(t, e)| ((*t).to_owned(), (*e).to_owned())).collect()
    };
    assert_eq!(
        of("DEC-STALE-APPROVAL"),
        pairs(&[("soc", "ben:aws:readonly"), ("sox", "ann:erp:vendor-maint")])
    );
    // The period ended on 2026-10-31: every undecided row is not reviewed, but the row
    // that carries forward (ann:erp:vendor-maint on SOC) and the ones decided.
    assert_eq!(
        of("DEC-NOT-REVIEWED"),
        pairs(&[
            ("soc", "ben:aws:poweruser"),
            ("soc", "ben:erp:report"),
            ("soc", "carl:erp:journal"),
            ("soc", "carl:git:read"),
            ("soc", "dave:aws:readonly"),
            ("soc", "deploy-bot:aws:deploy"),
            ("sox", "ben:erp:report"),
            ("sox", "carl:erp:journal"),
        ])
    );
    assert_eq!(
        of("DEC-NOT-REMOVED"),
        pairs(&[("soc", "ben:erp:report"), ("sox", "ben:erp:report")])
    );
}

#[test]
fn the_evidence_pack_says_what_carried_and_what_was_removed_and_becomes_the_next_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = q3_pack(tmp.path());
    let out = tmp.path().join("pack-q4");
    let (code, _, stderr) = parts(&dualtrack(&[
        "evidence",
        "--inventory",
        &fixture("q4.yaml"),
        "--campaign",
        &fixture("campaign-q4.yaml"),
        "--as-of",
        "2026-10-01",
        "--since",
        pack.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let carried: Vec<String> = csv_rows(&out.join("soc/carried_forward.csv"))
        .into_iter()
        .map(|r| r["entitlement"].clone())
        .collect();
    assert_eq!(carried, ["ann:erp:vendor-maint", "ben:git:write"]);
    assert!(csv_rows(&out.join("sox/carried_forward.csv")).is_empty());
    let revokes: Vec<(String, String)> = csv_rows(&out.join("soc/baseline_revokes.csv"))
        .into_iter()
        .map(|r| (r["entitlement"].clone(), r["outcome"].clone()))
        .collect();
    assert_eq!(
        revokes,
        [
            ("ben:erp:report".to_owned(), "still present".to_owned()),
            (
                "dave:git:triage".to_owned(),
                "removed: not in the inventory of 2026-10-01".to_owned()
            ),
        ]
    );
    let narrative = std::fs::read_to_string(out.join("soc/narrative.md")).unwrap();
    let section = &narrative[narrative.find("## Delta review").unwrap()..];
    insta::with_settings!({filters => vec![(r"[0-9a-f]{64}", "[sha256]")]}, {
        insta::assert_snapshot!("soc_delta_narrative", section);
    });
    // The Q4 pack is the next baseline: the approvals it carried are its approvals.
    let (code, _, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        &fixture("q4.yaml"),
        "--as-of",
        "2026-10-02",
        "--since",
        out.to_str().unwrap(),
    ]));
    assert!(code == 0 || code == 1, "{stderr}");
    let decisions = std::fs::read_to_string(out.join("baseline/decisions.csv")).unwrap();
    assert!(
        decisions.contains("soc,ann:erp:vendor-maint,olga,approve,2026-07-10T00:00:00Z"),
        "{decisions}"
    );
}

#[test]
fn a_baseline_with_one_modified_byte_is_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = q3_pack(tmp.path());
    let target = pack.join("baseline/inventory.jsonl.gz");
    let mut bytes = std::fs::read(&target).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&target, bytes).unwrap();
    for args in [
        vec!["check", "--inventory", &fixture("q4.yaml")],
        vec![
            "campaign",
            "plan",
            "--campaign",
            &fixture("campaign-q4.yaml"),
            "--inventory",
            &fixture("q4.yaml"),
        ],
    ] {
        let mut args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        args.extend(["--as-of", "2026-10-01", "--since", pack.to_str().unwrap()].map(str::to_owned));
        if args[0] == "campaign" {
            args.extend(["--out".to_owned(), tmp.path().join("plan").display().to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, stderr) = parts(&dualtrack(&args));
        assert_eq!(code, 3, "{stderr}");
        assert!(stderr.contains("DT1001"), "{stderr}");
        assert!(
            stderr.contains("`baseline/inventory.jsonl.gz` was modified"),
            "{stderr}"
        );
    }
    assert!(
        !tmp.path().join("plan").exists(),
        "nothing is written from a refused baseline"
    );
}
