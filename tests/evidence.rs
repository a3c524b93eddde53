//! `dualtrack evidence`: the pack's files for `examples/acme` with the held-back exceptions
//! (snapshots), manifest hashes that verify, identical trees on rerun, OSCAL structure,
//! and no directory replaced unless it holds a pack.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use dualtrack_engine::artefact::sha256_hex;
use serde_json::Value as Json;

use crate::common::{dualtrack, parts, root};

/// Runs `evidence` for acme with the exceptions fixture into `out`; returns the exit code
/// and stderr.
fn pack(out: &Path) -> (i32, String) {
    let (code, _, stderr) = parts(&dualtrack(&[
        "evidence",
        "--inventory",
        "examples/acme",
        "--exceptions",
        "tests/fixtures/exceptions/acme.yaml",
        "--as-of",
        "2026-10-01",
        "--out",
        out.to_str().unwrap(),
    ]));
    (code, stderr)
}

/// Every file under `dir`: relative path (forward slashes) → bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn built() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pack");
    let (code, stderr) = pack(&out);
    assert_eq!(code, 0, "stderr: {stderr}");
    (tmp, out)
}

#[test]
fn pack_files_for_acme() {
    let (_tmp, out) = built();
    let files = tree(&out);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "baseline/findings.jsonl.gz",
            "baseline/inventory.jsonl.gz",
            "manifest.json",
            "oscal/assessment-results.json",
            "population.csv",
            "report.html",
            "soc/exceptions.csv",
            "soc/findings.csv",
            "soc/narrative.md",
            "soc/signoff.md",
            "soc/summary.md",
            "sox/exceptions.csv",
            "sox/findings.csv",
            "sox/narrative.md",
            "sox/signoff.md",
            "sox/summary.md",
        ]
    );
    for (name, bytes) in &files {
        // The sign-off memo is checked by tests/review.rs, with and without decisions.
        if (name.ends_with(".md") && !name.ends_with("signoff.md")) || name.ends_with(".csv") || name == "manifest.json"
        {
            // Input hashes change with every policy or example edit; the manifest test
            // checks them against the files, the snapshots check everything else.
            let snap = format!("acme_{}", name.replace(['/', '.'], "_"));
            insta::with_settings!({filters => vec![(r"[0-9a-f]{64}", "[sha256]")]}, {
                insta::assert_snapshot!(snap, String::from_utf8(bytes.clone()).unwrap());
            });
        }
    }
}

#[test]
fn manifest_hashes_verify_and_cover_every_file() {
    let (_tmp, out) = built();
    let files = tree(&out);
    let manifest: Json = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let mut outputs = BTreeSet::new();
    let mut inputs = BTreeSet::new();
    for f in manifest["files"].as_array().unwrap() {
        let path = f["path"].as_str().unwrap();
        let want = f["sha256"].as_str().unwrap();
        match f["role"].as_str().unwrap() {
            "output" => {
                assert_eq!(sha256_hex(&files[path]), want, "{path}");
                outputs.insert(path.to_owned());
            }
            "input" => {
                // The built-in pack is embedded from `policies/`: its hashes match those files.
                let on_disk = root().join(path.strip_prefix("builtin:").unwrap_or(path));
                assert_eq!(sha256_hex(&std::fs::read(&on_disk).unwrap()), want, "{path}");
                inputs.insert(path.to_owned());
            }
            other => panic!("unexpected role {other}"),
        }
    }
    let written: BTreeSet<String> = files.keys().filter(|p| *p != "manifest.json").cloned().collect();
    assert_eq!(outputs, written, "every file but the manifest itself is listed");
    for input in [
        "examples/acme/entitlements.yaml",
        "examples/acme/identities.yaml",
        "examples/acme/systems.yaml",
        "tests/fixtures/exceptions/acme.yaml",
        "builtin:policies/controls.yaml",
        "builtin:policies/sox/sod-matrix.yaml",
    ] {
        assert!(inputs.contains(input), "{input} missing from {inputs:?}");
    }
}

