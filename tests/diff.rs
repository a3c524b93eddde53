//! `dualtrack diff`: the findings impact of a policy change on the acme inventory.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value as Json;

use crate::common::{self, dualtrack, dualtrack_in, parts, root};

/// Copies the built-in pack (`policies/`) to `to`.
fn copy_pack(to: &Path) {
    common::copy_tree(&root().join("policies"), to);
}

fn acme_diff(base: &Path, head: &Path, format: &str) -> (i32, String, String) {
    parts(&dualtrack(&[
        "diff",
        "--base",
        base.to_str().unwrap(),
        "--head",
        head.to_str().unwrap(),
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-01",
        "--format",
        format,
    ]))
}

/// (rule, identity) of every finding in a list.
fn keys(list: &Json) -> BTreeSet<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["identity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The acme findings of the rules whose id starts with `prefix`, from `check`.
fn acme_findings(prefix: &str) -> BTreeSet<(String, String)> {
    let (_, out, _) = parts(&dualtrack(&[
        "check",
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
    ]));
    let report: Json = serde_json::from_str(&out).unwrap();
    keys(&report["findings"])
        .into_iter()
        .filter(|(rule, _)| rule.starts_with(prefix))
        .collect()
}

#[test]
fn deleting_a_rule_file_removes_exactly_its_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, head) = (tmp.path().join("base"), tmp.path().join("head"));
    copy_pack(&base);
    copy_pack(&head);
    std::fs::remove_file(head.join("soc/orphaned.yaml")).unwrap();
    std::fs::remove_file(head.join("tests/soc-orphaned.test.yaml")).ok();

    let (code, out, err) = acme_diff(&base, &head, "json");
    assert_eq!(code, 0, "removing findings adds none: {err}");
    let d: Json = serde_json::from_str(&out).unwrap();
    let expected = acme_findings("SOC-ORPH-");
    assert!(!expected.is_empty(), "acme has SOC orphaned findings");
    assert_eq!(keys(&d["removed"]), expected);
    assert_eq!(d["added"], Json::Array(vec![]));
    assert_eq!(d["changed"], Json::Array(vec![]));

    // The other way round the same findings are added, and that fails the check.
    let (code, out, _) = acme_diff(&head, &base, "json");
    assert_eq!(code, 1);
    let d: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(keys(&d["added"]), expected);
    assert_eq!(d["removed"], Json::Array(vec![]));

    let (code, md, _) = acme_diff(&head, &base, "markdown");
    assert_eq!(code, 1);
    insta::assert_snapshot!("added_orphaned_markdown", md);
}

#[test]
fn a_changed_threshold_changes_and_removes_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, head) = (tmp.path().join("base"), tmp.path().join("head"));
    copy_pack(&base);
    copy_pack(&head);
    let stale = head.join("soc/stale.yaml");
    let text = std::fs::read_to_string(&stale).unwrap();
    let idle = "entitlement.days_idle: { gt: 90 }";
    assert!(text.contains(idle), "the idle threshold is written as `{idle}`");
    std::fs::write(&stale, text.replacen(idle, "entitlement.days_idle: { gt: 400 }", 1)).unwrap();
    let (code, out, err) = acme_diff(&base, &head, "json");
    assert_eq!(code, 0, "{err}");
    let d: Json = serde_json::from_str(&out).unwrap();
    assert!(
        !d["removed"].as_array().unwrap().is_empty(),
        "a laxer threshold drops findings"
    );
    assert_eq!(d["added"], Json::Array(vec![]));
    // Human output ends with the counts.
    let (_, human, _) = acme_diff(&base, &head, "human");
    let removed = d["removed"].as_array().unwrap().len();
    let changed = d["changed"].as_array().unwrap().len();
    assert!(
        human.ends_with(&format!("0 added, {removed} removed, {changed} changed\n")),
        "{human}"
    );
}

#[test]
fn base_can_be_a_git_revision() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    let pack = repo.join("review/policies");
    copy_pack(&pack);
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.invalid",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(repo)
            // Run from a git hook or `rebase --exec`, these would point git at the
            // project's own repository instead of the temporary one.
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "pack"]);
    std::fs::remove_file(pack.join("soc/orphaned.yaml")).unwrap();
    std::fs::remove_file(pack.join("tests/soc-orphaned.test.yaml")).ok();
    let inventory = root().join("examples/acme");
    let run = |base: &str| {
        parts(&dualtrack_in(
            &repo.join("review"),
            &[
                "diff",
                "--base",
                base,
                "--head",
                "policies",
                "--inventory",
                inventory.to_str().unwrap(),
                "--as-of",
                "2026-10-01",
                "--format",
                "json",
            ],
        ))
    };
    let (code, out, err) = run("HEAD");
    assert_eq!(code, 0, "{err}");
    let d: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(keys(&d["removed"]), acme_findings("SOC-ORPH-"));

    let (code, _, err) = run("no-such-rev");
    assert_eq!(code, 2);
    assert!(err.contains("`no-such-rev` is not a directory"), "{err}");
}
