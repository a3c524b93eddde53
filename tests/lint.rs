//! `dualtrack lint`: the loaders' errors with file and line, the lint-only warnings on
//! rules and catalogs, inventory data quality, exit codes and the JSON form.

use std::path::PathBuf;

use dualtrack_engine::lint::{self, Inputs};
use dualtrack_engine::{Code, Level, Problem, Problems};
use serde_json::Value as Json;

use crate::common::{self, dualtrack, parts};

/// A fixture path relative to the package directory (the tests' working directory), so
/// rendered paths do not depend on where the repository is checked out.
fn fixture(name: &str) -> PathBuf {
    PathBuf::from("../tests/fixtures").join(name)
}

fn lint_policies(name: &str) -> Problems {
    lint::run(&Inputs {
        policies: Some(fixture(name)),
        inventory: None,
        ..Default::default()
    })
}

/// One line per problem: code, level, `file:line` and message.
fn listing(problems: &Problems) -> String {
    problems
        .0
        .iter()
        .map(|p| format!("{} {} {} {}", p.code.as_str(), p.level.as_str(), p.at(), p.message))
        .collect::<Vec<_>>()
        .join("\n")
}

fn only(problems: &Problems, code: Code) -> Vec<&Problem> {
    problems.0.iter().filter(|p| p.code == code).collect()
}

#[test]
fn builtin_pack_has_no_errors_or_warnings() {
    let problems = lint::run(&Inputs::default());
    assert!(!problems.has_errors(), "{}", listing(&problems));
    assert_eq!(problems.count(Level::Warning), 0, "{}", listing(&problems));
    insta::assert_snapshot!("builtin_pack", listing(&problems));
}

#[test]
fn builtin_pack_passes_with_deny_warnings() {
    let (code, stdout, _) = parts(&dualtrack(&["lint", "--deny-warnings"]));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.ends_with("0 error(s), 0 warning(s), 6 note(s)\n"), "{stdout}");
}

#[test]
fn yaml_syntax_error_exits_3_with_file_and_line() {
    let (code, stdout, _) = parts(&dualtrack(&["lint", "--policies", "tests/fixtures/lint/broken-yaml"]));
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.contains("DT101(syntax)"), "{stdout}");
    assert!(
        stdout.contains("tests/fixtures/lint/broken-yaml/soc/broken.yaml:4:12"),
        "{stdout}"
    );
    assert!(!stdout.contains('\u{1b}'), "no colour off a terminal");

    let problems = lint_policies("lint/broken-yaml");
    // The broken file does not stop the others from being checked.
    let codes: Vec<&str> = problems.0.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["DT101", "DT403"]);
    insta::assert_snapshot!("broken_yaml", common::render(&problems));
}

#[test]
fn cedar_rule_naming_an_unknown_attribute_exits_3() {
    let (code, stdout, _) = parts(&dualtrack(&[
        "lint",
        "--policies",
        "tests/fixtures/lint/cedar-unknown-attribute",
    ]));
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains("tests/fixtures/lint/cedar-unknown-attribute/sox/custom.cedar:14"),
        "{stdout}"
    );
    assert!(stdout.contains("`last_login_days`"), "{stdout}");

    let problems = lint_policies("lint/cedar-unknown-attribute");
    let codes: Vec<&str> = problems.0.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["DT202"]);
    insta::assert_snapshot!("cedar_unknown_attribute", common::render(&problems));
}

#[test]
fn warnings_pack_lists_every_lint_warning() {
    let problems = lint_policies("lint/warnings");
    assert!(!problems.has_errors(), "{}", listing(&problems));
    insta::assert_snapshot!("warnings_pack", common::render(&problems));
}

#[test]
fn warnings_exit_0_unless_denied() {
    let args = ["lint", "--policies", "tests/fixtures/lint/warnings"];
    assert_eq!(parts(&dualtrack(&args)).0, 0);
    let denied: Vec<&str> = args.iter().copied().chain(["--deny-warnings"]).collect();
    assert_eq!(parts(&dualtrack(&denied)).0, 3);
}

#[test]
fn duplicate_rule_on_one_track_only() {
    let problems = lint_policies("lint/warnings");
    let dups = only(&problems, Code::DuplicateRule);
    // SOC-T-002 repeats SOC-T-001 in another order; SOX-T-001 has the same condition on
    // the other track, which is not a duplicate.
    assert_eq!(dups.len(), 1, "{}", listing(&problems));
    assert_eq!(dups[0].at(), "../tests/fixtures/lint/warnings/soc/rules.yaml:17");
    assert!(dups[0].message.contains("`SOC-T-002`") && dups[0].message.contains("`SOC-T-001`"));
}