#[test]
fn rerun_rewrites_identical_bytes_in_place() {
    let (tmp, out) = built();
    let first = tree(&out);
    // Into the existing pack (replaced) and into a fresh directory.
    let (code, stderr) = pack(&out);
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(tree(&out), first);
    let other = tmp.path().join("again");
    assert_eq!(pack(&other).0, 0);
    assert_eq!(tree(&other), first);
    // No staging or old directories are left beside the pack.
    let mut beside: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, ["again", "pack"]);
}

#[test]
fn a_directory_without_a_pack_is_not_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("notes");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let (code, stderr) = pack(&out);
    assert_eq!(code, 3);
    assert!(stderr.contains("refusing to replace it"), "{stderr}");
    assert_eq!(std::fs::read_to_string(out.join("keep.txt")).unwrap(), "mine");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "nothing staged is left"
    );
}

#[test]
fn a_planted_manifest_or_an_extra_file_does_not_make_a_directory_replaceable() {
    let tmp = tempfile::tempdir().unwrap();
    // Someone else's `manifest.json` (a browser extension, say) is not a pack.
    let foreign = tmp.path().join("extension");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("manifest.json"), r#"{"name": "x", "files": []}"#).unwrap();
    std::fs::write(foreign.join("background.js"), "keep").unwrap();
    let (code, stderr) = pack(&foreign);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("refusing to replace it"), "{stderr}");
    assert_eq!(std::fs::read_to_string(foreign.join("background.js")).unwrap(), "keep");
    // A real pack with a file of the user's added to it is not replaced either.
    let out = tmp.path().join("pack");
    assert_eq!(pack(&out).0, 0);
    std::fs::write(out.join("soc").join("my-notes.md"), "mine").unwrap();
    let (code, stderr) = pack(&out);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join("soc").join("my-notes.md")).unwrap(),
        "mine"
    );
}

