//! Whole-command tests of `dualtrack check`: exit codes, stdout, stderr.

use serde_json::Value as Json;

use crate::common::{dualtrack, dualtrack_in, parts, root};

const ACME: &[&str] = &["check", "--inventory", "examples/acme", "--as-of", "2026-10-01"];

fn acme(extra: &[&str]) -> (i32, String, String) {
    let args: Vec<&str> = ACME.iter().chain(extra).copied().collect();
    parts(&dualtrack(&args))
}

/// Runs `check --format json --as-of 2026-10-01` on an inventory written from `yaml`.
fn check_yaml(yaml: &str) -> (i32, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("inv.yaml");
    std::fs::write(&inv, yaml).unwrap();
    let args = [
        "check",
        "--inventory",
        inv.to_str().unwrap(),
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
    ];
    parts(&dualtrack(&args))
}

fn without_locations(mut report: Json) -> Json {
    if let Some(findings) = report.get_mut("findings").and_then(Json::as_array_mut) {
        for f in findings {
            if let Some(obj) = f.as_object_mut() {
                obj.remove("location");
            }
        }
    }
    report
}

#[test]
fn acme_json_report() {
    let (code, stdout, stderr) = acme(&["--format", "json"]);
    assert_eq!(
        code, 1,
        "findings exist, so the default --fail-on low exits 1; stderr: {stderr}"
    );
    let report: Json = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(report["summary"]["evaluated"]["soc"], report["summary"]["entitlements"]);
    assert_eq!(report["summary"]["evaluated"]["sox"], report["summary"]["entitlements"]);
    let categories: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    for c in ["stale", "excessive", "conflicting", "orphaned", "unverifiable"] {
        assert!(categories.contains(c), "acme has no {c} finding");
    }
    insta::assert_snapshot!("acme_json", stdout);
}

#[test]
fn acme_human_report_is_plain_text_off_a_terminal() {
    let (code, stdout, _) = acme(&[]);
    assert_eq!(code, 1);
    assert!(!stdout.contains('\u{1b}'), "no colour when stdout is not a terminal");
    assert!(stdout.lines().all(|l| l.chars().count() <= 80), "fits 80 columns");
    insta::assert_snapshot!("acme_human", stdout);
}

#[test]
fn same_findings_whatever_the_record_order_and_format() {
    let (_, yaml_dir, _) = acme(&["--format", "json"]);
    let tmp = tempfile::tempdir().unwrap();
    let mut whole = serde_json::Map::new();
    for section in ["systems", "identities", "entitlements"] {
        let text = std::fs::read_to_string(root().join(format!("examples/acme/{section}.yaml"))).unwrap();
        let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let mut records: Vec<Json> = serde_json::to_value(&doc[section]).unwrap().as_array().unwrap().clone();
        records.reverse();
        whole.insert(section.to_owned(), Json::Array(records));
    }
    let reversed = tmp.path().join("reversed.json");
    std::fs::write(&reversed, serde_json::to_string_pretty(&Json::Object(whole)).unwrap()).unwrap();
    let (_, reversed_out, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        reversed.to_str().unwrap(),
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
    ]));
    let a = without_locations(serde_json::from_str(&yaml_dir).unwrap());
    let b = without_locations(serde_json::from_str(&reversed_out).expect(&stderr));
    assert_eq!(a, b, "only record locations may differ");
    // And a rerun gives the same bytes.
    let (_, again, _) = acme(&["--format", "json"]);
    assert_eq!(yaml_dir, again);
}

#[test]
fn fail_on_threshold_sets_the_exit_code() {
    assert_eq!(acme(&["--fail-on", "never"]).0, 0);
    assert_eq!(acme(&["--fail-on", "critical"]).0, 1);
}

#[test]
fn track_filter_evaluates_one_track() {
    let (_, stdout, _) = acme(&["--track", "sox", "--format", "json"]);
    let report: Json = serde_json::from_str(&stdout).unwrap();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["track"] == "sox"));
    assert!(report["summary"]["evaluated"].get("soc").is_none());
}

#[test]
fn builtin_pack_works_from_any_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = root().join("examples/acme");
    let out = dualtrack_in(
        tmp.path(),
        &[
            "check",
            "--inventory",
            inv.to_str().unwrap(),
            "--as-of",
            "2026-10-01",
            "--format",
            "json",
        ],
    );
    let (code, stdout, stderr) = parts(&out);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("SOX-SOD-001"));
}