#[test]
fn contradictory_rules_never_fire() {
    let problems = lint_policies("lint/warnings");
    let never: Vec<(String, &str)> = only(&problems, Code::NeverFires)
        .into_iter()
        .map(|p| (p.at(), p.message.as_str()))
        .collect();
    let file = "../tests/fixtures/lint/warnings/soc/rules.yaml";
    assert_eq!(
        never,
        [
            (
                format!("{file}:40"),
                "rule `SOC-T-003` can never fire: `entitlement.days_idle` cannot be greater than 90 and less than 30"
            ),
            (
                format!("{file}:66"),
                "rule `SOC-T-005` can never fire: `identity.days_since_seen` cannot be missing and greater than 10"
            ),
            (
                format!("{file}:81"),
                "rule `SOC-T-006` can never fire: `identity.status` cannot be `active` and `terminated`"
            ),
        ]
    );
    // SOC-T-007's alternatives are under `any:`, so they do not contradict.
    assert!(!listing(&problems).contains("SOC-T-007"));
}

#[test]
fn values_outside_an_attributes_domain() {
    let problems = lint_policies("lint/warnings");
    let outside = only(&problems, Code::OutsideDomain);
    assert_eq!(outside.len(), 2, "{}", listing(&problems));
    assert_eq!(
        outside[0].message,
        "rule `SOC-T-004` can never fire: `identity.kind` is never `robot`"
    );
    assert_eq!(outside[1].help.as_deref(), Some("did you mean `disabled`?"));
}

#[test]
fn withdrawn_control_warns_unless_its_successor_is_cited() {
    let problems = lint_policies("lint/warnings");
    let withdrawn: Vec<(Level, String)> = only(&problems, Code::WithdrawnControl)
        .into_iter()
        .map(|p| (p.level, p.at()))
        .collect();
    assert_eq!(
        withdrawn,
        [
            // SOC-T-001 cites PR.AC-4 alone; SOX-LEGACY-001 (`.cedar`) too, in `@controls`.
            (
                Level::Warning,
                "../tests/fixtures/lint/warnings/soc/rules.yaml:9".to_owned()
            ),
            // SOC-T-005 cites PR.AA-05 as well: a note.
            (
                Level::Note,
                "../tests/fixtures/lint/warnings/soc/rules.yaml:61".to_owned()
            ),
            (
                Level::Warning,
                "../tests/fixtures/lint/warnings/sox/legacy.cedar:6".to_owned()
            ),
            // Once for the four rules the SoD matrix compiles to.
            (
                Level::Warning,
                "../tests/fixtures/lint/warnings/sox/sod.yaml:3".to_owned()
            ),
        ]
    );
    let matrix = only(&problems, Code::WithdrawnControl)[3];
    assert!(
        matrix
            .message
            .starts_with("4 rules (`SOX-SOD-001`, `SOX-SOD-005`, `SOX-SODX-001`, …) cite `PR.AC-4`"),
        "{}",
        matrix.message
    );
    let warning = only(&problems, Code::WithdrawnControl)[0];
    assert_eq!(
        warning.help.as_deref(),
        Some("cite its successor `PR.AA-05` instead (or as well)")
    );
    let label = only(&problems, Code::SourceLabelControl)[0];
    assert!(
        label.message.contains("`NHI3:2025` is \"Vulnerable Third-Party NHI\""),
        "{}",
        label.message
    );
}

#[test]
fn sod_function_without_a_mapping() {
    let problems = lint_policies("lint/warnings");
    let unmapped = only(&problems, Code::UnmappedFunction);
    assert_eq!(unmapped.len(), 1, "{}", listing(&problems));
    assert_eq!(
        unmapped[0].level,
        Level::Note,
        "without an inventory nothing is certain"
    );
    assert_eq!(unmapped[0].at(), "../tests/fixtures/lint/warnings/sox/sod.yaml:10");
    assert!(unmapped[0].message.contains("`payroll-approve`"));

    // With an inventory in which nobody holds it either, the conflict is blind: a warning.
    let with_inventory = lint::run(&Inputs {
        policies: Some(fixture("lint/warnings")),
        inventory: Some(PathBuf::from("../examples/acme")),
        ..Default::default()
    });
    let functions: Vec<(Level, &str)> = only(&with_inventory, Code::UnmappedFunction)
        .into_iter()
        .map(|p| (p.level, p.message.as_str()))
        .collect();
    assert_eq!(
        functions,
        [(
            Level::Note,
            "no entitlement of the inventory holds SoD function `payroll-maintain`: its mappings match no permission, so conflict `SOD-005` cannot fire on this inventory"
        )],
        "acme lists `payroll-approve` on an entitlement, and maps nothing to `payroll-maintain`"
    );
}

