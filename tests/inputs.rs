//! Bad inputs: every malformed inventory exits with coded, located diagnostics (snapshotted
//! as rendered, no colour, 80 columns) and never panics.

use std::path::Path;

use dualtrack_engine::open;

use crate::common;

/// Loads an input of the bad corpus (`tests/corpus/bad/CASE/FILE`, see `tests/corpus.rs`,
/// which runs the same cases through the CLI) that must fail; returns its codes and
/// rendered diagnostics.
fn bad(name: &str) -> (Vec<&'static str>, String) {
    // Relative to the package directory (the test's working directory), so rendered paths
    // and their line wrapping do not depend on where the repository is checked out.
    let path = Path::new("../tests/corpus/bad").join(name);
    let problems = match open::load(&path) {
        Ok(_) => panic!("{name} should not load"),
        Err(p) => p,
    };
    let codes = problems.0.iter().map(|p| p.code.as_str()).collect();
    (codes, common::render(&problems))
}

#[test]
fn every_field_problem_in_one_run() {
    let (codes, rendered) = bad("inventory-yaml-every-field-problem/inventory.yaml");
    assert_eq!(codes, ["DT102", "DT108", "DT103", "DT106", "DT107", "DT104", "DT105"]);
    insta::assert_snapshot!("fields", rendered);
}

#[test]
fn yaml_syntax_error_points_at_the_line() {
    let (codes, rendered) = bad("inventory-yaml-unclosed-quote/inventory.yaml");
    assert_eq!(codes, ["DT101"]);
    insta::assert_snapshot!("syntax", rendered);
}

#[test]
fn json_syntax_and_duplicate_keys() {
    assert_eq!(
        bad("inventory-json-trailing-comma-after-section/inventory.json").0,
        ["DT101"]
    );
    let (codes, rendered) = bad("inventory-json-duplicate-key-in-system/inventory.json");
    assert_eq!(codes, ["DT110"]);
    insta::assert_snapshot!("duplicate_key", rendered);
}

#[test]
fn csv_directory_problems() {
    let (codes, rendered) = bad("inventory-csv-several-problems/inv");
    assert_eq!(codes, ["DT101", "DT103", "DT108"]);
    insta::assert_snapshot!("csv_dir", rendered);
}

#[test]
fn directory_without_entitlements_is_a_layout_error() {
    assert_eq!(bad("inventory-dir-missing-section/inv").0, ["DT109"]);
}

#[test]
fn csv_directory_loads_with_lines() {
    let path = common::root().join("tests/fixtures/good/csv-dir");
    let (inv, _) = open::load(&path).unwrap_or_else(|e| panic!("{}", common::render(&e)));
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
            assert!(open::load(&path).is_err(), "{path:?} should be rejected");
            // `check` indexes instead of loading; it must refuse the same files.
            assert!(open::index(&path).is_err(), "{path:?} should be rejected when indexed");
        }
    }
}

/// Writes `bytes` to `name` in a fresh directory and returns the codes and lines of the
/// problems `load` and `index` report (they must agree), or `None` when both accept it.
fn outcome(name: &str, bytes: &[u8]) -> Option<Vec<(String, u32)>> {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let summary = |p: &dualtrack_engine::Problems| -> Vec<(String, u32)> {
        p.0.iter()
            .map(|p| (p.code.as_str().to_owned(), p.loc.as_ref().map_or(0, |l| l.line)))
            .collect()
    };
    let loaded = open::load(&path).err().map(|p| summary(&p));
    let indexed = open::index(&path).err().map(|p| summary(&p));
    assert_eq!(loaded, indexed, "load and index disagree on {name}");
    loaded
}

/// The codes of a load, where every problem must have a file and line.
fn codes(name: &str, bytes: &[u8]) -> Vec<String> {
    let got = outcome(name, bytes).unwrap_or_else(|| panic!("{name} should be refused"));
    assert!(
        got.iter().all(|(_, line)| *line >= 1),
        "{name}: every problem has a line: {got:?}"
    );
    got.into_iter().map(|(c, _)| c).collect()
}

const SMALL: &str = "systems: [{id: erp}]\nidentities: [{id: alice}]\nentitlements: [{identity: alice, system: erp, permission: FB50}]\n";

