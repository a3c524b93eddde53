//! The JSON Schemas in `schemas/` are generated from `dualtrack_engine::schema`, are
//! current, describe exactly the fields and values the loaders accept, and accept the
//! shipped example, the shipped pack and what `check --format json` prints.
//!
//! `DUALTRACK_UPDATE_SCHEMAS=1 cargo test --test main schemas::` rewrites the files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use dualtrack_engine::inventory::{IdentityKind, Status, ENTITLEMENT_FIELDS, IDENTITY_FIELDS, SYSTEM_FIELDS};
use dualtrack_engine::policy::{Category, Involves, Severity, Subject, Track, OPERATORS, RULE_FIELDS};
use dualtrack_engine::policytest::{CASE_FIELDS, EXPECT_FIELDS, FILE_FIELDS};
use dualtrack_engine::{schema, Model};
use serde_json::Value as Json;

use crate::common::{dualtrack, parts, root};

/// Every generated schema by file name.
fn schemas() -> BTreeMap<&'static str, Json> {
    schema::all().into_iter().map(|f| (f.name, f.schema)).collect()
}

fn schema_of(name: &str) -> Json {
    schemas().remove(name).unwrap_or_else(|| panic!("no schema {name}"))
}

/// Follows `$ref`, and a nullable `anyOf` or a single `allOf`, to the schema that says
/// what a value is.
fn resolve<'a>(root: &'a Json, s: &'a Json) -> &'a Json {
    if let Some(r) = s.get("$ref").and_then(Json::as_str) {
        let name = r.strip_prefix("#/definitions/").expect("local ref");
        return resolve(root, &root["definitions"][name]);
    }
    for key in ["anyOf", "allOf"] {
        if let Some(parts) = s.get(key).and_then(Json::as_array) {
            let real: Vec<&Json> = parts.iter().filter(|p| p.get("type") != Some(&"null".into())).collect();
            if let [one] = real.as_slice() {
                return resolve(root, one);
            }
        }
    }
    s
}

fn def<'a>(root: &'a Json, name: &str) -> &'a Json {
    let d = &root["definitions"][name];
    assert!(d.is_object(), "no definition {name}");
    d
}

