//! Inputs the fuzz targets (`fuzz/`) crashed on, kept as `tests/fixtures/fuzz/<target>-<name>`:
//! each now gives a coded diagnostic (or, where the input is valid, a result) and never
//! panics, aborts or overflows the stack. The tests run on the test harness's threads,
//! whose stacks are smaller than the CLI's main thread.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use dualtrack_engine::limits::MAX_DEPTH;
use dualtrack_engine::policy::depth;
use dualtrack_engine::{open, policy, render, Model, Options, Pack, Problems, Track};

use crate::common;

/// `tests/fixtures/fuzz/<name>`.
fn fixture(name: &str) -> PathBuf {
    common::root().join("tests/fixtures/fuzz").join(name)
}

/// A pack directory: the built-in catalogs and `file` (named `name`).
fn pack_dir(tmp: &Path, name: &str, text: &str) -> PathBuf {
    let dir = tmp.join("pack");
    std::fs::create_dir_all(&dir).unwrap();
    for catalog in ["controls.yaml", "functions.yaml"] {
        std::fs::copy(common::root().join("policies").join(catalog), dir.join(catalog)).unwrap();
    }
    std::fs::write(dir.join(name), text).unwrap();
    dir
}

fn load_pack(dir: &Path) -> Result<(Model, Pack), Problems> {
    let model = Model::load().unwrap();
    let pack = policy::load(policy::dir_files(dir)?, &model)?;
    Ok((model, pack))
}

fn codes(p: &Problems) -> Vec<&'static str> {
    p.0.iter().map(|p| p.code.as_str()).collect()
}

/// `check --format json` on `examples/acme` with `pack` (evaluation runs on rayon's
/// threads).
fn check_acme(model: &Model, pack: &Pack) -> Result<String, Problems> {
    let opts = Options {
        as_of: Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap(),
        tracks: Track::ALL.to_vec(),
    };
    let idx = open::index(&common::root().join("examples/acme"))?;
    render::json_report(&idx, pack, model, &opts)
}

#[test]
fn cedar_nested_thousands_deep_is_refused_before_parsing() {
    // The bracket limit (crate::limits::MAX_DEPTH) landed with the readers' limits; this
    // input, which aborted the cedar fuzz target and `dualtrack lint`, stays as its test.
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("cedar-deep-parens.cedar")).unwrap();
    let err = load_pack(&pack_dir(tmp.path(), "deep.cedar", &text)).unwrap_err();
    assert_eq!(codes(&err), ["DT112"]);
    // Located at the bracket past the limit: line 11 holds the condition.
    assert!(err.0[0].at().ends_with("deep.cedar:11"), "{}", err.0[0].at());
}

#[test]
fn cedar_long_operator_chain_is_refused_before_parsing() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("cedar-long-or-chain.cedar")).unwrap();
    let err = load_pack(&pack_dir(tmp.path(), "chain.cedar", &text)).unwrap_err();
    assert_eq!(codes(&err), ["DT112"]);
    assert!(
        err.0[0].message.contains("more than 256 operators"),
        "{}",
        common::render(&err)
    );
}

#[test]
fn cedar_at_the_limits_loads_and_evaluates() {
    // 63 brackets inside the `when { }`, and a chain just under the operator limit.
    let terms = (depth::MAX_OPERATORS - 16) / 2;
    let condition = format!(
        "{}{}{}",
        "(".repeat(MAX_DEPTH - 1),
        vec!["principal.is_nhi"; terms].join(" || "),
        ")".repeat(MAX_DEPTH - 1)
    );
    let text = std::fs::read_to_string(fixture("cedar-long-or-chain.cedar"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("//"))
        .map(|l| {
            if l.starts_with("when") {
                format!("when {{ {condition} }};")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let tmp = tempfile::tempdir().unwrap();
    let (model, pack) =
        load_pack(&pack_dir(tmp.path(), "limits.cedar", &text)).unwrap_or_else(|p| panic!("{}", common::render(&p)));
    let rule = pack.rule("SOX-FUZZ-001").expect("the rule loaded");
    assert!(policy::text::cedar(rule).contains("principal.is_nhi"));
    let json = check_acme(&model, &pack).unwrap_or_else(|p| panic!("{}", common::render(&p)));
    assert!(
        json.contains("\"rule\": \"SOX-FUZZ-001\""),
        "the NHIs of Acme are found"
    );
}

#[test]
fn yaml_rule_with_a_thousand_conditions_compiles_and_evaluates() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("rules_yaml-many-conditions.yaml")).unwrap();
    let started = std::time::Instant::now();
    let (model, pack) =
        load_pack(&pack_dir(tmp.path(), "many.yaml", &text)).unwrap_or_else(|p| panic!("{}", common::render(&p)));
    let rule = pack.rule("SOC-FUZZ-001").expect("the rule compiled");
    let cedar = policy::text::cedar(rule);
    assert_eq!(cedar.matches("resource.days_idle <= ").count(), 1000, "{cedar}");
    check_acme(&model, &pack).unwrap_or_else(|p| panic!("{}", common::render(&p)));
    // Compiling was quadratic (each `&&` copied the chain below it): minutes in debug.
    assert!(started.elapsed().as_secs() < 60, "took {:?}", started.elapsed());
}

/// A pack whose track has more than 64 rules for one subject: the evaluator's rule masks
/// hold 64, and a 65th rule's bit overflowed the shift (a panic in debug builds). Every
/// rule past the 64th must still be evaluated: each of the 70 fires on every entitlement
/// of `examples/acme`.
#[test]
fn seventy_rules_for_one_subject_all_evaluate() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from("rules:\n");
    for n in 1..=70 {
        text.push_str(&format!(
            "  - id: SOC-MANY-{n:03}\n    title: Any entitlement {n}\n    track: soc\n    category: excessive\n    severity: low\n    controls: [CC6.3]\n    applies_to: entitlement\n    when:\n      - entitlement.permission: {{ present: true }}\n    remediation: Review it.\n    description: One of seventy.\n"
        ));
    }
    let (model, pack) =
        load_pack(&pack_dir(tmp.path(), "many.yaml", &text)).unwrap_or_else(|p| panic!("{}", common::render(&p)));
    assert_eq!(pack.rules.len(), 70);
    let json: serde_json::Value =
        serde_json::from_str(&check_acme(&model, &pack).unwrap_or_else(|p| panic!("{}", common::render(&p)))).unwrap();
    let entitlements = json["summary"]["entitlements"].as_u64().unwrap();
    assert!(entitlements > 0);
    let findings = json["findings"].as_array().unwrap();
    for n in 1..=70 {
        let id = format!("SOC-MANY-{n:03}");
        let fired = findings.iter().filter(|f| f["rule"] == id.as_str()).count() as u64;
        assert_eq!(fired, entitlements, "{id} fires on every entitlement");
    }
}
