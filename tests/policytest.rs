//! `dualtrack test`: the shipped pack's policy tests pass and cover every rule, a broken
//! rule fails with a readable diff, and an invalid test file is a coded diagnostic.

use std::path::Path;

use dualtrack_engine::policytest;
use dualtrack_engine::{policy, Model};
use serde_json::Value as Json;

use crate::common::{copy_tree as copy_pack, dualtrack, dualtrack_in, parts, root};

/// A temporary directory holding `pack/`, a copy of the built-in pack.
fn pack_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_pack(&root().join("policies"), &tmp.path().join("pack"));
    tmp
}

/// Replaces `from` (which must occur once) with `to` in `file` of the copied pack.
fn edit(tmp: &Path, file: &str, from: &str, to: &str) {
    let path = tmp.join("pack").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches(from).count(), 1, "`{from}` once in {file}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

/// Stdout without the lines of passing cases, which change whenever a case is added.
fn without_passes(stdout: &str) -> String {
    stdout
        .lines()
        .filter(|l| !l.starts_with("  ok "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn shipped_pack_passes_and_every_rule_has_a_test() {
    let (code, stdout, stderr) = parts(&dualtrack(&["test"]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    assert!(stdout.contains("\nrules without tests: none\n"), "{stdout}");
    assert!(
        stdout.contains("builtin:policies/tests/soc-stale.test.yaml\n"),
        "{stdout}"
    );

    let (code, json, _) = parts(&dualtrack(&["test", "--format", "json"]));
    assert_eq!(code, 0);
    let report: Json = serde_json::from_str(&json).unwrap();
    assert_eq!(report["summary"]["failed"], 0);
    assert_eq!(report["rules_without_tests"], Json::Array(Vec::new()));
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(report["summary"]["passed"], cases.len());
    assert!(cases.iter().all(|c| c["status"] == "pass"));
}

/// Each rule needs a case where it fires and a near miss: a case that compares the rule's
/// findings (it is in `only_rules`, or there is no filter) and expects none of them.
#[test]
fn every_rule_has_a_firing_case_and_a_near_miss() {
    let model = Model::load().unwrap();
    let pack = policy::load(policy::builtin_files(), &model).unwrap();
    let suite = policytest::load(policy::builtin_test_files(), &pack).unwrap();
    assert_eq!(
        pack.rules.len(),
        58,
        "the default pack's rule count changed: update the tests"
    );
    let mut gaps = Vec::new();
    for rule in &pack.rules {
        let names = |c: &policytest::Case| c.expect.iter().any(|e| e.rule == rule.id);
        let fires = suite.cases.iter().any(names);
        let near_miss = suite.cases.iter().any(|c| {
            c.tracks.contains(&rule.track) && c.only_rules.as_ref().is_some_and(|o| o.contains(&rule.id)) && !names(c)
        });
        if !fires || !near_miss {
            gaps.push(format!("{} (fires: {fires}, near miss: {near_miss})", rule.id));
        }
    }
    assert!(gaps.is_empty(), "rules missing a case: {gaps:?}");
}

#[test]
fn a_broken_rule_fails_with_a_readable_diff() {
    let tmp = pack_copy();
    // An idle threshold raised from 90 to 120 days: the 91-day case stops firing.
    edit(
        tmp.path(),
        "soc/stale.yaml",
        "entitlement.days_idle: { gt: 90 }",
        "entitlement.days_idle: { gt: 120 }",
    );
    // A SOX idle threshold lowered from 30 to 29 days: the 30-day near miss now fires.
    edit(
        tmp.path(),
        "sox/privileged.yaml",
        "entitlement.days_idle: { gt: 30 }",
        "entitlement.days_idle: { gt: 29 }",
    );
    let (code, stdout, stderr) = parts(&dualtrack_in(tmp.path(), &["test", "--policies", "pack"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("- expected (missing): SOC-STALE-001 alice [alice:wiki:editor]"));
    assert!(stdout.contains("+ unexpected: SOX-PRIV-002 bob [bob:sap:SAP_BASIS_ADMIN]"));
    assert!(stdout.contains("rules without tests: none"));
    insta::assert_snapshot!("broken_rule_diff", without_passes(&stdout));

    let (code, json, _) = parts(&dualtrack_in(
        tmp.path(),
        &["test", "--policies", "pack", "--format", "json"],
    ));
    assert_eq!(code, 1);
    let report: Json = serde_json::from_str(&json).unwrap();
    assert_eq!(report["summary"]["failed"], 2);
    let failed: Vec<&Json> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .collect();
    assert_eq!(failed[0]["missing"][0]["rule"], "SOC-STALE-001");
    assert_eq!(failed[1]["unexpected"][0]["rule"], "SOX-PRIV-002");
    assert_eq!(
        failed[1]["unexpected"][0]["message"],
        "privileged `SAP_BASIS_ADMIN` on in-scope `sap` was last used 30 days ago"
    );
}

#[test]
fn an_invalid_test_file_is_a_coded_diagnostic_at_its_line() {
    let tmp = pack_copy();
    let bad = "\
cases:
  - name: typos everywhere
    as_of: 2026-10-01
    only_rules: [SOC-STALE-001]
    identities:
      - { id: alice, kind: human, last_seen: 2026-09-30 }
    expect:
      - { rule: SOC-STALE-01, identity: alice }
      - { rule: SOC-STALE-002, identity: alice }
      - { rule: SOC-STALE-001, identity: alcie }
    colour: red
  - name: no review date
    expect: []
";
    std::fs::write(tmp.path().join("pack/tests/bad.test.yaml"), bad).unwrap();
    let (code, stdout, stderr) = parts(&dualtrack_in(tmp.path(), &["test", "--policies", "pack"]));
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.is_empty(), "no case runs when a test file is invalid");
    for (code, line) in [("DT501", 8), ("DT502", 9), ("DT106", 10), ("DT103", 11), ("DT104", 12)] {
        assert!(stderr.contains(code), "{code} missing:\n{stderr}");
        assert!(
            stderr.contains(&format!("pack/tests/bad.test.yaml:{line}")),
            "line {line}:\n{stderr}"
        );
    }
    assert!(stderr.contains("did you mean `SOC-STALE-001`?"), "{stderr}");
    insta::assert_snapshot!("invalid_test_file", stderr);
}

#[test]
fn filter_runs_matching_cases_and_test_files_may_sit_beside_rules() {
    let tmp = pack_copy();
    // A test file next to the rules is run as a test, never read as a rule file. Its
    // loose expectation comes first but must leave `b` to the one naming it.
    let local = "\
cases:
  - name: local idle pair
    as_of: 2026-10-01
    only_rules: [SOC-STALE-001]
    systems: [{ id: wiki }]
    identities: [{ id: alice, kind: human }]
    entitlements:
      - { identity: alice, system: wiki, permission: a, last_used: 2026-01-01 }
      - { identity: alice, system: wiki, permission: b, last_used: 2026-01-01 }
    expect:
      - { rule: SOC-STALE-001, identity: alice }
      - { rule: SOC-STALE-001, identity: alice, entitlements: [\"alice:wiki:a\"] }
";
    std::fs::write(tmp.path().join("pack/soc/local.test.yaml"), local).unwrap();
    let (code, stdout, stderr) = parts(&dualtrack_in(
        tmp.path(),
        &["test", "--policies", "pack", "--filter", "local"],
    ));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("pack/soc/local.test.yaml\n  ok    local idle pair\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("test result: ok. 1 case: 1 passed, 0 failed, "),
        "{stdout}"
    );

    let (code, _, stderr) = parts(&dualtrack(&["test", "--filter", "no such case"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("no test case matches `no such case`"), "{stderr}");
}
