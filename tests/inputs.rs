//! Bad inputs: every malformed inventory exits with coded, located diagnostics (snapshotted
//! as rendered, no colour, 80 columns) and never panics.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation is a failed test"
)]

mod common;

use std::path::Path;

use dualtrack_engine::inventory;

/// Loads a fixture that must fail; returns its codes and rendered diagnostics.
fn bad(name: &str) -> (Vec<&'static str>, String) {
    // Relative to the package directory (the test's working directory), so rendered paths
    // and their line wrapping do not depend on where the repository is checked out.
    let path = Path::new("../tests/fixtures/bad").join(name);
    let problems = match inventory::load(&path) {
        Ok(_) => panic!("{name} should not load"),
        Err(p) => p,
    };
    let codes = problems.0.iter().map(|p| p.code.as_str()).collect();
    (codes, common::render(&problems))
}

#[test]
fn every_field_problem_in_one_run() {
    let (codes, rendered) = bad("fields.yaml");
    assert_eq!(codes, ["DT102", "DT108", "DT103", "DT106", "DT107", "DT104", "DT105"]);
    insta::assert_snapshot!("fields", rendered);
}

#[test]
fn yaml_syntax_error_points_at_the_line() {
    let (codes, rendered) = bad("syntax.yaml");
    assert_eq!(codes, ["DT101"]);
    insta::assert_snapshot!("syntax", rendered);
}

#[test]
fn json_syntax_and_duplicate_keys() {
    assert_eq!(bad("trailing-comma.json").0, ["DT101"]);
    let (codes, rendered) = bad("duplicate-key.json");
    assert_eq!(codes, ["DT110"]);
    insta::assert_snapshot!("duplicate_key", rendered);
}

#[test]
fn csv_directory_problems() {
    let (codes, rendered) = bad("csv-dir");
    assert_eq!(codes, ["DT101", "DT103", "DT108"]);
    insta::assert_snapshot!("csv_dir", rendered);
}

#[test]
fn directory_without_entitlements_is_a_layout_error() {
    assert_eq!(bad("missing-section").0, ["DT109"]);
}

#[test]
fn csv_directory_loads_with_lines() {
    let path = common::root().join("tests/fixtures/good/csv-dir");
    let (inv, _) = inventory::load(&path).unwrap_or_else(|e| panic!("{}", common::render(&e)));
    let e = &inv.entitlements[0];
    assert_eq!(e.id, "alice:erp:FB50");
    assert_eq!(e.loc.line, 2);
    assert_eq!(
        e.functions.iter().map(|f| f.value.as_str()).collect::<Vec<_>>(),
        ["journal-entry-create", "user-admin"]
    );
    assert!(Path::new(e.loc.file()).ends_with("entitlements.csv"));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let samples: &[&[u8]] = &[
        b"",
        b"\xff\xfe",
        b"[",
        b"{\"systems\": [1, 2]}",
        b"- - - -",
        b"systems: *x",
        b"a: &a [*a]",
        b"\"\\u",
        b"systems:\n  - {id: [}",
    ];
    for (i, bytes) in samples.iter().enumerate() {
        for ext in ["yaml", "json"] {
            let path = tmp.path().join(format!("s{i}.{ext}"));
            std::fs::write(&path, bytes).unwrap();
            assert!(inventory::load(&path).is_err(), "{path:?} should be rejected");
            // `check` indexes instead of loading; it must refuse the same files.
            assert!(
                inventory::index(&path).is_err(),
                "{path:?} should be rejected when indexed"
            );
        }
    }
}