#[test]
fn a_yaml_alias_bomb_is_refused_at_the_alias() {
    let mut yaml = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for (level, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        yaml.push_str(&format!(
            "{level}: &{level} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    let got = outcome("bomb.yaml", yaml.as_bytes()).unwrap();
    assert_eq!(got.first().map(|(c, _)| c.as_str()), Some("DT112"));
    // Nine to the eighth nodes would be needed by the last line; the budget runs out before.
    assert!(got[0].1 >= 6 && got[0].1 <= 9, "{got:?}");
    assert_eq!(codes("rec.yaml", b"systems: &a [*a]\n"), ["DT112"]);
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let deep = "[".repeat(100_000);
    assert_eq!(codes("deep.yaml", format!("systems: {deep}").as_bytes()), ["DT112"]);
    assert_eq!(
        codes("deep.json", format!("{{\"systems\": {deep}").as_bytes()),
        ["DT112"]
    );
    let block: String = (0..100).map(|i| format!("{}- \n", "  ".repeat(i))).collect();
    assert_eq!(codes("block.yaml", format!("systems:\n{block}").as_bytes()), ["DT112"]);
}

#[test]
fn huge_strings_and_fields_are_refused() {
    let big = "x".repeat(2 << 20);
    let yaml = format!("systems: [{{id: erp, name: {big}}}]\nidentities: []\nentitlements: []\n");
    assert_eq!(codes("big.yaml", yaml.as_bytes()), ["DT112"]);
    let json = format!(
        "{{\"systems\": [{{\"id\": \"erp\", \"name\": \"{big}\"}}], \"identities\": [], \"entitlements\": []}}"
    );
    assert_eq!(codes("big.json", json.as_bytes()), ["DT112"]);
    let record = format!("{{\"systems\": [{{\"id\": \"erp\", \"tags\": {{{}\"z\": \"z\"}}}}], \"identities\": [], \"entitlements\": []}}",
        (0..40).map(|i| format!("\"k{i}\": \"{}\", ", "y".repeat(500_000))).collect::<String>());
    assert_eq!(codes("record.json", record.as_bytes()), ["DT112"]);
}

#[test]
fn nul_bytes_utf16_and_bad_utf8_are_encoding_errors_with_lines() {
    assert_eq!(
        outcome("nul.yaml", b"systems: []\nidentities: [\0]\n").unwrap(),
        [("DT113".to_owned(), 2)]
    );
    assert_eq!(
        outcome("nul.json", b"{\"systems\": [],\n\"identities\": [\"\0\"]}").unwrap(),
        [("DT113".to_owned(), 2)]
    );
    let utf16 = |text: &str| -> Vec<u8> {
        [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect()
    };
    let json = r#"{"systems": [{"id": "erp"}], "identities": [{"id": "alice"}], "entitlements": [{"identity": "alice", "system": "erp", "permission": "FB50"}]}"#;
    // With a byte-order mark, UTF-16 is read (Windows PowerShell 5.1 writes it); without
    // one it is refused, since nothing says which byte order it is.
    for (name, text) in [("u16.yaml", SMALL), ("u16.json", json)] {
        assert_eq!(outcome(name, &utf16(text)), None, "{name}");
        let no_bom = utf16(text).split_off(2);
        assert_eq!(outcome(name, &no_bom).unwrap(), [("DT113".to_owned(), 1)], "{name}");
    }
    assert_eq!(
        outcome("bad.yaml", b"systems: []\nidentities: [{id: \xC3\x28}]\n").unwrap(),
        [("DT113".to_owned(), 2)]
    );
}

#[test]
fn a_utf8_bom_is_accepted_everywhere_an_inventory_is_read() {
    let bom = |text: &str| [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
    assert_eq!(outcome("bom.yaml", &bom(SMALL)), None);
    let json = r#"{"systems": [{"id": "erp"}], "identities": [{"id": "alice"}], "entitlements": [{"identity": "alice", "system": "erp", "permission": "FB50"}]}"#;
    assert_eq!(outcome("bom.json", &bom(json)), None);
    let tmp = tempfile::tempdir().unwrap();
    for (file, text) in [
        ("systems.csv", "id,name\r\nerp,ERP\r\n"),
        ("identities.csv", "id,kind\r\nalice,human\r\n"),
        ("entitlements.csv", "identity,system,permission\r\nalice,erp,FB50\r\n"),
    ] {
        std::fs::write(tmp.path().join(file), bom(text)).unwrap();
    }
    assert!(open::load(tmp.path()).is_ok());
    assert!(open::index(tmp.path()).is_ok());
}

#[test]
fn numbers_as_ids_keep_their_text_and_floats_are_refused() {
    let yaml = "systems: [{id: 7}]\nidentities: [{id: 12345}, {id: '0042'}]\nentitlements: [{identity: 12345, system: 7, permission: 1}]\n";
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("n.yaml"), yaml).unwrap();
    let (inv, _) = open::load(&tmp.path().join("n.yaml")).unwrap_or_else(|e| panic!("{}", common::render(&e)));
    assert_eq!(inv.entitlements[0].id, "12345:7:1");
    let json = r#"{"systems": [{"id": 7}], "identities": [{"id": 12345}], "entitlements": [{"identity": 12345, "system": 7, "permission": 1}]}"#;
    assert_eq!(outcome("n.json", json.as_bytes()), None);
    std::fs::write(tmp.path().join("n.json"), json).unwrap();
    let (inv, _) = open::load(&tmp.path().join("n.json")).unwrap();
    assert_eq!(inv.entitlements[0].id, "12345:7:1");
    for bad in ["1.5", "1e3", "1e999", "99999999999999999999", "true"] {
        let yaml = format!("systems: [{{id: {bad}}}]\nidentities: []\nentitlements: []\n");
        assert_eq!(codes("f.yaml", yaml.as_bytes()), ["DT102"], "yaml {bad}");
        let json = format!("{{\"systems\": [{{\"id\": {bad}}}], \"identities\": [], \"entitlements\": []}}");
        assert_eq!(codes("f.json", json.as_bytes()), ["DT102"], "json {bad}");
    }
    // A JSON number with a leading zero is not JSON.
    assert_eq!(
        codes(
            "z.json",
            br#"{"systems": [{"id": 007}], "identities": [], "entitlements": []}"#
        ),
        ["DT101"]
    );
}

#[test]
fn a_second_yaml_document_is_not_silently_dropped() {
    assert_eq!(
        codes("two.yaml", format!("{SMALL}---\nsystems: []\n").as_bytes()),
        ["DT101"]
    );
}

/// On a one-line (minified) inventory, a problem deep into the line is shown at its own
/// line and column, with a snippet of its record rather than of the whole line.
#[test]
fn problems_on_one_long_line_show_their_column_and_a_short_snippet() {
    let filler: Vec<String> = (0..400)
        .map(|i| format!(r#"{{"id":"u{i:04}","kind":"human","display_name":"User {i}","status":"active"}}"#))
        .collect();
    let bad_identity = r#"{"id":"x1","kind":"human","display_name":"X","stauts":"active"}"#;
    let bad_grant = r#"{"id":"e2","identity":"u0001","system":"s1","permission":"read","granted_at":"2026-02-30"}"#;
    let text = format!(
        r#"{{"systems":[{{"id":"s1","name":"S"}}],"identities":[{},{bad_identity}],"entitlements":[{{"id":"e1","identity":"u0001","system":"s1","permission":"read"}},{bad_grant}]}}"#,
        filler.join(",")
    );
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("inv.json");
    std::fs::write(&path, &text).unwrap();
    let column = |needle: &str| text.find(needle).unwrap() + 1;
    let field = format!("inv.json:1:{}]", column(r#""stauts""#));
    let date = format!("inv.json:1:{}]", column(r#""2026-02-30""#));

    // Loaded whole: both records are parsed at load.
    let rendered = common::render(&open::load(&path).err().unwrap());
    assert!(rendered.contains(&field), "{field} not in {rendered}");
    assert!(rendered.contains(&date), "{date} not in {rendered}");
    assert!(rendered.len() < 4000, "snippets hold the whole line: {rendered}");

    // Indexed as `check` does: the identity at load, the entitlement when read back.
    let problems = open::index(&path).err().unwrap();
    let rendered = common::render(&problems);
    assert!(rendered.contains(&field), "{field} not in {rendered}");
    assert!(rendered.contains(&date), "{date} not in {rendered}");

    // A structural problem far along the line.
    std::fs::write(&path, format!("{}]", text.trim_end_matches('}'))).unwrap();
    let rendered = common::render(&open::index(&path).err().unwrap());
    let at = format!("inv.json:1:{}]", text.len());
    assert!(rendered.contains(&at), "{at} not in {rendered}");
    assert!(rendered.len() < 4000, "snippet holds the whole line: {rendered}");
}
