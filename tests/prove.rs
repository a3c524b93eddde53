//! `diff --prove` and `lint --prove`: verdicts over every inventory, decided by cvc5 on a
//! copy of the built-in pack. These tests need cvc5 (Debian: `apt-get install cvc5`, or
//! `CVC5=/path/to/cvc5`); without it they are skipped with a reason, except under
//! `CI=true`, where a missing solver fails them.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::common::{self, dualtrack, parts, root};

/// True when cvc5 can be found; otherwise skips (prints why) or, under `CI=true`, fails.
fn solver_present(test: &str) -> bool {
    let found = match std::env::var_os("CVC5") {
        Some(p) if !p.is_empty() => Path::new(&p).is_file(),
        _ => std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).any(|d| d.join("cvc5").is_file()))
            .unwrap_or(false),
    };
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: cvc5 is required under CI=true (apt-get install cvc5, or set CVC5)"
        );
        eprintln!("skipping {test}: cvc5 not found (apt-get install cvc5, or set CVC5)");
    }
    found
}

/// Copies of the built-in pack as `base` and `head` in a fresh directory.
fn two_packs() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (base, head) = (tmp.path().join("base"), tmp.path().join("head"));
    common::copy_tree(&root().join("policies"), &base);
    common::copy_tree(&root().join("policies"), &head);
    (tmp, base, head)
}

const STALE_001_WHEN: &str = "    when:\n      - entitlement.days_idle: { gt: 90 }\n";

