//! Compiler tests: YAML values stay literals, conditions mean what the README says.

use std::sync::Arc;

use chrono::{TimeZone, Utc};

use crate::diag::Code;
use crate::model::Model;
use crate::source::Source;
use crate::{evaluate, open, Options, Pack, Track};

use super::{builtin_files, load};

/// The built-in catalogs plus one rule file.
fn pack_with(rules: &str) -> Result<Pack, crate::Problems> {
    let model = Model::load().map_err(|p| crate::Problems(vec![p]))?;
    let mut files: Vec<Arc<Source>> = builtin_files()
        .into_iter()
        .filter(|s| s.name().ends_with("controls.yaml") || s.name().ends_with("functions.yaml"))
        .collect();
    files.push(Source::new("test-rules.yaml", rules));
    load(files, &model)
}

fn findings_for(pack: &Pack, inventory_yaml: &str) -> Vec<(String, String)> {
    let dir = std::env::temp_dir().join(format!(
        "dualtrack-unit-{}-{}",
        std::process::id(),
        inventory_yaml.len()
    ));
    std::fs::create_dir_all(&dir).ok();
    let path = dir.join("inventory.yaml");
    std::fs::write(&path, inventory_yaml).ok();
    let Ok((inv, _)) = open::load(&path) else {
        return vec![("load-failed".into(), String::new())];
    };
    let Ok(model) = Model::load() else { return vec![] };
    let opts = Options {
        as_of: Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).single().unwrap_or_default(),
        tracks: Track::ALL.to_vec(),
    };
    let Ok(report) = evaluate(&inv, pack, &model, &opts) else {
        return vec![("eval-failed".into(), String::new())];
    };
    report
        .findings
        .into_iter()
        .map(|f| (f.rule.to_string(), f.identity))
        .collect()
}

const INJECTION: &str = r#"
rules:
  - id: T-LIT-001
    title: literal test
    track: soc
    category: excessive
    severity: low
    controls: [CC6.3]
    applies_to: identity
    when:
      - identity.department: 'x" || true || "'
      - identity.kind: { in: ["human", "a} when { true"] }
    remediation: none
"#;

#[test]
fn yaml_values_with_cedar_syntax_stay_literals() {
    let pack = match pack_with(INJECTION) {
        Ok(p) => p,
        Err(e) => panic!("pack should load: {e:?}"),
    };
    let rule = pack.rule("T-LIT-001").map(|r| r.policy.to_string()).unwrap_or_default();
    // The value is one escaped string literal inside an equality, not code.
    assert!(
        rule.contains(r#"(principal["department"]) == "x\" || true || \"""#)
            || rule.contains(r#"principal.department == "x\" || true || \"""#),
        "{rule}"
    );
    let inv = r#"
systems: []
entitlements: []
identities:
  - { id: finance-person, kind: human, department: Finance, last_seen: 2026-09-30 }
  - { id: odd-person, kind: human, department: 'x" || true || "', last_seen: 2026-09-30 }
"#;
    let hits = findings_for(&pack, inv);
    assert_eq!(hits, vec![("T-LIT-001".to_owned(), "odd-person".to_owned())]);
}

#[test]
fn comparisons_on_missing_data_are_false_and_missing_is_testable() {
    let rules = r#"
rules:
  - id: T-MISS-001
    title: idle
    track: soc
    category: stale
    severity: low
    controls: [CC6.3]
    applies_to: identity
    when: { identity.days_since_seen: { gt: 10 } }
    remediation: none
  - id: T-MISS-002
    title: no data
    track: soc
    category: unverifiable
    severity: low
    controls: [CC6.3]
    applies_to: identity
    when: { identity.days_since_seen: { missing: true } }
    remediation: none
"#;
    let pack = pack_with(rules).map_err(|e| format!("{e:?}"));
    let Ok(pack) = pack else { panic!("{pack:?}") };
    let inv = r#"
systems: []
entitlements: []
identities:
  - { id: idle, kind: human, last_seen: 2026-01-01 }
  - { id: recent, kind: human, last_seen: 2026-09-30 }
  - { id: unknown, kind: human }
"#;
    let mut hits = findings_for(&pack, inv);
    hits.sort();
    assert_eq!(
        hits,
        vec![
            ("T-MISS-001".to_owned(), "idle".to_owned()),
            ("T-MISS-002".to_owned(), "unknown".to_owned())
        ]
    );
}

#[test]
fn unknown_attribute_is_reported_at_its_yaml_line_with_a_suggestion() {
    let rules = "rules:\n  - id: T-BAD-001\n    title: t\n    track: soc\n    category: stale\n    severity: low\n    controls: [CC6.3]\n    applies_to: entitlement\n    when:\n      - entitlement.days_iddle: { gt: 1 }\n    remediation: none\n";
    let Err(problems) = pack_with(rules) else {
        panic!("a misspelt attribute must not load")
    };
    let p = problems.0.iter().find(|p| p.code == Code::UnknownAttribute);
    let Some(p) = p else { panic!("{problems:?}") };
    assert_eq!(p.loc.as_ref().map(|l| l.line), Some(10));
    assert_eq!(p.help.as_deref(), Some("did you mean `days_idle`?"));
}

#[test]
fn unknown_control_is_an_error() {
    let rules = INJECTION.replace("[CC6.3]", "[CC9.9]");
    let Err(problems) = pack_with(&rules) else {
        panic!("an unknown control must not load")
    };
    assert!(
        problems.0.iter().any(|p| p.code == Code::UnknownControl),
        "{problems:?}"
    );
}

#[test]
fn builtin_pack_loads_and_validates() {
    let model = Model::load();
    let Ok(model) = model else { panic!("schema") };
    let pack = load(builtin_files(), &model);
    let Ok(pack) = pack else { panic!("{:?}", pack.err()) };
    let ids: Vec<&str> = pack.rules.iter().map(|r| r.id.as_str()).collect();
    for id in [
        "SOC-STALE-001",
        "SOC-ORPH-001",
        "SOX-SOD-001",
        "SOX-SODX-008",
        "SOX-ORPH-001",
        "SOX-PRIV-001",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    for c in [
        "NHI-03",
        "PR.AC-4",
        "PR.AA-05",
        "CC6.3",
        "NHI3:2025",
        "NHI10:2025",
        "AC-6(7)",
    ] {
        assert!(pack.controls.get(c).is_some(), "{c} missing from the control catalog");
    }
}
