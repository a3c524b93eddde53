//! Per-rule fixtures: `tests/fixtures/rules/<RULE-ID>.yaml` is an inventory in which every
//! identity named `fires-…` must get a finding of that rule and every `clean-…` must not.
//! The findings of the rule are snapshotted as JSON.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{TimeZone, Utc};
use dualtrack_engine::{evaluate, open, policy, Model, Options, Track};

use crate::common;

const FIXTURES: &str = "../tests/fixtures/rules";

/// SoD rules generated from matrix entries that share the compiler path of the entries
/// with fixtures (SOD-001, SOD-004, SOD-008 on SOX; SOD-008 on SOC); listed so a new rule
/// cannot slip by untested.
const GENERATED_WITHOUT_FIXTURE: &[&str] = &[
    "SOC-SOD-001",
    "SOC-SOD-002",
    "SOC-SOD-003",
    "SOC-SOD-004",
    "SOC-SOD-005",
    "SOC-SOD-006",
    "SOC-SOD-007",
    "SOX-SOD-002",
    "SOX-SODX-002",
    "SOX-SOD-003",
    "SOX-SODX-003",
    "SOX-SOD-005",
    "SOX-SODX-005",
    "SOX-SOD-006",
    "SOX-SODX-006",
    "SOX-SOD-007",
    "SOX-SODX-007",
];

fn fixtures() -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(FIXTURES)
        .expect("fixtures directory")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".yaml"))
                .map(str::to_owned)
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn every_rule_has_a_fixture() {
    let model = Model::load().expect("schema");
    let pack = policy::load(policy::builtin_files(), &model).expect("built-in pack");
    let have: BTreeSet<String> = fixtures().into_iter().collect();
    let missing: Vec<&str> = pack
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !have.contains(*id) && !GENERATED_WITHOUT_FIXTURE.contains(id))
        .collect();
    assert!(missing.is_empty(), "rules without a fixture: {missing:?}");
}

#[test]
fn each_rule_fires_exactly_where_its_fixture_says() {
    let model = Model::load().expect("schema");
    let pack = policy::load(policy::builtin_files(), &model).expect("built-in pack");
    let opts = Options {
        as_of: Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap(),
        tracks: Track::ALL.to_vec(),
    };
    let mut failures = Vec::new();
    for rule in fixtures() {
        let path = Path::new(FIXTURES).join(format!("{rule}.yaml"));
        let (inv, _) = open::load(&path).unwrap_or_else(|e| panic!("{rule}: {}", common::render(&e)));
        assert!(pack.rule(&rule).is_some(), "fixture {rule} names no rule of the pack");
        let report = evaluate(&inv, &pack, &model, &opts).unwrap_or_else(|e| panic!("{rule}: {}", common::render(&e)));
        let hits: Vec<_> = report.findings.iter().filter(|f| *f.rule == *rule).collect();
        let hit_ids: BTreeSet<&str> = hits.iter().map(|f| f.identity.as_str()).collect();
        let fires: BTreeSet<&str> = inv
            .identities
            .iter()
            .map(|i| i.id.as_str())
            .filter(|i| i.starts_with("fires-"))
            .collect();
        let clean = inv.identities.iter().filter(|i| i.id.starts_with("clean-")).count();
        if fires.is_empty() || clean == 0 {
            failures.push(format!("{rule}: fixture needs `fires-` and `clean-` identities"));
        }
        if hit_ids != fires {
            failures.push(format!("{rule}: fired on {hit_ids:?}, expected {fires:?}"));
        }
        let json: Vec<serde_json::Value> = hits.iter().map(|f| f.to_json()).collect();
        insta::assert_json_snapshot!(rule.as_str(), json);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