/// Replaces SOC-STALE-001's `when:` in `pack` with `when`.
fn edit_stale_001(pack: &Path, when: &str) {
    let file = pack.join("soc/stale.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(STALE_001_WHEN), "the fixture edit applies");
    std::fs::write(&file, text.replacen(STALE_001_WHEN, when, 1)).unwrap();
}

fn prove(base: &Path, head: &Path, format: &str) -> (i32, String, String) {
    parts(&dualtrack(&[
        "diff",
        "--base",
        base.to_str().unwrap(),
        "--head",
        head.to_str().unwrap(),
        "--prove",
        "--format",
        format,
    ]))
}

/// `(rule, verdict)` of every rule whose verdict is not `equivalent`.
fn changed(json: &Json) -> Vec<(String, String)> {
    json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] != "equivalent")
        .map(|r| {
            (
                r["rule"].as_str().unwrap().to_owned(),
                r["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn rule<'a>(json: &'a Json, id: &str) -> &'a Json {
    json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == id)
        .unwrap()
}

/// `days_idle` of the entitlement evaluated in an example.
fn days_idle(example: &Json) -> i64 {
    let resource = example["resource"].as_str().unwrap();
    example["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "entitlement" && e["id"] == resource)
        .unwrap()["attrs"]["days_idle"]
        .as_i64()
        .unwrap()
}

#[test]
fn an_unchanged_pack_is_all_equivalent() {
    if !solver_present("an_unchanged_pack_is_all_equivalent") {
        return;
    }
    let (_tmp, base, head) = two_packs();
    let (code, out, err) = prove(&base, &head, "json");
    assert_eq!(code, 0, "{err}");
    let json: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(changed(&json), vec![]);
    assert!(json["rules"].as_array().unwrap().len() > 10);
    assert_eq!(json["summary"]["can_hide_findings"], false);
}

#[test]
fn raising_a_stale_threshold_only_removes_with_a_replayed_example() {
    if !solver_present("raising_a_stale_threshold_only_removes_with_a_replayed_example") {
        return;
    }
    let (_tmp, base, head) = two_packs();
    edit_stale_001(&head, &STALE_001_WHEN.replace("90", "120"));
    let (code, out, err) = prove(&base, &head, "json");
    assert_eq!(code, 1, "a change that can hide findings exits 1: {err}");
    let json: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(
        changed(&json),
        vec![("SOC-STALE-001".to_owned(), "only-removes".to_owned())]
    );
    let r = rule(&json, "SOC-STALE-001");
    assert!(r["adds_example"].is_null());
    let ex = &r["removes_example"];
    assert_eq!(
        (ex["base_fires"].as_bool(), ex["head_fires"].as_bool()),
        (Some(true), Some(false))
    );
    let idle = days_idle(ex);
    assert!(
        (91..=120).contains(&idle),
        "idle {idle} days: base flags it, head does not"
    );

    // With an inventory, its findings diff follows the proof, under `inventory`.
    let (code, out, err) = parts(&dualtrack(&[
        "diff",
        "--base",
        base.to_str().unwrap(),
        "--head",
        head.to_str().unwrap(),
        "--prove",
        "--inventory",
        root().join("examples/acme").to_str().unwrap(),
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
    ]));
    assert_eq!(code, 1, "{err}");
    let both: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(changed(&both), changed(&json));
    for key in ["added", "removed", "changed"] {
        assert!(both["inventory"][key].is_array(), "{key}: {out}");
    }

    // The human form shows the example as readable facts.
    let (code, text, _) = prove(&base, &head, "human");
    assert_eq!(code, 1);
    assert!(text.contains("soc SOC-STALE-001: only-removes"), "{text}");
    assert!(
        text.contains(&format!("last_used: {idle} days before the review date")),
        "{text}"
    );
}

#[test]
fn lowering_a_threshold_or_adding_an_any_branch_only_adds() {
    if !solver_present("lowering_a_threshold_or_adding_an_any_branch_only_adds") {
        return;
    }
    for when in [
        STALE_001_WHEN.replace("90", "60"),
        "    when:\n      any:\n        - entitlement.days_idle: { gt: 90 }\n        - entitlement.days_since_granted: { gt: 365 }\n"
            .to_owned(),
    ] {
        let (_tmp, base, head) = two_packs();
        edit_stale_001(&head, &when);
        let (code, out, err) = prove(&base, &head, "json");
        assert_eq!(code, 0, "{when}: {err}");
        let json: Json = serde_json::from_str(&out).unwrap();
        assert_eq!(changed(&json), vec![("SOC-STALE-001".to_owned(), "only-adds".to_owned())], "{when}");
        let ex = &rule(&json, "SOC-STALE-001")["adds_example"];
        assert_eq!((ex["base_fires"].as_bool(), ex["head_fires"].as_bool()), (Some(false), Some(true)));
    }
}

#[test]
fn an_equivalent_rewrite_is_equivalent_and_a_deleted_rule_is_removed() {
    if !solver_present("an_equivalent_rewrite_is_equivalent_and_a_deleted_rule_is_removed") {
        return;
    }
    let (_tmp, base, head) = two_packs();
    edit_stale_001(
        &head,
        "    when:\n      all:\n        - entitlement.days_idle: { gt: 90 }\n",
    );
    // The `when:` list of SOC-EXC-001 in the other order.
    let excessive = head.join("soc/excessive.yaml");
    let text = std::fs::read_to_string(&excessive).unwrap();
    let in_order = "      - entitlement.privileged: true\n      - entitlement.has_justification: false\n";
    assert!(text.contains(in_order), "the fixture edit applies");
    let reordered = "      - entitlement.has_justification: false\n      - entitlement.privileged: true\n";
    std::fs::write(&excessive, text.replacen(in_order, reordered, 1)).unwrap();
    std::fs::remove_file(head.join("sox/orphaned.cedar")).unwrap();
    let (code, out, err) = prove(&base, &head, "json");
    assert_eq!(code, 1, "{err}");
    let json: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(rule(&json, "SOC-STALE-001")["verdict"], "equivalent");
    assert_eq!(rule(&json, "SOC-EXC-001")["verdict"], "equivalent");
    let removed: Vec<_> = changed(&json);
    assert!(!removed.is_empty());
    assert!(
        removed
            .iter()
            .all(|(id, v)| id.starts_with("SOX-ORPH") && v == "removed"),
        "{removed:?}"
    );
    let md = prove(&base, &head, "markdown").1;
    assert!(md.contains("can hide findings"), "{md}");
}

#[test]
fn without_a_solver_prove_exits_2_with_an_install_hint() {
    let (_tmp, base, head) = two_packs();
    for args in [
        vec![
            "diff",
            "--base",
            base.to_str().unwrap(),
            "--head",
            head.to_str().unwrap(),
            "--prove",
        ],
        vec!["lint", "--policies", head.to_str().unwrap(), "--prove"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dualtrack"))
            .args(&args)
            .env("CVC5", "/nonexistent/cvc5")
            .output()
            .unwrap();
        let (code, _, err) = parts(&out);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("/nonexistent/cvc5") && err.contains("apt-get install cvc5"),
            "{err}"
        );
    }
}

/// The proof is over the Cedar facts; the day counts are derived in Rust before Cedar sees
/// them. This is the derived-fact contract the proof's examples rely on (`DAY_FACTS`, which
/// renders `days_idle = 91` as `last_used: 91 days before the review date`): each day fact
/// counts whole days between its inventory field and the review date, in the stated
/// direction, and is absent when the field is.
#[test]
fn each_day_fact_counts_days_between_its_field_and_the_review_date() {
    use chrono::{Duration, TimeZone, Utc};
    use dualtrack_engine::derive::Fact;
    use dualtrack_engine::prove::example::DAY_FACTS;

    let as_of = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
    let day = |n: i64| (as_of + Duration::days(n)).to_rfc3339();
    for (offset, expected) in [(37, 37), (0, 0), (-5, -5)] {
        // `before` fields lie `offset` days before the review date, the others after it.
        let mut ident = String::from("  - id: p1\n    kind: service_account\n    owner: p2\n");
        let mut ent = String::from("  - identity: p1\n    system: s1\n    permission: read\n");
        for (kind, _, field, before) in DAY_FACTS {
            let when = day(if *before { -offset } else { offset });
            let target = if *kind == "identity" { &mut ident } else { &mut ent };
            target.push_str(&format!("    {field}: \"{when}\"\n"));
        }
        let yaml = format!(
            "systems:\n  - id: s1\nidentities:\n{ident}  - id: p2\n    kind: human\n    status: terminated\nentitlements:\n{ent}"
        );
        let facts = day_facts(&yaml, as_of);
        for (kind, fact, field, _) in DAY_FACTS {
            assert_eq!(
                facts.get(&format!("{kind}.{fact}")),
                Some(&Fact::Long(expected)),
                "{kind}.{fact} from {field} at offset {offset}"
            );
        }
    }
    // Absent fields give absent facts: missing data is never a number.
    let facts = day_facts(
        "systems:\n  - id: s1\nidentities:\n  - id: p1\n    kind: human\nentitlements:\n  - identity: p1\n    system: s1\n    permission: read\n",
        as_of,
    );
    for (kind, fact, _, _) in DAY_FACTS {
        assert_eq!(
            facts.get(&format!("{kind}.{fact}")),
            None,
            "{kind}.{fact} without its field"
        );
    }
}

/// The derived facts of identity `p1` and its first entitlement in the inventory `yaml`,
/// as `identity.<fact>` and `entitlement.<fact>`.
fn day_facts(
    yaml: &str,
    as_of: chrono::DateTime<chrono::Utc>,
) -> std::collections::BTreeMap<String, dualtrack_engine::derive::Fact> {
    use dualtrack_engine::derive;
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("inv.yaml");
    std::fs::write(&path, yaml).unwrap();
    let (inv, _) = dualtrack_engine::open::load(&path).unwrap_or_else(|p| panic!("{p:?}"));
    let table = derive::system_table(&inv);
    let identity = inv.identities.iter().find(|i| i.id == "p1").unwrap();
    let ents: Vec<_> = inv.entitlements.iter().collect();
    let catalog = dualtrack_engine::policy::FunctionCatalog::default();
    let delegation = derive::Delegation::default();
    let view = derive::view(&inv, &table, &catalog, &delegation, as_of, identity, &ents);
    let mut out = std::collections::BTreeMap::new();
    for (k, v) in view.facts.iter() {
        out.insert(format!("identity.{k}"), v.clone());
    }
    for (k, v) in view.entitlements[0].1.iter() {
        out.insert(format!("entitlement.{k}"), v.clone());
    }
    out
}
/// `lint --prove` diagnostics of `pack` as `(code, message, file, line)`.
fn lint_prove(pack: &Path) -> Vec<(String, String, String, u64)> {
    let (_, out, err) = parts(&dualtrack(&[
        "lint",
        "--policies",
        pack.to_str().unwrap(),
        "--prove",
        "--format",
        "json",
    ]));
    let json: Json = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["message"].as_str().unwrap().to_owned(),
                d["file"].as_str().unwrap_or_default().to_owned(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn lint_prove_finds_contradictions_rules_that_can_error_and_rules_shadowed_or_repeated() {
    if !solver_present("lint_prove_finds_contradictions_rules_that_can_error_and_rules_shadowed_or_repeated") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("policies");
    common::copy_tree(&root().join("policies"), &pack);
    // The built-in pack has none of these.
    let proof_codes = ["DT410", "DT411", "DT412", "DT413", "DT414"];
    let builtin = lint_prove(&pack);
    assert!(
        builtin.iter().all(|d| !proof_codes.contains(&d.0.as_str())),
        "{builtin:?}"
    );
    // A hand-written rule whose arithmetic can overflow: Cedar errors, and `check` would
    // stop with DT301 on such an entitlement.
    std::fs::write(
        pack.join("soc/overflow.cedar"),
        r#"@id("SOC-TEST-901")
@track("soc")
@category("stale")
@severity("low")
@controls("CC6.3")
@title("Idle, scaled")
@message("scaled idleness")
@remediation("Revoke it.")
forbid (
  principal,
  action == Dualtrack::Action::"entitlement",
  resource
)
when {
  resource has days_idle && resource.days_idle * 1000000000000 > 90
};
"#,
    )
    .unwrap();
    // A rule that contradicts itself under `any:`/`not:`, which DT404's heuristic cannot
    // judge (vacuous); a rule stricter than SOC-STALE-001 (shadowed by it); and a copy of
    // it under another id with its condition written as `all:` (equivalent).
    let stale = pack.join("soc/stale.yaml");
    let mut text = std::fs::read_to_string(&stale).unwrap();
    for (id, when) in [
        (
            "SOC-STALE-900",
            "    when:\n      - entitlement.days_idle: { gt: 90 }\n      - not:\n          any:\n            - entitlement.days_idle: { gt: 30 }\n            - entitlement.privileged: true\n",
        ),
        (
            "SOC-STALE-902",
            "    when:\n      - entitlement.days_idle: { gt: 200 }\n",
        ),
        (
            "SOC-STALE-903",
            "    when:\n      all:\n        - entitlement.days_idle: { gt: 90 }\n",
        ),
    ] {
        text.push_str(&format!(
            "\n  - id: {id}\n    title: Test\n    track: soc\n    category: stale\n    severity: low\n    controls: [CC6.3]\n    applies_to: entitlement\n{when}    remediation: Revoke it.\n    description: A test rule.\n"
        ));
    }
    std::fs::write(&stale, text).unwrap();

    let found = lint_prove(&pack);
    let with = |code: &str| found.iter().filter(|d| d.0 == code).collect::<Vec<_>>();
    let errors = with("DT411");
    assert_eq!(errors.len(), 1, "{found:?}");
    assert!(
        errors[0].1.contains("SOC-TEST-901") && errors[0].1.contains("last_used:"),
        "{errors:?}"
    );
    assert!(errors[0].2.ends_with("overflow.cedar") && errors[0].3 > 0, "{errors:?}");
    assert!(
        with("DT413")
            .iter()
            .any(|d| d.1.contains("`SOC-STALE-902` is shadowed") && d.2.ends_with("stale.yaml")),
        "{found:?}"
    );
    assert!(
        with("DT412")
            .iter()
            .any(|d| d.1.contains("SOC-STALE-001") && d.1.contains("SOC-STALE-903")),
        "{found:?}"
    );
    let vacuous = with("DT410");
    assert_eq!(vacuous.len(), 1, "{found:?}");
    assert!(
        vacuous[0].1.contains("SOC-STALE-900") && vacuous[0].2.ends_with("stale.yaml") && vacuous[0].3 > 0,
        "{vacuous:?}"
    );
}

/// A stand-in for cvc5 that answers every question `unknown`, as cvc5 does when a query
/// runs out of time; written into `dir`.
fn unknown_solver(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("cvc5-unknown");
    std::fs::write(
        &path,
        "#!/bin/sh\nwhile IFS= read -r line; do\n  case \"$line\" in *'(check-sat)'*) echo unknown ;; esac\ndone\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_solver_that_cannot_decide_makes_the_changed_rule_inconclusive_never_a_pass() {
    let (tmp, base, head) = two_packs();
    edit_stale_001(&head, &STALE_001_WHEN.replace("90", "120"));
    let solver = unknown_solver(tmp.path());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dualtrack"))
        .args([
            "diff",
            "--base",
            base.to_str().unwrap(),
            "--head",
            head.to_str().unwrap(),
        ])
        .args(["--prove", "--format", "json"])
        .env("CVC5", &solver)
        .output()
        .unwrap();
    let (code, out, err) = parts(&out);
    assert_eq!(code, 1, "undecided is not clean: {err}");
    let json: Json = serde_json::from_str(&out).unwrap();
    // Unchanged rules compile to the same terms, and symcc's simplifier proves them
    // equivalent without asking the solver; the changed one needs it, and gets no answer.
    assert_eq!(
        changed(&json),
        vec![("SOC-STALE-001".to_owned(), "inconclusive".to_owned())]
    );
    let r = rule(&json, "SOC-STALE-001");
    assert!(r["reason"].as_str().is_some_and(|s| s.contains("unknown")), "{r}");
    assert!(r["adds_example"].is_null() && r["removes_example"].is_null(), "{r}");
    assert_eq!(json["summary"]["can_hide_findings"], true);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dualtrack"))
        .args([
            "lint",
            "--policies",
            head.to_str().unwrap(),
            "--prove",
            "--format",
            "json",
        ])
        .env("CVC5", &solver)
        .output()
        .unwrap();
    let (_, out, err) = parts(&out);
    let json: Json = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"DT414"), "{codes:?}");
    for proven in ["DT410", "DT411", "DT412", "DT413"] {
        assert!(
            !codes.contains(&proven),
            "{proven} from a solver that decided nothing: {codes:?}"
        );
    }
}