#[test]
fn policies_dir_replaces_the_builtin_pack() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("pack");
    for file in ["controls.yaml", "functions.yaml", "soc/stale.yaml"] {
        let to = pack.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root().join("policies").join(file), to).unwrap();
    }
    let (_, stdout, stderr) = acme(&["--policies", pack.to_str().unwrap(), "--format", "json"]);
    let report: Json = serde_json::from_str(&stdout).expect(&stderr);
    let rules: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.is_empty());
    assert!(rules.iter().all(|r| r.starts_with("SOC-STALE-")), "{rules:?}");
}

#[test]
fn yaml_syntax_error_exits_3_with_file_and_line() {
    let (code, stdout, stderr) = check_yaml("systems: []\nidentities:\n  - id: a\n   kind: human\nentitlements: []\n");
    assert_eq!(code, 3);
    assert!(stdout.is_empty());
    assert!(stderr.contains("DT101"), "{stderr}");
    assert!(stderr.contains("inv.yaml:4"), "{stderr}");
}

#[test]
fn dangling_reference_exits_3_with_file_and_line() {
    let (code, _, stderr) = check_yaml(
        "systems:\n  - id: erp\nidentities:\n  - id: a\n    kind: human\nentitlements:\n  - identity: a\n    system: epr\n    permission: X\n",
    );
    assert_eq!(code, 3);
    assert!(stderr.contains("DT106"), "{stderr}");
    assert!(stderr.contains("inv.yaml:8"), "{stderr}");
    assert!(stderr.contains("did you mean `erp`?"), "{stderr}");
}

#[test]
fn cedar_evaluation_error_fails_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    for file in ["controls.yaml", "functions.yaml"] {
        std::fs::copy(root().join("policies").join(file), pack.join(file)).unwrap();
    }
    // Validates in Strict mode, but overflows at run time for any identity seen before as-of.
    std::fs::write(
        pack.join("overflow.cedar"),
        "@id(\"T-OVERFLOW\") @track(\"soc\") @category(\"stale\") @severity(\"low\") @controls(\"CC6.3\")\n\
         @title(\"overflow\") @remediation(\"none\")\n\
         forbid (principal, action == Dualtrack::Action::\"identity\", resource)\n\
         when { principal has days_since_seen && principal.days_since_seen + 9223372036854775807 < 0 };\n",
    )
    .unwrap();
    let (code, stdout, stderr) = acme(&["--policies", pack.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.is_empty(), "no report when evaluation failed");
    assert!(stderr.contains("DT301"), "{stderr}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        parts(&dualtrack(&[
            "check",
            "--inventory",
            "examples/acme",
            "--as-of",
            "yesterday"
        ]))
        .0,
        2
    );
    assert_eq!(
        parts(&dualtrack(&[
            "check",
            "--inventory",
            "examples/acme",
            "--format",
            "pdf"
        ]))
        .0,
        2
    );
    assert_eq!(parts(&dualtrack(&["check"])).0, 2);
}