#[test]
fn oscal_results_per_track_with_stable_linked_uuids() {
    let (_tmp, out) = built();
    let doc: Json = serde_json::from_slice(&std::fs::read(out.join("oscal/assessment-results.json")).unwrap()).unwrap();
    let ar = &doc["assessment-results"];
    assert_eq!(ar["metadata"]["oscal-version"], "1.1.2");
    assert_eq!(ar["metadata"]["last-modified"], "2026-10-01T00:00:00Z");
    let resources: BTreeSet<String> = ar["back-matter"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uuid"].as_str().unwrap().to_owned())
        .collect();
    let plan = ar["import-ap"]["href"].as_str().unwrap().strip_prefix('#').unwrap();
    assert!(resources.contains(plan), "import-ap points into back-matter");
    let results = ar["results"].as_array().unwrap();
    let tracks: Vec<&str> = results
        .iter()
        .map(|r| r["props"][0]["value"].as_str().unwrap())
        .collect();
    assert_eq!(tracks, ["soc", "sox"]);
    let sox = &results[1];
    let observations: BTreeSet<&str> = sox["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["uuid"].as_str().unwrap())
        .collect();
    let findings = sox["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 12, "one OSCAL finding per SOX finding");
    for f in findings {
        let obs = f["related-observations"][0]["observation-uuid"].as_str().unwrap();
        assert!(observations.contains(obs));
        assert_eq!(f["target"]["status"]["state"], "not-satisfied");
    }
    let excepted = findings
        .iter()
        .find(|f| f["title"] == "SOX-PRIV-001 on helen.zhou")
        .unwrap();
    let remarks = excepted["target"]["status"]["remarks"].as_str().unwrap();
    assert!(remarks.contains("EXC-2026-014"), "{remarks}");
    // Every defined UUID is distinct and shaped as version 5.
    let mut uuids = Vec::new();
    defined_uuids(&doc, &mut uuids);
    let distinct: BTreeSet<&String> = uuids.iter().collect();
    assert_eq!(distinct.len(), uuids.len());
    assert!(uuids.len() > 40);
    assert!(uuids.iter().all(|u| u.len() == 36 && u.as_bytes()[14] == b'5'));
}

fn defined_uuids(v: &Json, out: &mut Vec<String>) {
    match v {
        Json::Object(m) => {
            for (k, v) in m {
                if k == "uuid" {
                    out.push(v.as_str().unwrap().to_owned());
                } else {
                    defined_uuids(v, out);
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|i| defined_uuids(i, out)),
        _ => {}
    }
}

#[test]
fn decisions_add_a_log_per_track_and_match_check() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pack");
    let review = [
        "--inventory",
        "examples/acme",
        "--exceptions",
        "tests/fixtures/exceptions/acme.yaml",
        "--campaign",
        "tests/fixtures/campaign/acme.yaml",
        "--decisions",
        "tests/fixtures/decisions/acme.csv",
        "--as-of",
        "2026-10-01",
    ];
    let mut args = vec!["evidence", "--out", out.to_str().unwrap()];
    args.extend(review);
    let (code, _, stderr) = parts(&dualtrack(&args));
    assert_eq!(code, 0, "{stderr}");
    let files = tree(&out);
    let sox = String::from_utf8(files["sox/decisions.csv"].clone()).unwrap();
    let outcomes: Vec<(&str, &str)> = sox
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0], cells[6])
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("\"brian.foster:sap-fi:FI_GL_ACCOUNT_DISPLAY\"", "\"overdue\""),
            ("\"carlos.mendez:netsuite:Vendor Record Edit\"", "\"overdue\""),
            ("\"helen.zhou:sap-fi:FI_CUSTOMIZING_SPRO\"", "\"kept\""),
        ]
    );
    let soc = String::from_utf8(files["soc/decisions.csv"].clone()).unwrap();
    assert!(soc.contains("\"olga.berg:github:admin:org\"") && soc.contains("\"removed\""));
    assert!(soc.contains("\"pending\""));
    let manifest = String::from_utf8(files["manifest.json"].clone()).unwrap();
    assert!(
        manifest.contains("tests/fixtures/decisions/acme.csv")
            && manifest.contains("tests/fixtures/campaign/acme.yaml")
    );

    // The pack's findings (held evaluation) are those `check` streams, with the same status.
    let mut from_pack: Vec<(String, String)> = Vec::new();
    for track in ["soc", "sox"] {
        let mut r = csv::Reader::from_reader(&files[&format!("{track}/findings.csv")][..]);
        for rec in r.records() {
            let rec = rec.unwrap();
            from_pack.push((rec[0].to_owned(), rec[5].to_owned()));
        }
    }
    let mut args = vec!["check", "--format", "json"];
    args.extend(review);
    let (_, stdout, _) = parts(&dualtrack(&args));
    let report: Json = serde_json::from_str(&stdout).unwrap();
    let mut from_check: Vec<(String, String)> = report["findings"]
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
    from_pack.sort();
    from_check.sort();
    assert_eq!(from_pack, from_check);
    assert!(from_check.len() > 25);
}

#[test]
fn sap_risk_findings_go_to_their_track_of_the_pack() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pack");
    let (code, _, stderr) = parts(&dualtrack(&[
        "evidence",
        "--inventory",
        "tests/fixtures/sources/sap/sources-csv.yaml",
        "--as-of",
        "2026-10-01",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let files = tree(&out);
    let text = |name: &str| String::from_utf8(files[name].clone()).unwrap();
    let (soc, sox) = (text("soc/findings.csv"), text("sox/findings.csv"));
    assert!(
        soc.contains("SOC-SAP-P2P-01") && !soc.contains("SOX-SAP-P2P-01"),
        "{soc}"
    );
    assert!(
        sox.contains("SOX-SAP-P2P-01") && !sox.contains("SOC-SAP-P2P-01"),
        "{sox}"
    );
    // The narrative lists the risks among the criteria, as the track's own.
    let narrative = text("sox/narrative.md");
    assert!(narrative.contains("| `SOX-SAP-P2P-01` |"), "{narrative}");
    assert!(!narrative.contains("| `SOC-SAP-P2P-01` |"), "{narrative}");
}
