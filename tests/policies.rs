//! Bad policies: each problem is a coded diagnostic at the YAML or `.cedar` line that
//! names the offending thing; nothing loads half-way.

use std::sync::Arc;

use dualtrack_engine::source::Source;
use dualtrack_engine::{policy, Model};

use crate::common;

/// The built-in catalogs plus `extra` files, loaded as a pack that must fail.
fn failing_pack(extra: &[(&str, &str)]) -> (Vec<&'static str>, String) {
    let model = Model::load().unwrap();
    let mut files: Vec<Arc<Source>> = policy::builtin_files()
        .into_iter()
        .filter(|s| s.name().ends_with("controls.yaml") || s.name().ends_with("functions.yaml"))
        .collect();
    files.extend(extra.iter().map(|(name, text)| Source::new(*name, *text)));
    let problems = policy::load(files, &model).expect_err("the pack must not load");
    (
        problems.0.iter().map(|p| p.code.as_str()).collect(),
        common::render(&problems),
    )
}

#[test]
fn yaml_syntax_error_in_a_rule_file() {
    let (codes, rendered) = failing_pack(&[("pack/soc/broken.yaml", "rules:\n  - id: X\n    title: \"unterminated\n")]);
    assert_eq!(codes, ["DT101"]);
    assert!(rendered.contains("pack/soc/broken.yaml:3"), "{rendered}");
}

#[test]
fn cedar_policy_naming_an_attribute_the_schema_lacks() {
    let cedar = "@id(\"T-1\") @track(\"soc\") @category(\"stale\") @severity(\"low\")\n\
                 @controls(\"CC6.3\") @title(\"t\") @remediation(\"r\")\n\
                 forbid (principal, action == Dualtrack::Action::\"identity\", resource)\n\
                 when { principal.last_login_days > 30 };\n";
    let (codes, rendered) = failing_pack(&[("pack/soc/custom.cedar", cedar)]);
    assert_eq!(codes, ["DT202"]);
    assert!(rendered.contains("last_login_days"), "{rendered}");
    assert!(rendered.contains("pack/soc/custom.cedar:4"), "{rendered}");
    insta::assert_snapshot!("cedar_unknown_attribute", rendered);
}

#[test]
fn yaml_rule_problems_are_all_reported_at_their_lines() {
    let yaml = "rules:\n  - id: T-2\n    title: t\n    track: sox\n    category: stal\n    severity: low\n    controls: [CC6.3, CC9.9]\n    applies_to: identity\n    when:\n      - identity.last_login: { gt: 3 }\n      - identity.kind: { like: human }\n    remediation: r\n    colour: red\n";
    let (codes, rendered) = failing_pack(&[("pack/sox/custom.yaml", yaml)]);
    assert_eq!(codes, ["DT108", "DT208", "DT103", "DT103"]);
    insta::assert_snapshot!("yaml_rule_problems", rendered);
}

#[test]
fn cedar_rules_need_their_annotations_and_a_forbid() {
    let cedar = "@id(\"T-3\") @track(\"soc\") @category(\"stale\") @severity(\"urgent\")\n\
                 @controls(\"CC6.3\") @title(\"t\")\n\
                 permit (principal, action, resource);\n";
    let (codes, _) = failing_pack(&[("pack/x.cedar", cedar)]);
    assert_eq!(codes, ["DT203"]);
}

#[test]
fn sod_matrix_with_an_unknown_function() {
    let yaml = "controls: [AC-5]\nremediation: r\nconflicts:\n  - id: SOD-900\n    title: t\n    functions: [payment-approve, vendor-master-maintian]\n";
    let (codes, rendered) = failing_pack(&[("pack/sox/sod.yaml", yaml)]);
    assert_eq!(codes, ["DT205"]);
    assert!(
        rendered.contains("did you mean `vendor-master-maintain`?"),
        "{rendered}"
    );
}

#[test]
fn duplicate_rule_ids_across_files() {
    let yaml = "rules:\n  - id: T-4\n    title: t\n    track: soc\n    category: stale\n    severity: low\n    controls: [CC6.3]\n    applies_to: identity\n    when: { identity.is_nhi: true }\n    remediation: r\n";
    let (codes, _) = failing_pack(&[("pack/a.yaml", yaml), ("pack/b.yaml", yaml)]);
    assert_eq!(codes, ["DT105"]);
}

#[test]
fn arbitrary_policy_files_never_panic() {
    let samples: &[(&str, &str)] = &[
        ("x.yaml", ""),
        ("x.yaml", "rules: 3"),
        ("x.yaml", "rules:\n  - when: [[[[]]]]"),
        (
            "x.yaml",
            "rules:\n  - {id: A, when: {not: {not: {any: [{identity.kind: {in: 3}}]}}}}",
        ),
        ("x.yaml", "conflicts: {}\n"),
        ("x.yaml", "conflicts:\n  - {id: SOD-1, functions: [a]}\n"),
        ("x.yaml", "a: &a [*a, *a]"),
        ("x.cedar", "forbid"),
        (
            "x.cedar",
            "@id(\"\") forbid (principal, action, resource) when { 1 + };",
        ),
        ("x.cedar", "permit(principal, action, resource);"),
        ("x.cedar", "\u{0}\u{1}"),
    ];
    for (name, text) in samples {
        let (codes, _) = failing_pack(&[(name, text)]);
        assert!(!codes.is_empty(), "{name}: {text:?} should be rejected with a code");
    }
}