#[test]
fn explain_a_rule_prints_its_controls_and_cedar() {
    let (code, stdout, _) = parts(&dualtrack(&["explain", "SOX-PRIV-001"]));
    assert_eq!(code, 0);
    assert!(stdout.starts_with("SOX-PRIV-001 — Privileged access to an in-scope system without justification"));
    assert!(stdout.contains("PR.AC-4 — NIST CSF 1.1"), "{stdout}");
    assert!(stdout.contains("[withdrawn]"), "{stdout}");
    assert!(stdout.contains("@id(\"SOX-PRIV-001\")"), "{stdout}");
    assert!(stdout.contains("resource.privileged"), "{stdout}");
    let (code, _, stderr) = parts(&dualtrack(&["explain", "SOX-PRIV-01"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("did you mean `SOX-PRIV-001`?"), "{stderr}");
}

#[test]
fn explain_a_finding_shows_the_values_that_fired() {
    let (_, json, _) = acme(&["--format", "json"]);
    let report: Json = serde_json::from_str(&json).unwrap();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "SOC-STALE-001")
        .unwrap();
    let id = finding["id"].as_str().unwrap();
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "explain",
        id,
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-01",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let idle = finding["evidence"]["entitlement.days_idle"].as_i64().unwrap();
    assert!(stdout.contains(&format!("entitlement.days_idle = {idle}")), "{stdout}");
    assert!(
        stdout.contains("SOC-STALE-001 — Entitlement unused for more than 90 days"),
        "{stdout}"
    );
}

#[test]
fn compile_prints_cedar_for_every_yaml_and_matrix_rule() {
    let (code, stdout, _) = parts(&dualtrack(&["compile"]));
    assert_eq!(code, 0);
    let (_, json, _) = acme(&["--format", "json"]);
    let report: Json = serde_json::from_str(&json).unwrap();
    let rules =
        report["summary"]["rules"]["soc"].as_u64().unwrap() + report["summary"]["rules"]["sox"].as_u64().unwrap();
    let cedar_files = 2; // SOX-ORPH-001 and SOX-ORPH-002 are written in .cedar, not compiled
    assert_eq!(stdout.matches("\nforbid (").count() as u64, rules - cedar_files);
    assert!(!stdout.contains("SOX-ORPH-001"));
    let (code, one, _) = parts(&dualtrack(&["compile", "SOC-STALE-001"]));
    assert_eq!(code, 0);
    assert!(
        one.contains("(resource has days_idle)") && one.contains("resource.days_idle"),
        "{one}"
    );
}

#[test]
fn identity_without_kind_is_read_as_a_person_with_a_warning() {
    let (code, stdout, stderr) = check_yaml(
        "systems:\n  - id: erp\nidentities:\n  - id: a\n    status: terminated\nentitlements:\n  - {identity: a, system: erp, permission: X, justification: j, last_used: 2026-09-30}\n",
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("DT104") && stderr.contains("read as `human`"),
        "{stderr}"
    );
    assert!(stderr.contains("inv.yaml:4"), "{stderr}");
    assert!(
        stdout.contains("SOC-ORPH-003"),
        "a terminated person still holding access: {stdout}"
    );
}

#[test]
fn an_owner_missing_from_the_inventory_is_reported_as_orphaned_not_rejected() {
    let (code, stdout, stderr) = check_yaml(
        "systems:\n  - id: erp\nidentities:\n  - id: svc\n    kind: service_account\n    owner: person-who-left\n    last_seen: 2026-09-30\nentitlements:\n  - {identity: svc, system: erp, permission: X, justification: j, last_used: 2026-09-30}\n",
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("DT106") && stderr.contains("inv.yaml:6"), "{stderr}");
    let report: Json = serde_json::from_str(&stdout).unwrap();
    let orphaned: Vec<&Json> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "SOC-ORPH-002")
        .collect();
    assert_eq!(orphaned.len(), 1, "{stdout}");
    assert_eq!(orphaned[0]["evidence"]["identity.owner_status"], "unknown");
}

/// The last progress line on stderr, as (done, total), if any.
fn last_progress(stderr: &str) -> Option<(u64, u64)> {
    let line = stderr.lines().rev().find(|l| l.contains("identities evaluated"))?;
    let rest = line.strip_prefix("dualtrack: ")?;
    let (done, rest) = rest.split_once(" of ")?;
    let (total, _) = rest.split_once(' ')?;
    Some((done.parse().ok()?, total.parse().ok()?))
}

#[test]
fn progress_goes_to_stderr_only_when_asked_for_off_a_terminal() {
    let (_, _, quiet) = acme(&["--format", "json"]);
    assert_eq!(last_progress(&quiet), None, "{quiet}");
    let (code, stdout, stderr) = acme(&["--format", "json", "--progress"]);
    assert_eq!(code, 1, "{stderr}");
    let (done, identities) = last_progress(&stderr).expect("a progress line");
    assert_eq!(done, identities);
    assert!(identities > 0);
    // The report on stdout is the same with or without progress.
    let (_, plain, _) = acme(&["--format", "json"]);
    assert_eq!(stdout, plain);

    // `diff` evaluates every identity twice, with the base and the head policies.
    let (_, _, stderr) = parts(&dualtrack(&[
        "diff",
        "--base",
        "policies",
        "--head",
        "policies",
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-01",
        "--progress",
    ]));
    assert_eq!(
        last_progress(&stderr),
        Some((2 * identities, 2 * identities)),
        "{stderr}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pack");
    let (code, _, stderr) = parts(&dualtrack(&[
        "evidence",
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-01",
        "--out",
        out.to_str().unwrap(),
        "--progress",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(last_progress(&stderr), Some((identities, identities)), "{stderr}");
}
