//! The user documentation in `docs/` stays complete and self-contained: every field the
//! loaders accept and every diagnostic code is documented, links between the docs resolve,
//! and no tracked file sends readers to the internal design note, which users never see.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use dualtrack_engine::campaign::{CAMPAIGN_FIELDS, TRACK_FIELDS};
use dualtrack_engine::decisions::DECISION_FIELDS;
use dualtrack_engine::exceptions::EXCEPTION_FIELDS;
use dualtrack_engine::inventory::{ENTITLEMENT_FIELDS, IDENTITY_FIELDS, SYSTEM_FIELDS};
use dualtrack_engine::render::CSV_HEADER;
use dualtrack_engine::Code;

use crate::common;

fn doc(name: &str) -> String {
    let path = common::root().join("docs").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The names of `fields` that `text` never writes as `` `name` ``.
fn undocumented<'a>(text: &str, fields: &[&'a str]) -> Vec<&'a str> {
    fields
        .iter()
        .copied()
        .filter(|f| !text.contains(&format!("`{f}`")))
        .collect()
}

#[test]
fn every_inventory_field_is_documented() {
    let text = doc("inventory.md");
    for (what, fields) in [
        ("system", SYSTEM_FIELDS),
        ("identity", IDENTITY_FIELDS),
        ("entitlement", ENTITLEMENT_FIELDS),
    ] {
        let missing = undocumented(&text, fields);
        assert!(missing.is_empty(), "docs/inventory.md lacks {what} fields {missing:?}");
    }
}

#[test]
fn every_review_file_field_is_documented() {
    let text = doc("review-files.md");
    for (what, fields) in [
        ("exception", EXCEPTION_FIELDS),
        ("campaign", CAMPAIGN_FIELDS),
        ("campaign track", TRACK_FIELDS),
        ("decision", DECISION_FIELDS),
    ] {
        let missing = undocumented(&text, fields);
        assert!(
            missing.is_empty(),
            "docs/review-files.md lacks {what} fields {missing:?}"
        );
    }
}

#[test]
fn every_finding_field_is_documented() {
    let text = doc("findings.md");
    let mut fields: Vec<&str> = CSV_HEADER.to_vec();
    fields.extend(["as_of", "summary", "findings", "evidence", "location"]);
    let missing = undocumented(&text, &fields);
    assert!(missing.is_empty(), "docs/findings.md lacks {missing:?}");
}

#[test]
fn every_diagnostic_code_is_documented() {
    let text = doc("diagnostics.md");
    let missing: Vec<String> = Code::ALL
        .iter()
        .filter(|c| !text.contains(&format!("| `{}` | `{}` |", c.as_str(), c.name())))
        .map(|c| format!("{} {}", c.as_str(), c.name()))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/diagnostics.md has no table row `| `CODE` | `name` |` for {missing:?}"
    );
}

#[test]
fn each_doc_names_its_schema() {
    for (name, schemas) in [
        ("inventory.md", &["inventory.schema.json"][..]),
        ("findings.md", &["findings.schema.json"]),
        ("review-files.md", &["exceptions.schema.json", "campaign.schema.json"]),
        ("cli.md", &["findings.schema.json", "policy-tests.schema.json"]),
        ("sources.md", &["sources.schema.json"]),
    ] {
        let text = doc(name);
        for schema in schemas {
            assert!(
                text.contains(&format!("schemas/{schema}")),
                "docs/{name} does not name schemas/{schema}"
            );
            assert!(
                common::root().join("schemas").join(schema).is_file(),
                "{schema} is gone"
            );
        }
    }
}

/// Files under version control, or every file of the work tree but `target/` and `.git/`
/// when git cannot list them.
fn tracked_files(root: &Path) -> Vec<PathBuf> {
    let listed = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z"])
        .output()
        .ok()
        .filter(|out| out.status.success() && !out.stdout.is_empty());
    match listed {
        Some(out) => out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| root.join(String::from_utf8_lossy(p).as_ref()))
            .collect(),
        None => {
            let mut files = Vec::new();
            walk(root, &mut files);
            files
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            if name != "target" && name != ".git" {
                walk(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_file_points_at_the_internal_design_note() {
    let root = common::root();
    // Built by concatenation, so this file does not match itself.
    let needles = [["DESIGN", ".md"].concat(), ["..", "/shared"].concat()];
    let files = tracked_files(&root);
    assert!(
        files.len() > 50,
        "found only {} files under {}",
        files.len(),
        root.display()
    );
    let mut hits = Vec::new();
    for file in files {
        // A file deleted in the work tree but still in the index has nothing to check.
        let Ok(bytes) = std::fs::read(&file) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        for (n, line) in text.lines().enumerate() {
            if needles.iter().any(|needle| line.contains(needle.as_str())) {
                let rel = file.strip_prefix(&root).unwrap_or(&file);
                hits.push(format!("{}:{}: {}", rel.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "users never see the internal design note; point at docs/ instead:\n{}",
        hits.join("\n")
    );
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.insert(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// The targets of the inline links `[text](target)` in `text`.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    out
}

#[test]
fn links_between_the_docs_resolve() {
    let root = common::root();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    assert!(pages.len() >= 5, "docs/ holds {pages:?}");
    pages.push(root.join("README.md"));
    pages.push(root.join("schemas/README.md"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut broken = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        let dir = page.parent().unwrap();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, fragment) = target.split_once('#').unwrap_or((target.as_str(), ""));
            let linked = if file.is_empty() { page.clone() } else { dir.join(file) };
            if !linked.exists() {
                broken.push(format!("{}: {target} (no such file)", page.display()));
                continue;
            }
            let is_md = linked.extension().is_some_and(|e| e == "md");
            if !fragment.is_empty() && is_md {
                let text = std::fs::read_to_string(&linked).unwrap();
                if !anchors(&text).contains(fragment) {
                    broken.push(format!("{}: {target} (no such heading)", page.display()));
                }
            }
        }
        let rel = page.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        if rel.starts_with("docs/") {
            assert!(readme.contains(&format!("({rel}")), "README.md does not link {rel}");
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