#[test]
fn acme_inventory_data_quality() {
    let problems = lint::run(&Inputs {
        policies: None,
        inventory: Some(PathBuf::from("../examples/acme")),
        ..Default::default()
    });
    assert!(!problems.has_errors(), "{}", listing(&problems));
    let inventory_only = Problems(
        problems
            .0
            .iter()
            .filter(|p| !p.at().starts_with("builtin:"))
            .cloned()
            .collect(),
    );
    insta::assert_snapshot!("acme_data_quality", common::render(&inventory_only));
}

#[test]
fn data_quality_lists_twenty_records_then_a_count() {
    let tmp = tempfile::tempdir().unwrap();
    let mut yaml = String::from(
        "systems:\n  - { id: crm }\nidentities:\n  - { id: ann, kind: human, last_seen: 2026-09-01 }\nentitlements:\n",
    );
    for n in 0..25 {
        yaml.push_str(&format!(
            "  - {{ identity: ann, system: crm, permission: P{n:02}, last_used: 2026-09-01 }}\n"
        ));
    }
    let path = tmp.path().join("inventory.yaml");
    std::fs::write(&path, yaml).unwrap();
    let problems = lint::run(&Inputs {
        policies: None,
        inventory: Some(path),
        ..Default::default()
    });
    let listed = only(&problems, Code::MissingJustification);
    assert_eq!(listed.len(), 21, "{}", listing(&problems));
    assert_eq!(listed[19].message, "entitlement `ann:crm:P19` has no `justification`");
    assert_eq!(
        listed[20].message,
        "5 more entitlements without `justification`, from this record on"
    );
    assert_eq!(listed[20].loc.as_ref().map(|l| l.line), Some(26));
}

#[test]
fn json_format() {
    let (code, stdout, _) = parts(&dualtrack(&[
        "lint",
        "--inventory",
        "examples/acme",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    let report: Json = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(report["summary"]["errors"], 0);
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(
        report["summary"]["warnings"].as_u64().unwrap() + report["summary"]["notes"].as_u64().unwrap(),
        diagnostics.len() as u64
    );
    insta::assert_json_snapshot!("acme_json", report);
}

#[test]
fn odd_policies_are_linted_without_panicking() {
    let rule = |when: &str| {
        format!(
            "rules:\n  - {{ id: T-1, title: t, track: soc, category: stale, severity: low, controls: [CC6.3], applies_to: identity, remediation: r, when: {when} }}\n"
        )
    };
    let samples: [(String, &[&str]); 10] = [
        (rule("[]"), &[]),
        (rule("{all: [{any: []}]}"), &[]),
        // Cedar rejects the empty set; lint adds that nothing is in it.
        (rule("{identity.kind: {in: []}}"), &["DT202", "DT404"]),
        (rule("[{identity.tags.team: {in: [a]}}, {identity.tags.team: b}]"), &["DT404"]),
        (
            rule("[{identity.entitlement_count: {gt: 9223372036854775807}}, {identity.entitlement_count: {lt: -9223372036854775808}}]"),
            &["DT404", "DT405"],
        ),
        // Under `not:` nothing is concluded.
        (rule("{not: {identity.kind: robot}}"), &[]),
        (
            rule("[{identity.functions: {contains: nope}}, {identity.sox_same_system_pairs: {contains: a+b}}]"),
            &["DT405", "DT405"],
        ),
        (
            "rules: [{id: T-2, when: [[[[]]]]}]".to_owned(),
            &["DT104", "DT104", "DT104", "DT104", "DT104", "DT104", "DT104"],
        ),
        // A recursive alias is refused as a limit, not expanded.
        ("a: &a [*a, *a]".to_owned(), &["DT112"]),
        (
            "controls: []\nconflicts: [{id: SOD-1, functions: [a]}]\n".to_owned(),
            &["DT104", "DT104", "DT102", "DT104", "DT205"],
        ),
    ];
    for (sample, expected) in &samples {
        let tmp = tempfile::tempdir().unwrap();
        for catalog in ["controls.yaml", "functions.yaml"] {
            std::fs::copy(fixture("lint/broken-yaml").join(catalog), tmp.path().join(catalog)).unwrap();
        }
        std::fs::write(tmp.path().join("rules.yaml"), sample).unwrap();
        let problems = lint::run(&Inputs {
            policies: Some(tmp.path().to_owned()),
            inventory: None,
            ..Default::default()
        });
        let codes: Vec<&str> = problems.0.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(&codes, expected, "{sample}: {}", listing(&problems));
    }
}
