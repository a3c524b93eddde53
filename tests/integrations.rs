//! The GitHub Action (`action.yml`) and the pre-commit hooks (`.pre-commit-hooks.yaml`)
//! are well-formed, declare what they use, and call dualtrack the way its CLI expects.

use std::collections::BTreeSet;

use serde_yaml::Value as Yaml;

use crate::common::{dualtrack, parts, root};

fn load(name: &str) -> Yaml {
    let text = std::fs::read_to_string(root().join(name)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"))
}

fn text(v: &Yaml) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}

fn steps(action: &Yaml) -> &[Yaml] {
    action["runs"]["steps"].as_sequence().unwrap()
}

/// The step whose `id` is `id`.
fn step<'a>(action: &'a Yaml, id: &str) -> &'a Yaml {
    steps(action)
        .iter()
        .find(|s| s["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no step `{id}`"))
}

#[test]
fn action_is_a_composite_action_with_the_documented_inputs() {
    let action = load("action.yml");
    assert!(!text(&action["name"]).is_empty());
    assert!(!text(&action["description"]).is_empty());
    assert_eq!(text(&action["runs"]["using"]), "composite");
    let inputs: BTreeSet<&str> = action["inputs"].as_mapping().unwrap().keys().map(text).collect();
    for name in ["inventory", "policies", "base", "fail-on", "as-of"] {
        assert!(inputs.contains(name), "input `{name}` missing");
        assert!(!text(&action["inputs"][name]["description"]).is_empty(), "{name}");
    }
    assert_eq!(action["inputs"]["inventory"]["required"], Yaml::Bool(true));
    assert_eq!(
        text(&action["inputs"]["base"]["default"]),
        "${{ github.event.pull_request.base.sha }}"
    );

    // Every `inputs.X` the action reads is declared; a typo would read as empty.
    let raw = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let used = regex::Regex::new(r"inputs\.([A-Za-z0-9_-]+)").unwrap();
    for m in used.captures_iter(&raw) {
        assert!(inputs.contains(&m[1]), "action.yml reads undeclared input `{}`", &m[1]);
    }

    // A composite step that runs a script must name its shell, and scripts read inputs
    // from `env:` only, so a crafted input value cannot inject shell code.
    for s in steps(&action) {
        if let Some(script) = s["run"].as_str() {
            assert!(s["shell"].as_str().is_some(), "step without shell: {s:?}");
            assert!(!script.contains("${{"), "expression inside a script: {script}");
        } else {
            assert!(s["uses"].as_str().is_some(), "step neither runs nor uses: {s:?}");
        }
    }
}

#[test]
fn action_uploads_check_sarif_and_writes_the_diff_to_the_summary() {
    let action = load("action.yml");
    let check = text(&step(&action, "check")["run"]);
    assert!(
        check.contains("args=(check --inventory \"$INVENTORY\" --format sarif"),
        "{check}"
    );
    let upload = steps(&action)
        .iter()
        .find(|s| s["uses"].as_str() == Some("github/codeql-action/upload-sarif@v3"))
        .expect("an upload-sarif step");
    assert_eq!(
        text(&upload["with"]["sarif_file"]),
        "${{ steps.check.outputs.sarif-file }}"
    );
    let diff = step(&action, "diff");
    let script = text(&diff["run"]);
    assert!(
        script.contains("diff --base \"$BASE\" --head \"$POLICIES\" --inventory \"$INVENTORY\" --format markdown"),
        "{script}"
    );
    assert!(script.contains(">> \"$GITHUB_STEP_SUMMARY\""), "{script}");
    assert!(text(&diff["if"]).contains("inputs.base != ''"));
}

#[test]
fn action_fail_on_default_is_a_value_check_accepts() {
    let action = load("action.yml");
    let fail_on = text(&action["inputs"]["fail-on"]["default"]);
    let (code, _, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-01",
        "--fail-on",
        fail_on,
    ]));
    assert_eq!(
        code, 1,
        "acme has high findings, so `--fail-on {fail_on}` fails: {stderr}"
    );
}

/// The commands the action's scripts build, run as the action runs them on the example.
#[test]
fn action_commands_run_as_the_cli_expects() {
    let (code, sarif, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        "examples/acme",
        "--format",
        "sarif",
        "--fail-on",
        "high",
        "--as-of",
        "2026-10-01",
    ]));
    assert_eq!(code, 1, "{stderr}");
    let log: serde_json::Value = serde_json::from_str(&sarif).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty());

    // The base is a directory here; in the action it is the pull request's base commit.
    let (code, markdown, stderr) = parts(&dualtrack(&[
        "diff",
        "--base",
        "policies",
        "--head",
        "policies",
        "--inventory",
        "examples/acme",
        "--format",
        "markdown",
        "--fail-on",
        "high",
        "--as-of",
        "2026-10-01",
    ]));
    assert_eq!(code, 0, "an unchanged pack adds nothing: {stderr}");
    assert!(!markdown.trim().is_empty());
}

#[test]
fn pre_commit_hooks_run_lint_and_test_on_policy_and_inventory_files() {
    let hooks = load(".pre-commit-hooks.yaml");
    let hooks = hooks.as_sequence().expect("a list of hooks");
    let ids: Vec<&str> = hooks.iter().map(|h| text(&h["id"])).collect();
    assert_eq!(ids, ["dualtrack-lint", "dualtrack-test"]);
    for h in hooks {
        for key in ["id", "name", "entry", "language", "files"] {
            assert!(h[key].as_str().is_some_and(|v| !v.is_empty()), "{key} in {h:?}");
        }
        assert!(["system", "rust"].contains(&text(&h["language"])));
        assert_eq!(
            h["pass_filenames"],
            Yaml::Bool(false),
            "dualtrack reads a pack, not single files"
        );
    }
    assert_eq!(text(&hooks[0]["entry"]), "dualtrack lint");
    assert_eq!(text(&hooks[1]["entry"]), "dualtrack test");

    let lint = regex::Regex::new(text(&hooks[0]["files"])).unwrap();
    for path in [
        "policies/soc/stale.yaml",
        "policies/sox/orphaned.cedar",
        "review/inventory/identities.csv",
        "exceptions.yaml",
        "review/campaign.yml",
    ] {
        assert!(lint.is_match(path), "lint skips {path}");
    }
    let test = regex::Regex::new(text(&hooks[1]["files"])).unwrap();
    assert!(test.is_match("policies/tests/soc-stale.test.yaml"));
    for path in ["README.md", "src/main.rs", "docs/policies.md"] {
        assert!(!lint.is_match(path) && !test.is_match(path), "runs on {path}");
    }
}

#[test]
fn pre_commit_test_hook_entry_runs() {
    let (code, stdout, stderr) = parts(&dualtrack(&["test"]));
    assert_eq!(code, 0, "{stdout}{stderr}");
}
