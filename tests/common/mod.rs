//! Shared helpers for the workspace-level tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs the built `dualtrack` binary with `args` from `dir`.
pub fn dualtrack_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dualtrack"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        // As a user in `dir` runs it, even when the tests run from a git hook.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("the dualtrack binary runs")
}

/// Runs `dualtrack` from the repository root.
pub fn dualtrack(args: &[&str]) -> Output {
    dualtrack_in(&root(), args)
}

/// Exit code, stdout and stderr as strings.
pub fn parts(out: &Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Copies the directory tree `from` to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Renders diagnostics the way the CLI does, without colour, at 80 columns.
pub fn render(problems: &dualtrack_engine::Problems) -> String {
    let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(80)
        .with_links(false);
    let mut out = String::new();
    for p in &problems.0 {
        handler.render_report(&mut out, p).expect("renders");
    }
    out
}

/// `check --format json` on `inventory` (relative to the repository root) as of
/// 2026-10-01: exit code, report (`null` when stdout is not JSON), stderr.
pub fn check_json(inventory: &str) -> (i32, serde_json::Value, String) {
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        inventory,
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
    ]));
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (code, json, stderr)
}

/// (rule, identity) of every finding of a JSON report.
pub fn fired(report: &serde_json::Value) -> std::collections::BTreeSet<(String, String)> {
    report["findings"]
        .as_array()
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