fn keys(root: &Json, s: &Json) -> BTreeSet<String> {
    resolve(root, s)["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect()
}

/// The values an enum schema allows, whether written as `enum` or as `oneOf` consts.
fn choices(root: &Json, s: &Json) -> BTreeSet<String> {
    let s = resolve(root, s);
    let values: Vec<&Json> = match (s.get("enum"), s.get("oneOf")) {
        (Some(Json::Array(e)), _) => e.iter().collect(),
        (_, Some(Json::Array(o))) => o.iter().map(|c| &c["const"]).collect(),
        _ => panic!("not an enum: {s}"),
    };
    values.iter().map(|v| v.as_str().expect("string").to_owned()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn names<T>(choices: &[(&str, T)]) -> BTreeSet<String> {
    choices.iter().map(|(n, _)| (*n).to_owned()).collect()
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&schema_of(name)).unwrap_or_else(|e| panic!("{name} is not a valid schema: {e}"))
}

/// The errors of `doc` against `v`, one line each.
fn errors(v: &jsonschema::Validator, doc: &Json) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn yaml_file(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(text: &str) -> Json {
    serde_yaml::from_str(text).unwrap()
}

#[test]
fn schema_files_are_current() {
    let dir = root().join("schemas");
    let update = std::env::var("DUALTRACK_UPDATE_SCHEMAS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for f in schema::all() {
        let path = dir.join(f.name);
        let text = f.render();
        if update {
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(f.name);
        }
    }
    assert!(
        stale.is_empty(),
        "schemas out of date: {stale:?}; run `DUALTRACK_UPDATE_SCHEMAS=1 cargo test --test main schemas::` and review the diff"
    );
    let generated: BTreeSet<String> = schema::all().iter().map(|f| f.name.to_owned()).collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".schema.json"))
        .collect();
    assert_eq!(on_disk, generated, "a schema file in schemas/ that nothing generates");
    assert_eq!(
        generated,
        set(&[
            "campaign.schema.json",
            "exceptions.schema.json",
            "findings.schema.json",
            "inventory.schema.json",
            "policy-rules.schema.json",
            "policy-tests.schema.json",
            "ruleset.schema.json",
            "sources.schema.json",
        ]),
        "schema file names are referenced by users' modelines: keep them"
    );
}

#[test]
fn every_schema_is_a_valid_draft_07_schema_with_descriptions() {
    for (name, s) in schemas() {
        assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#", "{name}");
        assert!(
            jsonschema::draft7::meta::is_valid(&s),
            "{name} fails the draft-07 meta-schema"
        );
        for (def_name, d) in s["definitions"].as_object().into_iter().flatten() {
            for (field, f) in d["properties"].as_object().into_iter().flatten() {
                assert!(
                    f.get("description")
                        .and_then(Json::as_str)
                        .is_some_and(|t| !t.is_empty()),
                    "{name}: {def_name}.{field} has no description for the editor to show"
                );
            }
        }
    }
}

#[test]
fn inventory_schema_matches_the_loader() {
    let s = schema_of("inventory.schema.json");
    assert_eq!(keys(&s, &s), set(&["systems", "identities", "entitlements"]));
    assert_eq!(keys(&s, def(&s, "System")), set(SYSTEM_FIELDS));
    assert_eq!(keys(&s, def(&s, "Identity")), set(IDENTITY_FIELDS));
    assert_eq!(keys(&s, def(&s, "Entitlement")), set(ENTITLEMENT_FIELDS));
    let identity = &def(&s, "Identity")["properties"];
    assert_eq!(choices(&s, &identity["kind"]), names(IdentityKind::CHOICES));
    assert_eq!(choices(&s, &identity["status"]), names(Status::CHOICES));
}

#[test]
fn sources_schema_matches_the_loader() {
    use dualtrack_engine::sources::config::{Key, Kind, CORRELATE_FIELDS, FILE_FIELDS, HR_FIELDS, SOURCE_FIELDS};
    let s = schema_of("sources.schema.json");
    assert_eq!(keys(&s, &s), set(FILE_FIELDS));
    assert_eq!(keys(&s, def(&s, "Source")), set(SOURCE_FIELDS));
    assert_eq!(keys(&s, def(&s, "Correlate")), set(CORRELATE_FIELDS));
    assert_eq!(keys(&s, def(&s, "Columns")), set(HR_FIELDS));
    assert_eq!(choices(&s, def(&s, "SourceType")), names(Kind::CHOICES));
    assert_eq!(choices(&s, def(&s, "CorrelationKey")), names(Key::CHOICES));
    let v = validator("sources.schema.json");
    for file in ["sources.yaml", "minimal.yaml"] {
        let doc = yaml_file(&root().join("tests/fixtures/sources/acme").join(file));
        assert_eq!(errors(&v, &doc), Vec::<String>::new(), "{file}");
    }
    assert!(!errors(&v, &yaml("sources: [{type: hr-cvs, path: a.csv}]")).is_empty());
}

#[test]
fn ruleset_schema_matches_the_loader() {
    use dualtrack_engine::policy::ruleset::{RiskType, FILE_FIELDS, FUNCTION_FIELDS, LINE_FIELDS, RISK_FIELDS};
    let s = schema_of("ruleset.schema.json");
    assert_eq!(keys(&s, &s), set(FILE_FIELDS));
    assert_eq!(keys(&s, def(&s, "Function")), set(FUNCTION_FIELDS));
    assert_eq!(keys(&s, def(&s, "Line")), set(LINE_FIELDS));
    assert_eq!(keys(&s, def(&s, "Risk")), set(RISK_FIELDS));
    assert_eq!(choices(&s, def(&s, "RiskType")), names(RiskType::CHOICES));
    let v = validator("ruleset.schema.json");
    let good = "functions:\n  - {id: VENDOR-MAINT, actions: [XK01], permissions: [{object: F_LFA1_APP, field: ACTVT, values: [\"01\"]}]}\n  - {id: PAY, actions: [F110]}\nrisks:\n  - {id: P2P-01, type: sod, functions: [VENDOR-MAINT, PAY], severity: critical, tracks: [sox]}\n";
    assert_eq!(errors(&v, &yaml(good)), Vec::<String>::new());
    for file in [
        "policies/sap.ruleset.yaml",
        "tests/fixtures/sources/sap/sap.ruleset.yaml",
    ] {
        assert_eq!(
            errors(&v, &yaml_file(&root().join(file))),
            Vec::<String>::new(),
            "{file}"
        );
    }
    assert!(!errors(&v, &yaml("risks: [{id: X, type: conflict, functions: [A]}]")).is_empty());
    assert!(!errors(
        &v,
        &yaml("functions: [{id: F, permissions: [{object: O, field: F, values: []}]}]")
    )
    .is_empty());
}

#[test]
fn rule_schema_matches_the_compiler() {
    let s = schema_of("policy-rules.schema.json");
    let rule = def(&s, "Rule");
    assert_eq!(keys(&s, rule), set(RULE_FIELDS));
    let p = &rule["properties"];
    assert_eq!(choices(&s, &p["track"]), names(Track::CHOICES));
    assert_eq!(choices(&s, &p["category"]), names(Category::CHOICES));
    assert_eq!(choices(&s, &p["severity"]), names(Severity::CHOICES));
    assert_eq!(choices(&s, &p["applies_to"]), names(Subject::CHOICES));
    assert_eq!(choices(&s, &p["involves"]), names(Involves::CHOICES));
    assert_eq!(keys(&s, def(&s, "Comparison")), set(OPERATORS));

    // A condition names every attribute of the Cedar model a rule can test, and nothing
    // else, so an editor completes exactly the paths the compiler accepts.
    let model = Model::load().unwrap();
    let mut paths = set(&["all", "any", "not"]);
    for (entity, attrs) in &model.attrs {
        for (name, attr) in attrs {
            if attr.ty != dualtrack_engine::model::AttrType::Entity {
                paths.insert(format!("{entity}.{name}"));
            }
        }
    }
    let condition = def(&s, "Condition");
    assert_eq!(keys(&s, condition), paths);
    let days_idle = condition["properties"]["entitlement.days_idle"]["description"]
        .as_str()
        .unwrap();
    assert!(days_idle.contains("since `last_used`"), "{days_idle}");
}

#[test]
fn policy_test_schema_matches_the_loader() {
    let s = schema_of("policy-tests.schema.json");
    assert_eq!(keys(&s, &s), set(FILE_FIELDS));
    assert_eq!(keys(&s, def(&s, "Case")), set(CASE_FIELDS));
    assert_eq!(keys(&s, def(&s, "Expected")), set(EXPECT_FIELDS));
    // Records in a case are inventory records.
    assert_eq!(keys(&s, def(&s, "Identity")), set(IDENTITY_FIELDS));
    assert_eq!(keys(&s, def(&s, "Entitlement")), set(ENTITLEMENT_FIELDS));
    assert_eq!(keys(&s, def(&s, "System")), set(SYSTEM_FIELDS));
}

/// `check --format json` on the acme example, with `extra` arguments.
#[test]
fn a_delta_check_output_matches_the_findings_schema_with_every_field() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("pack");
    let fixture = |n: &str| format!("tests/fixtures/delta/{n}");
    let (code, _, stderr) = parts(&dualtrack(&[
        "evidence",
        "--inventory",
        &fixture("q3.yaml"),
        "--as-of",
        "2026-07-20",
        "--out",
        pack.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        &fixture("q4.yaml"),
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
        "--since",
        pack.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{stderr}");
    let report: Json = serde_json::from_str(&stdout).unwrap();
    let errs = errors(&validator("findings.schema.json"), &report);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
    let s = schema_of("findings.schema.json");
    let obj_keys = |v: &Json| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(&s, &s), obj_keys(&report));
    assert_eq!(keys(&s, def(&s, "Baseline")), obj_keys(&report["baseline"]));
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(keys(&s, def(&s, "Finding")), obj_keys(f));
    }
}

fn acme_report(extra: &[&str]) -> Json {
    let mut args = vec![
        "check",
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
    ];
    args.extend(extra);
    let (code, stdout, stderr) = parts(&dualtrack(&args));
    assert_eq!(code, 1, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn acme_check_output_with_exceptions_matches_the_findings_schema() {
    let report = acme_report(&["--exceptions", "tests/fixtures/exceptions/acme.yaml"]);
    let statuses: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains("excepted"), "{statuses:?}");
    let errs = errors(&validator("findings.schema.json"), &report);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn acme_check_output_matches_the_findings_schema() {
    let report = acme_report(&[]);
    let errs = errors(&validator("findings.schema.json"), &report);
    assert!(
        errs.is_empty(),
        "acme report fails the findings schema:\n{}",
        errs.join("\n")
    );

    // Same field names as printed, so neither side can grow a field alone. `baseline` and
    // `change` are printed with `--since` only (the next test).
    let s = schema_of("findings.schema.json");
    let obj_keys = |v: &Json| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    let without = |mut k: BTreeSet<String>, field: &str| {
        assert!(k.remove(field), "the schema has `{field}`");
        k
    };
    assert_eq!(without(keys(&s, &s), "baseline"), obj_keys(&report));
    assert_eq!(keys(&s, def(&s, "Summary")), obj_keys(&report["summary"]));
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(without(keys(&s, def(&s, "Finding")), "change"), obj_keys(f));
        assert_eq!(keys(&s, def(&s, "Location")), obj_keys(&f["location"]));
    }
    let finding = &def(&s, "Finding")["properties"];
    assert_eq!(choices(&s, &finding["track"]), names(Track::CHOICES));
    assert_eq!(choices(&s, &finding["category"]), names(Category::CHOICES));
    assert_eq!(choices(&s, &finding["severity"]), names(Severity::CHOICES));
    let summary = &def(&s, "Summary")["properties"];
    for (field, expected) in [
        ("evaluated", names(Track::CHOICES)),
        ("rules", names(Track::CHOICES)),
        ("by_track", names(Track::CHOICES)),
        ("by_category", names(Category::CHOICES)),
        ("by_severity", names(Severity::CHOICES)),
    ] {
        assert_eq!(
            choices(&s, &summary[field]["propertyNames"]),
            expected,
            "summary.{field}"
        );
    }
    let required: BTreeSet<String> = def(&s, "Finding")["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        required,
        without(keys(&s, def(&s, "Finding")), "change"),
        "every finding field but `change` (with `--since` only) is always printed"
    );
    let statuses = [
        dualtrack_engine::FindingStatus::Open,
        dualtrack_engine::FindingStatus::Excepted,
    ];
    let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    assert_eq!(choices(&s, &finding["status"]), set(&statuses));
}

#[test]
fn acme_inventory_files_match_the_inventory_schema() {
    let v = validator("inventory.schema.json");
    let dir = root().join("examples/acme");
    for section in ["systems", "identities", "entitlements"] {
        let path = dir.join(format!("{section}.yaml"));
        let errs = errors(&v, &yaml_file(&path));
        assert!(errs.is_empty(), "{}:\n{}", path.display(), errs.join("\n"));
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn every_rule_and_test_file_of_the_pack_matches_its_schema() {
    let rules = validator("policy-rules.schema.json");
    let tests = validator("policy-tests.schema.json");
    let mut files = Vec::new();
    yaml_files(&root().join("policies"), &mut files);
    files.sort();
    let (mut rule_files, mut test_files) = (0, 0);
    for path in &files {
        let doc = yaml_file(path);
        let name = path.to_string_lossy();
        let v = if name.ends_with(".test.yaml") {
            test_files += 1;
            &tests
        } else if doc.get("rules").is_some() {
            rule_files += 1;
            &rules
        } else {
            continue; // catalogs and the SoD matrix have no schema yet
        };
        let errs = errors(v, &doc);
        assert!(errs.is_empty(), "{name}:\n{}", errs.join("\n"));
    }
    assert!(
        rule_files >= 6 && test_files >= 9,
        "{rule_files} rule files, {test_files} test files"
    );
}

/// What the loaders reject, the editor marks too.
#[test]
fn schemas_reject_mistakes_the_loaders_reject() {
    let inv = validator("inventory.schema.json");
    let bad = [
        "identities:\n  - { id: a, kind: robot }\n",
        "identities:\n  - { id: a, kind: human, last_login: 2026-01-01 }\n",
        "identities:\n  - { id: a, kind: human, last_seen: 01/02/2026 }\n",
        "entitlements:\n  - { identity: a, system: s }\n",
        "systems:\n  - { id: s, sox_in_scope: \"yes\" }\n",
        "systems: []\nidentities: []\n",
    ];
    for text in bad {
        assert!(!errors(&inv, &yaml(text)).is_empty(), "accepted: {text}");
    }
    let good = "systems: []\nidentities:\n  - { id: 1001, kind: api_key, last_seen: 2026-09-30T08:15:00Z }\nentitlements: []\n";
    assert_eq!(errors(&inv, &yaml(good)), Vec::<String>::new());

    let rules = validator("policy-rules.schema.json");
    let rule = |when: &str| {
        format!(
            "rules:\n  - {{ id: X, title: t, track: soc, category: stale, severity: low, controls: [CC6.3],\n      applies_to: entitlement, remediation: r, when: {when} }}\n"
        )
    };
    assert_eq!(
        errors(&rules, &yaml(&rule("[entitlement.days_idle: { gt: 90 }]"))),
        Vec::<String>::new()
    );
    assert_eq!(
        errors(
            &rules,
            &yaml(&rule(
                "{ any: [system.tags.tier: gold, not: { identity.is_nhi: true }] }"
            ))
        ),
        Vec::<String>::new()
    );
    for when in [
        "[entitlement.days_idle: { like: 90 }]",
        "[entitlement.last_login_days: { gt: 90 }]",
        "[entitlement.days_idle: { gt: ninety }]",
        "[entitlement.days_idle: {}]",
    ] {
        assert!(!errors(&rules, &yaml(&rule(when))).is_empty(), "accepted: {when}");
    }
}

#[test]
fn exceptions_schema_matches_the_loader() {
    use dualtrack_engine::exceptions::EXCEPTION_FIELDS;
    let s = schema_of("exceptions.schema.json");
    assert_eq!(keys(&s, &s), set(&["exceptions"]));
    let exception = def(&s, "Exception");
    assert_eq!(keys(&s, exception), set(EXCEPTION_FIELDS));
    assert_eq!(choices(&s, &exception["properties"]["track"]), names(Track::CHOICES));

    let v = validator("exceptions.schema.json");
    let fixture = root().join("tests/fixtures/exceptions/acme.yaml");
    let errs = errors(&v, &yaml_file(&fixture));
    assert!(errs.is_empty(), "{}:\n{}", fixture.display(), errs.join("\n"));
    let bad = yaml_file(&root().join("tests/fixtures/exceptions/bad.yaml"));
    assert!(!errors(&v, &bad).is_empty());

    let ok = "exceptions:\n  - id: EXC-1\n    rule: SOX-SOD-001\n    track: sox\n    identity: carlos.mendez\n    compensating_control: Monthly review of payments he approved\n    approved_by: maria.lopez\n    approved_at: 2026-09-15\n    expires: 2026-12-31\n    ticket: GRC-77\n";
    assert_eq!(errors(&v, &yaml(ok)), Vec::<String>::new());
    // What the loader rejects while decoding, the editor marks too.
    let broken = [
        ("    track: sox\n", ""),          // one track is required
        ("track: sox", "track: both"),     // soc or sox only
        ("    expires: 2026-12-31\n", ""), // expiry is required
        ("expires: 2026-12-31", "expires: 2026-31-12"),
        ("    compensating_control: Monthly review of payments he approved\n", ""),
        ("rule: SOX-SOD-001", "rules: [SOX-SOD-001]\n    rule: SOX-SOD-002"), // not both
        ("    rule: SOX-SOD-001\n", ""),                                      // names no rule
        ("    identity: carlos.mendez\n", ""),                                // selects no access
    ];
    for (from, to) in broken {
        let text = ok.replacen(from, to, 1);
        assert_ne!(text, ok, "{from}");
        assert!(!errors(&v, &yaml(&text)).is_empty(), "accepted:\n{text}");
    }
}

#[test]
fn campaign_schema_matches_the_loader() {
    use dualtrack_engine::campaign::{Reviewer, Scope, CAMPAIGN_FIELDS, TRACK_FIELDS};
    let s = schema_of("campaign.schema.json");
    assert_eq!(keys(&s, &s), set(CAMPAIGN_FIELDS));
    assert_eq!(keys(&s, def(&s, "Period")), set(&["start", "end"]));
    assert_eq!(keys(&s, def(&s, "Tracks")), names(Track::CHOICES));
    let plan = def(&s, "TrackPlan");
    assert_eq!(keys(&s, plan), set(TRACK_FIELDS));
    assert_eq!(choices(&s, &plan["properties"]["scope"]), names(Scope::CHOICES));
    assert_eq!(choices(&s, &plan["properties"]["reviewer"]), names(Reviewer::CHOICES));
    assert_eq!(choices(&s, &plan["properties"]["fallback"]), names(Reviewer::CHOICES));

    let v = validator("campaign.schema.json");
    let fixture = root().join("tests/fixtures/campaign/acme.yaml");
    let ok = std::fs::read_to_string(&fixture).unwrap();
    assert_eq!(errors(&v, &yaml(&ok)), Vec::<String>::new(), "{}", fixture.display());
    for (from, to) in [
        ("sla_days: 10", "sla_days: 0"),
        ("scope: all", "scope: everything"),
        ("reviewer: manager", "reviewer: anyone"),
        ("    reviewer: manager\n", ""),
        ("  end: 2026-10-31", "  end: 31.10.2026"),
        ("id: UAR-2026-Q4\n", ""),
    ] {
        let text = ok.replacen(from, to, 1);
        assert_ne!(text, ok, "{from}");
        assert!(!errors(&v, &yaml(&text)).is_empty(), "accepted:\n{text}");
    }
}

/// Editors find the schemas through `# yaml-language-server: $schema=` modelines and the
/// repository's VS Code settings; every path they name must be a generated schema.
#[test]
fn modelines_and_editor_settings_name_existing_schemas() {
    let generated: BTreeSet<String> = schema::all().iter().map(|f| f.name.to_owned()).collect();
    let mut files = Vec::new();
    yaml_files(&root().join("examples"), &mut files);
    yaml_files(&root().join("policies"), &mut files);
    let mut modelines = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        for line in text.lines() {
            let Some(target) = line.strip_prefix("# yaml-language-server: $schema=") else {
                continue;
            };
            modelines += 1;
            let schema = path.parent().unwrap().join(target);
            assert!(schema.is_file(), "{}: {target} does not exist", path.display());
            let name = schema.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                generated.contains(&name),
                "{}: {target} is not generated",
                path.display()
            );
            let errs = errors(&validator(&name), &yaml_file(path));
            assert!(errs.is_empty(), "{}:\n{}", path.display(), errs.join("\n"));
        }
    }
    assert_eq!(modelines, 3, "the acme inventory files carry a modeline each");

    let settings: Json =
        serde_json::from_str(&std::fs::read_to_string(root().join(".vscode/settings.json")).unwrap()).unwrap();
    for (schema, globs) in settings["yaml.schemas"].as_object().unwrap() {
        assert!(root().join(schema).is_file(), "{schema}");
        assert!(!globs.as_array().unwrap().is_empty());
    }
}
