//! Real exports through a sources file: each importer on fixtures written from the
//! documented formats, findings located on the export rows, correlation to the HR feed
//! (uncorrelated accounts orphaned on both tracks, ambiguous matches refused), and
//! `import` then `check` giving the same findings as `check` on the sources file.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value as Json;

use crate::common::{check_json as check, dualtrack, dualtrack_in, fired, parts, root};

const ACME: &str = "tests/fixtures/sources/acme";
const ROLE: &str = "arn:aws:iam::111122223333:role/";
const USER: &str = "arn:aws:iam::111122223333:user/";

fn has(report: &Json, rule: &str, identity: &str) -> bool {
    fired(report).contains(&(rule.to_owned(), identity.to_owned()))
}

/// The finding of `rule` on `identity`.
fn finding<'a>(report: &'a Json, rule: &str, identity: &str) -> &'a Json {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule && f["identity"] == identity)
        .unwrap_or_else(|| panic!("no {rule} on {identity}"))
}

#[test]
fn acme_exports_give_the_expected_findings_on_their_rows() {
    let (code, r, stderr) = check(&format!("{ACME}/sources.yaml"));
    assert_eq!(code, 1, "{stderr}");
    // Credential report: a stale person, a never-used key, an unrotated key, root.
    assert!(has(&r, "SOC-STALE-001", "E200"), "bob's console login idle since March");
    let key2 = format!("{USER}service/svc-deploy/access_key_2");
    let key1 = format!("{USER}service/svc-deploy/access_key_1");
    assert!(has(&r, "SOC-STALE-002", &key2), "a key never used");
    assert!(has(&r, "SOC-CRED-001", &key1), "a key not rotated since 2025-01");
    assert!(!has(&r, "SOC-CRED-001", &key2));
    let loc = &finding(&r, "SOC-CRED-001", &key1)["location"];
    assert_eq!(loc["file"], format!("{ACME}/aws/credential_report.csv"));
    assert_eq!(loc["line"], 7, "the svc-deploy row");
    // Authorization details: AdministratorAccess without justification, on the attachment.
    let admin = finding(&r, "SOC-EXC-001", "E100");
    assert!(admin["entitlements"][0]
        .as_str()
        .unwrap()
        .ends_with(":AdministratorAccess"));
    assert_eq!(admin["location"]["file"], format!("{ACME}/aws/gaad.json"));
    assert!(
        has(&r, "SOX-PRIV-001", "E100"),
        "the credential report's system is in SOX scope"
    );
    // Roles: a service role unused since January, and one with no recorded use at all.
    assert!(has(&r, "SOC-STALE-003", &format!("{ROLE}invoice-sync-lambda")));
    assert!(has(&r, "SOC-UNV-001", &format!("{ROLE}auditor-cross-account")));
    // HR: dave is terminated and still has a console password.
    assert!(has(&r, "SOC-ORPH-003", "E300"));
    // Uncorrelated accounts are orphaned, on both tracks when they reach an in-scope system.
    assert!(has(&r, "SOC-ORPH-005", &format!("{USER}carol")));
    assert!(has(&r, "SOX-ORPH-003", &format!("{USER}carol")));
    let carol = finding(&r, "SOX-ORPH-003", &format!("{USER}carol"));
    assert_eq!(
        carol["controls"],
        serde_json::json!(["SOX-ITGC-APD-04", "CC6.2", "PR.AA-01", "AC-2"])
    );
    assert!(has(&r, "SOC-ORPH-005", "workday:contractor.kim@partner.example"));
    // People matched by email, login or employee id are never uncorrelated.
    for person in ["E100", "E200", "E300", "E400"] {
        assert!(!has(&r, "SOC-ORPH-005", person));
    }
}

#[test]
fn scim_group_membership_is_an_entitlement_reported_unverifiable() {
    let (_, r, _) = check(&format!("{ACME}/sources.yaml"));
    // Kim is in `Payments Leads`, a member of `Finance Approvers`: both are entitlements.
    let kim = finding(&r, "SOC-UNV-001", "workday:contractor.kim@partner.example");
    assert_eq!(
        kim["entitlements"],
        serde_json::json!([
            "workday:contractor.kim@partner.example:workday:group/Finance Approvers",
            "workday:contractor.kim@partner.example:workday:group/Payments Leads"
        ])
    );
    assert_eq!(kim["location"]["file"], format!("{ACME}/scim/users.json"));
    // Bob's SCIM account is his: its grants are on E200.
    let ids: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["entitlements"].as_array().unwrap())
        .filter_map(Json::as_str)
        .collect();
    assert!(ids.contains(&"E200:workday:entitlement/expense-approver"), "{ids:?}");
}

#[test]
fn the_minimal_sources_file_works_as_written_and_correlates_nobody() {
    let (code, r, stderr) = check(&format!("{ACME}/minimal.yaml"));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("DT904"), "a note says nobody is correlated: {stderr}");
    assert!(has(&r, "SOC-EXC-001", &format!("{USER}alice")));
    assert!(has(&r, "SOC-STALE-003", &format!("{ROLE}invoice-sync-lambda")));
    assert!(
        !fired(&r).iter().any(|(rule, _)| rule == "SOC-ORPH-005"),
        "no HR, no uncorrelated"
    );
}

#[test]
fn import_then_check_gives_the_same_findings() {
    let (_, direct, _) = check(&format!("{ACME}/sources.yaml"));
    let strip = |r: &Json| -> Vec<Json> {
        let mut out: Vec<Json> = r["findings"].as_array().unwrap().clone();
        for f in &mut out {
            f.as_object_mut().unwrap().remove("location");
        }
        out
    };
    for format in ["yaml", "json", "csv"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("inventory");
        let (code, _, stderr) = parts(&dualtrack(&[
            "import",
            "--sources",
            &format!("{ACME}/sources.yaml"),
            "--out",
            out.to_str().unwrap(),
            "--format",
            format,
        ]));
        assert_eq!(code, 0, "{format}: {stderr}");
        assert!(out.join(format!("identities.{format}")).is_file());
        let (_, imported, stderr) = check(out.to_str().unwrap());
        assert_eq!(strip(&imported), strip(&direct), "{format}: {stderr}");
    }
}

#[test]
fn credential_report_json_with_base64_or_plain_content() {
    let dir = root().join("tests/fixtures/sources/credential-report");
    for file in ["report-base64.json", "report-plain.json"] {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::copy(dir.join(file), tmp.path().join(file)).unwrap();
        std::fs::write(
            tmp.path().join("sources.yaml"),
            format!("sources:\n  - type: aws-credential-report\n    path: {file}\n"),
        )
        .unwrap();
        let (code, stdout, stderr) = parts(&dualtrack_in(
            tmp.path(),
            &[
                "check",
                "--inventory",
                "sources.yaml",
                "--as-of",
                "2026-10-01",
                "--format",
                "json",
            ],
        ));
        assert_eq!(code, 1, "{file}: {stderr}");
        let r: Json = serde_json::from_str(&stdout).unwrap();
        let key1 = format!("{USER}service/svc-deploy/access_key_1");
        assert!(has(&r, "SOC-CRED-001", &key1), "{file}");
        assert!(has(&r, "SOC-STALE-001", "arn:aws:iam::111122223333:root"), "{file}");
        // Rows inside JSON are located at `Content`.
        let loc = &finding(&r, "SOC-CRED-001", &key1)["location"];
        assert_eq!(
            (loc["file"].as_str(), loc["line"].as_i64()),
            (Some(file), Some(2)),
            "{file}"
        );
    }
}

/// Writes `files` into a temporary directory and runs `check` on its `sources.yaml`.
fn check_tmp(files: &[(&str, &str)]) -> (i32, String) {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = tmp.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let (code, _, stderr) = parts(&dualtrack_in(
        tmp.path(),
        &["check", "--inventory", "sources.yaml", "--as-of", "2026-10-01"],
    ));
    (code, stderr)
}

#[test]
fn a_truncated_authorization_export_is_refused() {
    let gaad = std::fs::read_to_string(root().join("tests/fixtures/sources/gaad-truncated.json")).unwrap();
    let (code, stderr) = check_tmp(&[
        (
            "sources.yaml",
            "sources:\n  - type: aws-authorization-details\n    path: gaad.json\n",
        ),
        ("gaad.json", &gaad),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("DT902") && stderr.contains("gaad.json:6"), "{stderr}");
}

#[test]
fn two_people_matching_one_account_is_an_error() {
    let (code, stderr) = check_tmp(&[
        (
            "sources.yaml",
            "sources:\n  - type: hr-csv\n    path: hr.csv\n  - type: aws-credential-report\n    path: report.csv\n",
        ),
        ("hr.csv", "id,email,login\nE1,ann@example.com,ann\nE2,ann.b@example.com,ann\n"),
        (
            "report.csv",
            "user,arn,user_creation_time,password_enabled,password_last_used\nann,arn:aws:iam::1:user/ann,2024-01-01T00:00:00Z,true,2026-09-01T00:00:00Z\n",
        ),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("DT903") && stderr.contains("`E1`") && stderr.contains("`E2`"),
        "{stderr}"
    );
    assert!(stderr.contains("report.csv:2"), "points at the account's row: {stderr}");
}

#[test]
fn strict_sources_file_and_hr_mapping() {
    let (code, stderr) = check_tmp(&[
        (
            "sources.yaml",
            "sources:\n  - type: hr-cvs\n    path: hr.csv\n  - type: hr-csv\n    path: hr.csv\n    colums: {}\n  - type: hr-csv\n    path: hr.csv\n    columns: {id: number}\n",
        ),
        ("hr.csv", "number,status\nE1,Active\nE2,Garden leave\n"),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("did you mean `hr-csv`?"), "{stderr}");
    assert!(stderr.contains("did you mean `columns`?"), "{stderr}");
    assert!(
        stderr.contains("HR status `Garden leave` (column `status`) is not mapped"),
        "{stderr}"
    );
    assert!(stderr.contains("hr.csv:3"), "{stderr}");
}

#[test]
fn lint_diff_and_evidence_accept_a_sources_file() {
    let sources = format!("{ACME}/sources.yaml");
    let (code, _, stderr) = parts(&dualtrack(&["lint", "--inventory", &sources]));
    assert_ne!(code, 3, "{stderr}");
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "diff",
        "--base",
        "policies",
        "--head",
        "policies",
        "--inventory",
        &sources,
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let diff: Json = serde_json::from_str(&stdout).unwrap();
    assert_eq!(diff["added"], serde_json::json!([]), "same policies, same findings");
    // `explain` finds a finding of the sources file by its id and shows the export row.
    let (_, r, _) = check(&sources);
    let admin = finding(&r, "SOC-EXC-001", "E100")["id"].as_str().unwrap().to_owned();
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "explain",
        &admin,
        "--inventory",
        &sources,
        "--as-of",
        "2026-10-01",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&format!("at: {ACME}/aws/gaad.json:")), "{stdout}");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pack");
    let (code, _, stderr) = parts(&dualtrack(&[
        "evidence",
        "--inventory",
        &sources,
        "--as-of",
        "2026-10-01",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let manifest: Json = serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let inputs: BTreeSet<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["role"] == "input")
        .filter_map(|f| f["path"].as_str())
        .collect();
    for export in [
        "sources.yaml",
        "hr/people.csv",
        "aws/credential_report.csv",
        "aws/gaad.json",
        "scim/groups.json",
        "scim/users.json",
    ] {
        assert!(
            inputs.iter().any(|p| Path::new(p).ends_with(export)),
            "{export} hashed: {inputs:?}"
        );
    }
}

/// The identities and entitlements `import --format json` writes for `sources`.
fn imported(sources: &str) -> (Vec<Json>, Vec<Json>) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("inventory");
    let (code, _, stderr) = parts(&dualtrack(&[
        "import",
        "--sources",
        sources,
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let read = |section: &str| -> Vec<Json> {
        let text = std::fs::read_to_string(out.join(format!("{section}.json"))).unwrap();
        let doc: Json = serde_json::from_str(&text).unwrap();
        doc[section].as_array().unwrap().clone()
    };
    (read("identities"), read("entitlements"))
}

fn by_id<'a>(records: &'a [Json], id: &str) -> &'a Json {
    records
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no record `{id}`"))
}

#[test]
fn absent_export_values_stay_absent_and_every_date_style_is_read() {
    let (identities, entitlements) = imported(&format!("{ACME}/sources.yaml"));
    // `N/A` is never a date: svc-deploy's second key was never used.
    let key2 = by_id(&identities, &format!("{USER}service/svc-deploy/access_key_2"));
    assert!(key2.get("last_seen").is_none(), "{key2}");
    let key = entitlements.iter().find(|e| e["identity"] == key2["id"]).unwrap();
    assert!(key.get("last_used").is_none(), "{key}");
    assert!(key["granted_at"].as_str().unwrap().starts_with("2026-08-01"));
    // `no_information`: dave (E300) never used his password, so nobody knows when he last
    // signed in.
    assert!(by_id(&identities, "E300").get("last_seen").is_none());
    // `not_supported` (the root's password columns) is absent too: root's `root`
    // entitlement is granted at the account's creation, not at a `not_supported` date.
    let root = entitlements
        .iter()
        .find(|e| e["identity"] == "arn:aws:iam::111122223333:root")
        .unwrap();
    assert!(root["granted_at"].as_str().unwrap().starts_with("2019-03-01"), "{root}");
    // An empty `RoleLastUsed` is no known use; its `CreateDate` in the AWS CLI's
    // `2025-09-09 09:09:09+00:00` style is read.
    let auditor = by_id(&identities, &format!("{ROLE}auditor-cross-account"));
    assert!(auditor.get("last_seen").is_none(), "{auditor}");
    assert!(auditor["created_at"]
        .as_str()
        .unwrap()
        .starts_with("2025-09-09T09:09:09"));
    let lambda = by_id(&identities, &format!("{ROLE}invoice-sync-lambda"));
    assert!(lambda["last_seen"].as_str().unwrap().starts_with("2026-01-10T11:00:00"));
}

const ENTRA: &str = "tests/fixtures/sources/entra";

#[test]
fn entra_graph_json_gives_people_apps_credentials_and_roles() {
    let (code, r, stderr) = check(&format!("{ENTRA}/sources.yaml"));
    assert_eq!(code, 1, "{stderr}");
    // A directory role is privileged: Global Administrator without justification, on the
    // line where the role assignment starts.
    let admin = finding(&r, "SOC-EXC-001", "E1");
    assert_eq!(
        admin["entitlements"],
        serde_json::json!(["E1:entra:directoryRole/Global Administrator"])
    );
    assert_eq!(
        (admin["location"]["file"].as_str(), admin["location"]["line"].as_i64()),
        (Some(format!("{ENTRA}/graph/roleAssignments.json").as_str()), Some(4))
    );
    assert!(has(&r, "SOX-PRIV-001", "E1"));
    // Sign-in activity is last_seen: Megan last signed in in March; Adele's sign-in with
    // seven fractional digits is recent.
    assert!(has(&r, "SOC-STALE-003", "E2"));
    assert!(!has(&r, "SOC-STALE-003", "E1"));
    // Lee left (HR) and still holds an app role.
    assert!(has(&r, "SOC-ORPH-003", "E3"));
    // The guest matches nobody in HR: orphaned on both tracks; its sign-in dates are
    // `0001-01-01…` and `""`, so its use is unknown, never "dormant since year 1".
    let guest = "entra:ops_fabrikam.example#EXT#@contoso.onmicrosoft.com";
    assert!(has(&r, "SOC-ORPH-005", guest));
    assert!(has(&r, "SOX-ORPH-003", guest));
    assert!(has(&r, "SOC-UNV-001", guest));
    assert!(!has(&r, "SOC-STALE-003", guest));
    // Client secret (not rotated since January 2025) and certificate (expires 2029) of the
    // application, owned by it; the application is owned by Megan, so it is not orphaned.
    let app = "entra:app:c0ffee00-1111-4aaa-9bbb-00000000a001";
    let secret = format!("{app}/secret/aa11bb22-0000-4000-8000-0000000000c1");
    let cert = format!("{app}/certificate/aa11bb22-0000-4000-8000-0000000000c2");
    assert!(has(&r, "SOC-CRED-001", &secret));
    assert!(!has(&r, "SOC-CRED-001", &cert));
    assert!(has(&r, "SOC-CRED-002", &cert));
    assert_eq!(
        finding(&r, "SOC-CRED-001", &secret)["location"]["line"],
        17,
        "the passwordCredentials item"
    );
    assert!(!has(&r, "SOC-ORPH-001", app));
    // The managed identity has no owner.
    assert!(has(
        &r,
        "SOC-ORPH-001",
        "entra:app:c0ffee00-1111-4aaa-9bbb-00000000a003"
    ));
}

#[test]
fn entra_import_keeps_kinds_dates_and_absent_values() {
    let (identities, _) = imported(&format!("{ENTRA}/sources.yaml"));
    let get = |id: &str| by_id(&identities, id);
    assert_eq!(
        get("entra:app:c0ffee00-1111-4aaa-9bbb-00000000a003")["kind"],
        "workload",
        "a managed identity"
    );
    let app = get("entra:app:c0ffee00-1111-4aaa-9bbb-00000000a001");
    assert_eq!(app["kind"], "service_account");
    assert_eq!(app["owner"], "E2", "the application owner, correlated to HR");
    let secret = get("entra:app:c0ffee00-1111-4aaa-9bbb-00000000a001/secret/aa11bb22-0000-4000-8000-0000000000c1");
    assert_eq!(secret["kind"], "api_key");
    assert!(secret["credential_expires_at"]
        .as_str()
        .unwrap()
        .starts_with("2027-01-15"));
    let guest = get("entra:ops_fabrikam.example#EXT#@contoso.onmicrosoft.com");
    assert!(guest.get("last_seen").is_none(), "{guest}");
    assert!(get("E1")["last_seen"]
        .as_str()
        .unwrap()
        .starts_with("2026-09-28T08:15:42.123"));
    assert_eq!(get("E2")["manager"], "E1");
}

#[test]
fn entra_bad_input_is_a_coded_diagnostic() {
    let (code, stderr) = check_tmp(&[
        ("sources.yaml", "sources:\n  - type: entra\n    path: graph.json\n"),
        (
            "graph.json",
            "{\n  \"value\": [\n    {\"id\": \"1\", \"userPrincipalName\": \"a@x.example\", \"employeeLeaveDateTime\": \"soon\"},\n    {\"id\": \"2\", \"colour\": \"blue\"}\n  ],\n  \"@odata.nextLink\": \"https://graph.microsoft.com/v1.0/users?$skiptoken=X\"\n}\n",
        ),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("DT107") && stderr.contains("graph.json:3"),
        "a bad date: {stderr}"
    );
    assert!(
        stderr.contains("DT901") && stderr.contains("graph.json:4"),
        "an unknown object: {stderr}"
    );
    assert!(
        stderr.contains("DT902") && stderr.contains("graph.json:6"),
        "more pages: {stderr}"
    );
}

const OKTA: &str = "tests/fixtures/sources/okta";

#[test]
fn okta_users_groups_apps_and_tokens() {
    let (code, r, stderr) = check(&format!("{OKTA}/sources.yaml"));
    assert_eq!(code, 1, "{stderr}");
    // Sam left (HR) and still gets NetSuite through the Finance group.
    let sam = finding(&r, "SOC-ORPH-003", "P3");
    assert!(
        sam["entitlements"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("P3:okta:app/NetSuite:group/Finance")),
        "{sam}"
    );
    // The staged new hire matches nobody in HR and never signed in.
    assert!(has(&r, "SOC-ORPH-005", "okta:new.hire@acme.example"));
    assert!(has(&r, "SOC-UNV-001", "okta:new.hire@acme.example"));
    // The API token acts with its creator's admin rights: privileged, owned by Ann (P1),
    // issued in February 2025 and never rotated.
    let token = "okta:token:00Tterraform";
    assert!(has(&r, "SOC-EXC-001", token));
    assert!(has(&r, "SOC-CRED-001", token));
    assert!(!has(&r, "SOC-ORPH-001", token), "owned by P1");
    let loc = &finding(&r, "SOC-CRED-001", token)["location"];
    assert_eq!(
        (loc["file"].as_str(), loc["line"].as_i64()),
        (Some(format!("{OKTA}/export/api-tokens.json").as_str()), Some(2))
    );
}

#[test]
fn okta_statuses_without_hr() {
    let export = root().join(OKTA).join("export");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("sources.yaml"),
        format!("sources:\n  - type: okta\n    path: {}\n", export.display()),
    )
    .unwrap();
    let out = tmp.path().join("inventory");
    let (code, _, stderr) = parts(&dualtrack_in(
        tmp.path(),
        &[
            "import",
            "--sources",
            "sources.yaml",
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
        ],
    ));
    assert_eq!(code, 0, "{stderr}");
    let doc: Json = serde_json::from_str(&std::fs::read_to_string(out.join("identities.json")).unwrap()).unwrap();
    let list = doc["identities"].as_array().unwrap();
    let get = |id: &str| {
        list.iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id}: {list:?}"))
    };
    assert_eq!(get("okta:raj.patel@acme.example")["status"], "disabled", "SUSPENDED");
    assert_eq!(
        get("okta:sam.ortiz@acme.example")["status"],
        "terminated",
        "DEPROVISIONED"
    );
    let staged = get("okta:new.hire@acme.example");
    assert!(
        staged.get("status").is_none(),
        "STAGED is an account that was never activated"
    );
    assert_eq!(staged["tags"]["never_activated"], "true");
    assert!(staged.get("last_seen").is_none());
    assert_eq!(
        get("okta:raj.patel@acme.example")["manager"],
        "okta:ann.lee@acme.example"
    );
    assert_eq!(get("okta:token:00Tterraform")["kind"], "token");
}

#[test]
fn okta_bad_input_is_a_coded_diagnostic() {
    let (code, stderr) = check_tmp(&[
        ("sources.yaml", "sources:\n  - type: okta\n    path: users.json\n"),
        (
            "users.json",
            "[\n  {\"id\": \"00u1\", \"status\": \"GONE\", \"profile\": {\"login\": \"a@x.example\"}},\n  {\"id\": \"00u2\", \"status\": \"ACTIVE\", \"profile\": {\"login\": \"b@x.example\"}, \"lastLogin\": \"yesterday\"},\n  {\"colour\": \"blue\"}\n]\n",
        ),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("DT108") && stderr.contains("users.json:2"),
        "unknown status: {stderr}"
    );
    assert!(
        stderr.contains("DT107") && stderr.contains("users.json:3"),
        "bad date: {stderr}"
    );
    assert!(
        stderr.contains("DT901") && stderr.contains("users.json:4"),
        "unknown object: {stderr}"
    );
}

const BATON: &str = "tests/fixtures/sources/baton";

#[test]
fn baton_users_secrets_and_grants() {
    let (code, r, stderr) = check(&format!("{BATON}/sources.yaml"));
    assert_eq!(code, 1, "{stderr}");
    // Alice is H1 by email: her grant is hers.
    let ids: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["entitlements"].as_array().unwrap())
        .filter_map(Json::as_str)
        .collect();
    assert!(ids.contains(&"H1:github:org/acme/admin"), "{ids:?}");
    // Mallory is a human account nobody in HR matches.
    assert!(has(&r, "SOC-ORPH-005", "github:user/1003"));
    assert!(has(&r, "SOX-ORPH-003", "github:user/1003"));
    // The service account: dormant since January, no owner.
    assert!(has(&r, "SOC-STALE-003", "github:user/1002"));
    assert!(has(&r, "SOC-ORPH-001", "github:user/1002"));
    // The secret: no expiry, issued March 2025, used yesterday (its use is known).
    let token = "github:api_token/tok-77";
    assert!(has(&r, "SOC-CRED-003", token));
    assert!(has(&r, "SOC-CRED-001", token));
    assert!(!has(&r, "SOC-STALE-001", token) && !has(&r, "SOC-STALE-002", token));
    assert!(!has(&r, "SOC-UNV-001", token));
    // Located where the secret's resource starts in `baton resources` output.
    let loc = &finding(&r, "SOC-CRED-003", token)["location"];
    assert_eq!(
        (loc["file"].as_str(), loc["line"].as_i64()),
        (Some(format!("{BATON}/export/resources.json").as_str()), Some(54))
    );
    // The grant is located where it starts in `baton grants` output.
    let bot = finding(&r, "SOC-ORPH-001", "github:user/1002");
    assert_eq!(
        bot["entitlements"],
        serde_json::json!(["github:user/1002:github:repository/ledger/write"])
    );
    let grant = &finding(&r, "SOC-UNV-002", "github:user/1002")["location"];
    assert_eq!(
        (grant["file"].as_str(), grant["line"].as_i64()),
        (Some(format!("{BATON}/export/grants.json").as_str()), Some(15))
    );
}

#[test]
fn baton_bad_input_is_a_coded_diagnostic() {
    let (code, stderr) = check_tmp(&[
        ("sources.yaml", "sources:\n  - type: baton\n    path: out.json\n"),
        (
            "out.json",
            "{\"resources\": [\n  {\"resource\": {\"id\": {\"resourceType\": \"user\", \"resource\": \"1\"}, \"annotations\": [{\"@type\": \"type.googleapis.com/c1.connector.v2.UserTrait\", \"lastLogin\": \"never\"}]}},\n  {\"resource\": {\"displayName\": \"no id\"}}\n]}\n",
        ),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("DT107") && stderr.contains("out.json:2"),
        "bad date: {stderr}"
    );
    assert!(
        stderr.contains("DT901") && stderr.contains("out.json:3"),
        "resource without id: {stderr}"
    );
    let (code, stderr) = check_tmp(&[
        ("sources.yaml", "sources:\n  - type: baton\n    path: out.json\n"),
        ("out.json", "[1, 2]\n"),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("DT901") && stderr.contains("not `baton` JSON output"),
        "{stderr}"
    );
}

// Exports as people save them (the fixtures' sources files say where each came from).

#[test]
fn graph_powershell_5_output_is_read_with_its_credentials() {
    // UTF-16LE with a byte-order mark, PascalCase, `\/Date(ms)\/`, credential lists that are
    // `null`, the AdditionalProperties bag, and a manager outside the export.
    let (code, report, stderr) = check("tests/fixtures/sources/graph-ps51/sources.yaml");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("0 error(s)"), "{stderr}");
    let (identities, _) = imported("tests/fixtures/sources/graph-ps51/sources.yaml");
    // Every secret and certificate of the ScubaGear fixtures ends on 2100-01-01.
    let credentials: Vec<&Json> = identities.iter().filter(|i| i["kind"] == "api_key").collect();
    assert_eq!(credentials.len(), 13);
    for c in &credentials {
        assert_eq!(c["credential_expires_at"], "2100-01-01T00:00:00Z", "{c}");
        assert_eq!(
            c["credential_rotated_at"].as_str().map(|d| &d[..4]),
            Some("2024"),
            "{c}"
        );
        assert!(has(&report, "SOC-CRED-002", c["id"].as_str().unwrap()), "{c}");
    }
    let user = by_id(&identities, "entra:juergen.mueller@example.com");
    assert_eq!(user["display_name"], "Jürgen Müller");
    assert_eq!(user["created_at"], "2019-04-01T00:00:00Z");
    assert_eq!(user["last_seen"], "2026-10-01T00:00:00Z");
    assert_eq!(
        by_id(&identities, "entra:anais.weiss@example.com")["status"],
        "disabled"
    );
    // The manager is named by the AdditionalProperties bag and is not in the export: a
    // warning at the field, and the manager is left out.
    assert!(user.get("manager").is_none_or(Json::is_null), "{user}");
    assert!(
        stderr.contains("`manager` names unknown identity `ceo@example.com`"),
        "{stderr}"
    );
    assert!(stderr.contains("graph/users.json:14:21"), "{stderr}");
}

#[test]
fn the_rfc_7643_enterprise_user_with_a_manager_outside_the_export() {
    let (code, report, stderr) = check("tests/fixtures/sources/rfc7643/sources.yaml");
    assert!(code == 0 || code == 1, "{stderr}");
    assert_eq!(report["summary"]["identities"], 1, "{stderr}");
    assert!(
        stderr.contains("⚠ `manager` names unknown identity `26118915-6090-4610-87e4-49d8ca9f808d`"),
        "{stderr}"
    );
    assert!(stderr.contains("rfc7643-8.3-enterprise_user.json:114:22"), "{stderr}");
    assert!(stderr.contains("0 error(s)"), "{stderr}");
}

#[test]
fn an_hr_report_with_us_dates_and_hr_status_words() {
    let (code, _, stderr) = check("tests/fixtures/sources/hr-local/sources-us.yaml");
    assert_eq!(code, 0, "{stderr}");
    let (people, _) = imported("tests/fixtures/sources/hr-local/sources-us.yaml");
    assert_eq!(people.len(), 5);
    let status = |id: &str| by_id(&people, id)["status"].as_str().unwrap_or("active").to_owned();
    assert_eq!(status("20003"), "terminated", "Voluntarily Terminated");
    assert_eq!(status("20004"), "terminated", "Terminated for Cause");
    assert_eq!(status("20002"), "active");
    assert_eq!(by_id(&people, "20003")["terminated_at"], "2016-09-24T00:00:00Z");
    assert_eq!(
        by_id(&people, "20003")["created_at"],
        "2011-07-05T00:00:00Z",
        "07/05/2011"
    );
    assert_eq!(by_id(&people, "20002")["manager"], "20001");
    // The statuses read by their plain meaning are said once each.
    assert_eq!(stderr.matches("is read as `terminated`").count(), 2, "{stderr}");
    // Managers outside the file (the CEO's board, an id no row has): warnings, dropped.
    assert!(stderr.contains("`manager` names unknown identity `31`"), "{stderr}");
    assert!(by_id(&people, "20004").get("manager").is_none_or(Json::is_null));

    // Without `date_format`, a US date is DT107 and the help names the pattern to give.
    let (code, _, stderr) = check("tests/fixtures/sources/hr-local/sources-us-no-format.yaml");
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("`DateofHire` is not a date: `1/9/2012`"), "{stderr}");
    assert!(stderr.contains(r#"date_format: ["%m/%d/%Y", "%d/%m/%Y"]"#), "{stderr}");
    // A 4-over-12 day leaves one reading.
    assert!(stderr.contains(r#"date_format: ["%m/%d/%Y"]"#), "{stderr}");
    // The label is on the cell, and the snippet is a window of the wide row.
    let snippet = stderr.lines().find(|l| l.contains("1/9/2012,")).unwrap();
    assert!(snippet.chars().count() < 180, "{snippet}");
    assert!(stderr.contains("hr-us.csv:2:"), "{stderr}");
}

#[test]
fn a_semicolon_separated_windows_1252_hr_feed() {
    let (code, _, stderr) = check("tests/fixtures/sources/hr-local/sources-de.yaml");
    assert_eq!(code, 0, "{stderr}");
    let (people, _) = imported("tests/fixtures/sources/hr-local/sources-de.yaml");
    assert_eq!(by_id(&people, "7001")["display_name"], "Jürgen Müller");
    assert_eq!(by_id(&people, "7002")["display_name"], "Anaïs Weiß");
    assert_eq!(by_id(&people, "7002")["terminated_at"], "2026-06-30T00:00:00Z");
    assert_eq!(by_id(&people, "7002")["manager"], "7001");
    // Read as UTF-8 it is not text: the undeclared encoding is named at its line.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/fixtures/sources/hr-local/hr-de.csv"),
        tmp.path().join("hr-de.csv"),
    )
    .unwrap();
    let undeclared = std::fs::read_to_string(root().join("tests/fixtures/sources/hr-local/sources-de.yaml"))
        .unwrap()
        .replace("    encoding: windows-1252\n", "");
    std::fs::write(tmp.path().join("sources.yaml"), undeclared).unwrap();
    let (code, _, stderr) = parts(&dualtrack_in(
        tmp.path(),
        &["check", "--inventory", "sources.yaml", "--as-of", "2026-10-01"],
    ));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("DT113") && stderr.contains("hr-de.csv:2"), "{stderr}");
}

#[test]
fn entra_users_as_csv_from_the_admin_center_and_from_export_csv() {
    let (people, _) = imported("tests/fixtures/sources/entra-csv/sources-download.yaml");
    let jm = by_id(&people, "entra:jmueller@contoso.example");
    assert_eq!(jm["display_name"], "Jürgen Müller");
    assert_eq!(jm["department"], "Finance");
    assert_eq!(
        by_id(&people, "entra:guest_partner.example#EXT#@contoso.example")["status"],
        "disabled"
    );
    // Windows PowerShell 5.1's Export-Csv: a `#TYPE` line, PascalCase, the culture's dates.
    let (people, _) = imported("tests/fixtures/sources/entra-csv/sources-export-csv.yaml");
    assert_eq!(people.len(), 2);
    assert_eq!(
        by_id(&people, "entra:jmueller@contoso.example")["created_at"],
        "2019-04-01T09:30:00Z"
    );
    assert_eq!(by_id(&people, "entra:svc-reader@contoso.example")["status"], "disabled");
}

#[test]
fn an_hr_workbook_gives_the_people_its_csv_gives() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let tmp = tempfile::tempdir().unwrap();
    // The German feed of hr-de.csv as a workbook: a cover sheet first, dates as Excel dates.
    let mut book = Workbook::new();
    book.add_worksheet()
        .set_name("Deckblatt")
        .unwrap()
        .write_string(0, 0, "HR-Bericht")
        .unwrap();
    let sheet = book.add_worksheet().set_name("Mitarbeiter").unwrap();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    let header = [
        "Personalnummer",
        "Name",
        "E-Mail",
        "Status",
        "Vorgesetzter",
        "Eintritt",
        "Austritt",
    ];
    for (c, h) in (0u16..).zip(header) {
        sheet.write_string(0, c, h).unwrap();
    }
    let people = [
        (
            "7001",
            "Jürgen Müller",
            "juergen.mueller@example.com",
            "Active",
            "",
            (2019, 4, 1),
            None,
        ),
        (
            "7002",
            "Anaïs Weiß",
            "anais.weiss@example.com",
            "Terminated",
            "7001",
            (2020, 1, 15),
            Some((2026, 6, 30)),
        ),
    ];
    for (r, (id, name, mail, status, manager, hired, left)) in (1u32..).zip(people) {
        sheet.write_number(r, 0, id.parse::<f64>().unwrap()).unwrap();
        for (c, text) in [(1, name), (2, mail), (3, status), (4, manager)] {
            sheet.write_string(r, c, text).unwrap();
        }
        let day = |(y, m, d): (u16, u8, u8)| ExcelDateTime::from_ymd(y, m, d).unwrap();
        sheet.write_datetime_with_format(r, 5, day(hired), &date).unwrap();
        if let Some(l) = left {
            sheet.write_datetime_with_format(r, 6, day(l), &date).unwrap();
        }
    }
    book.save(tmp.path().join("hr-de.xlsx")).unwrap();
    let sources = std::fs::read_to_string(root().join("tests/fixtures/sources/hr-local/sources-de.yaml"))
        .unwrap()
        .replace("path: hr-de.csv", "path: hr-de.xlsx\n    sheet: mitarbeiter");
    std::fs::write(tmp.path().join("sources.yaml"), sources).unwrap();
    let from_book = imported(tmp.path().join("sources.yaml").to_str().unwrap()).0;
    let from_csv = imported("tests/fixtures/sources/hr-local/sources-de.yaml").0;
    assert_eq!(from_book, from_csv);

    // A worksheet that is not there is named, with the ones that are.
    let wrong = std::fs::read_to_string(tmp.path().join("sources.yaml"))
        .unwrap()
        .replace("mitarbeiter", "Staff");
    std::fs::write(tmp.path().join("wrong.yaml"), wrong).unwrap();
    let (code, _, stderr) = parts(&dualtrack_in(tmp.path(), &["check", "--inventory", "wrong.yaml"]));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("has no worksheet `Staff`"), "{stderr}");
}

#[test]
fn a_workbook_that_inflates_past_the_bound_is_refused_before_it_is_parsed() {
    use std::io::Write as _;
    let tmp = tempfile::tempdir().unwrap();
    // About 300 KiB on disk, 300 MiB once inflated.
    let path = tmp.path().join("bomb.xlsx");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("xl/worksheets/sheet1.xml", deflated).unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..300 {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 2 << 20);
    std::fs::write(
        tmp.path().join("sources.yaml"),
        "sources:\n  - type: hr-csv\n    path: bomb.xlsx\n",
    )
    .unwrap();
    let (code, _, stderr) = parts(&dualtrack_in(tmp.path(), &["check", "--inventory", "sources.yaml"]));
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("DT112") && stderr.contains("inflates past 256 MiB"),
        "{stderr}"
    );
}

const SAP: &str = "tests/fixtures/sources/sap";

#[test]
fn sap_extract_as_csv_or_se16n_text_gives_the_same_findings_and_nhis_are_orphaned() {
    let (code, csv, stderr) = check(&format!("{SAP}/sources-csv.yaml"));
    assert_eq!(code, 1, "{stderr}");
    let (code, txt, stderr) = check(&format!("{SAP}/sources-txt.yaml"));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(fired(&csv), fired(&txt));
    assert_eq!(csv["summary"]["entitlements"], 10, "held assignments only");
    // System, communication and service users have no owner: orphaned NHIs, on SOX too
    // (the system is in scope).
    for user in ["BATCH_FI", "RFC_BANK", "WEB_SHOP"] {
        let id = format!("sap-p01:{user}");
        assert!(has(&csv, "SOC-ORPH-001", &id), "{id}");
    }
    // The note on the skipped reference user and the warning on the unknown user.
    assert!(stderr.contains("DT906") && stderr.contains("DT905"), "{stderr}");
}

#[test]
fn sap_import_takes_the_review_date() {
    let run = |as_of: &str| {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("inventory");
        let (code, _, stderr) = parts(&dualtrack(&[
            "import",
            "--sources",
            &format!("{SAP}/sources-csv.yaml"),
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
            "--as-of",
            as_of,
        ]));
        assert_eq!(code, 0, "{stderr}");
        let text = std::fs::read_to_string(out.join("entitlements.json")).unwrap();
        let doc: Json = serde_json::from_str(&text).unwrap();
        doc["entitlements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect::<BTreeSet<String>>()
    };
    // JSMITH's GL role ran to 2025-12-31 and his admin role starts 2027-01-01.
    let now = run("2026-10-01");
    let earlier = run("2025-06-01");
    let later = run("2027-02-01");
    assert!(!now.contains("E100:sap-p01:Z_GL_POSTING") && earlier.contains("E100:sap-p01:Z_GL_POSTING"));
    assert!(!now.contains("E100:sap-p01:Z_BASIS_USER_ADMIN") && later.contains("E100:sap-p01:Z_BASIS_USER_ADMIN"));
}

#[test]
fn sap_tables_as_workbooks_give_what_their_csv_gives() {
    use rust_xlsxwriter::Workbook;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("xlsx");
    std::fs::create_dir(&dir).unwrap();
    let fixture = root().join(SAP);
    for table in ["USR02", "AGR_USERS", "AGR_AGRS", "AGR_1251"] {
        let text = std::fs::read_to_string(fixture.join("csv").join(format!("{table}.csv"))).unwrap();
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        for (r, line) in (0u32..).zip(text.lines()) {
            for (c, cell) in (0u16..).zip(line.split(',')) {
                if !cell.is_empty() {
                    sheet.write_string(r, c, cell).unwrap();
                }
            }
        }
        book.save(dir.join(format!("{table}.xlsx"))).unwrap();
    }
    std::fs::copy(fixture.join("hr.csv"), tmp.path().join("hr.csv")).unwrap();
    let sources = std::fs::read_to_string(fixture.join("sources-csv.yaml"))
        .unwrap()
        .replace("path: csv", "path: xlsx");
    std::fs::write(tmp.path().join("sources.yaml"), sources).unwrap();
    let (identities, entitlements) = imported_as_of(tmp.path().join("sources.yaml").to_str().unwrap());
    let (want_identities, want_entitlements) = imported_as_of(&format!("{SAP}/sources-csv.yaml"));
    let ids = |records: &[Json]| -> Vec<String> {
        records
            .iter()
            .map(|r| format!("{} {} {}", r["id"], r["status"], r["last_seen"]))
            .collect()
    };
    assert_eq!(ids(&identities), ids(&want_identities));
    assert_eq!(ids(&entitlements), ids(&want_entitlements));
    assert_eq!(entitlements.len(), 10);
}

/// [`imported`] as of 2026-10-01.
fn imported_as_of(sources: &str) -> (Vec<Json>, Vec<Json>) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("inventory");
    let (code, _, stderr) = parts(&dualtrack(&[
        "import",
        "--sources",
        sources,
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
        "--as-of",
        "2026-10-01",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let read = |section: &str| -> Vec<Json> {
        let text = std::fs::read_to_string(out.join(format!("{section}.json"))).unwrap();
        let doc: Json = serde_json::from_str(&text).unwrap();
        doc[section].as_array().unwrap().clone()
    };
    (read("identities"), read("entitlements"))
}

/// `check --format json` stdout on a sources file as of 2026-10-01, with `more` arguments.
fn check_stdout(sources: &str, more: &[&str]) -> String {
    let mut args = vec![
        "check",
        "--inventory",
        sources,
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
    ];
    args.extend_from_slice(more);
    let (code, stdout, stderr) = parts(&dualtrack(&args));
    assert_eq!(code, 1, "{stderr}");
    stdout
}

/// The findings of the starter ruleset's risks (rules `SOC-SAP-…`, `SOX-SAP-…`).
fn risk_findings(report: &Json) -> Vec<Json> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().contains("-SAP-"))
        .cloned()
        .collect()
}

#[test]
fn sap_risks_are_findings_on_each_track_naming_transactions_and_roles() {
    let (_, r, stderr) = check(&format!("{SAP}/sources-csv.yaml"));
    let mut got: Vec<String> = risk_findings(&r)
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {} {}",
                f["rule"].as_str().unwrap(),
                f["identity"].as_str().unwrap(),
                f["category"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["entitlements"]
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            // The system user BATCH_FI maintains users (SU* covers SU01), on both tracks.
            r#"SOC-SAP-CA-01 sap-p01:BATCH_FI excessive high ["sap-p01:BATCH_FI:sap-p01:Z_BASIS_USER_ADMIN"]"#,
            // JSMITH (E100) holds vendor master and the payment run through two roles,
            // ADAVIS (E101) through one composite role. Not MBROWN (locked) nor KLEE
            // (expired), though each holds one of the roles.
            r#"SOC-SAP-P2P-01 E100 conflicting critical ["E100:sap-p01:Z_AP_PAYMENT_RUN","E100:sap-p01:Z_AP_VENDOR_MAINT"]"#,
            r#"SOC-SAP-P2P-01 E101 conflicting critical ["E101:sap-p01:Z_C_PROCURE_TO_PAY"]"#,
            r#"SOX-SAP-CA-01 sap-p01:BATCH_FI excessive high ["sap-p01:BATCH_FI:sap-p01:Z_BASIS_USER_ADMIN"]"#,
            r#"SOX-SAP-P2P-01 E100 conflicting critical ["E100:sap-p01:Z_AP_PAYMENT_RUN","E100:sap-p01:Z_AP_VENDOR_MAINT"]"#,
            r#"SOX-SAP-P2P-01 E101 conflicting critical ["E101:sap-p01:Z_C_PROCURE_TO_PAY"]"#,
        ],
        "{stderr}"
    );
    let adavis = finding(&r, "SOX-SAP-P2P-01", "E101");
    assert_eq!(
        adavis["message"],
        "`E101` holds conflicting functions on `sap-p01`: SAP-VENDOR-MASTER (FK01–FK03, XK01 via \
         Z_C_PROCURE_TO_PAY → Z_AP_VENDOR_MAINT) and SAP-PAYMENT-RUN (F110 via Z_C_PROCURE_TO_PAY → Z_AP_PAYMENT_RUN)"
    );
    let functions = &adavis["evidence"]["functions"];
    assert_eq!(
        functions["SAP-PAYMENT-RUN"]["transactions"],
        serde_json::json!(["F110"])
    );
    assert_eq!(
        functions["SAP-VENDOR-MASTER"]["roles"],
        serde_json::json!(["Z_C_PROCURE_TO_PAY → Z_AP_VENDOR_MAINT"])
    );
    let controls = adavis["controls"].as_array().unwrap();
    assert!(controls.contains(&Json::from("SOX-ITGC-APD-03")) && controls.contains(&Json::from("AC-5")));
    // Located on the role assignment (the AGR_USERS row) that grants it.
    assert_eq!(adavis["location"]["file"], format!("{SAP}/csv/AGR_USERS.csv"));
    assert_eq!(adavis["location"]["line"], 6);
    // The system user's critical action also cites the NHI controls.
    let batch = finding(&r, "SOX-SAP-CA-01", "sap-p01:BATCH_FI");
    let controls = batch["controls"].as_array().unwrap();
    assert!(controls.contains(&Json::from("SOX-ITGC-APD-05")) && controls.contains(&Json::from("NHI5:2025")));
}

#[test]
fn sap_check_json_is_the_same_bytes_from_csv_or_se16n_text() {
    let csv = check_stdout(&format!("{SAP}/sources-csv.yaml"), &[]);
    let txt = check_stdout(&format!("{SAP}/sources-txt.yaml"), &[]);
    // Only the names of the files read differ.
    let mut renamed = csv.replace("sources-csv.yaml", "sources-txt.yaml");
    for table in ["USR02", "AGR_USERS", "AGR_AGRS", "AGR_1251"] {
        renamed = renamed.replace(&format!("sap/csv/{table}.csv"), &format!("sap/txt/{table}.txt"));
    }
    assert!(renamed != csv, "the locations name the tables");
    assert!(renamed == txt, "csv and txt give different findings");
    let report: Json = serde_json::from_str(&txt).unwrap();
    insta::assert_json_snapshot!("sap_risk_findings", risk_findings(&report));
}

#[test]
fn sap_risks_stream_as_they_are_held_and_take_exceptions() {
    // The SOX track alone gives the SOX half of both tracks' findings.
    let both: Json = serde_json::from_str(&check_stdout(&format!("{SAP}/sources-csv.yaml"), &[])).unwrap();
    let sox: Json =
        serde_json::from_str(&check_stdout(&format!("{SAP}/sources-csv.yaml"), &["--track", "sox"])).unwrap();
    let sox_half: Vec<Json> = risk_findings(&both)
        .into_iter()
        .filter(|f| f["track"] == "sox")
        .collect();
    assert_eq!(risk_findings(&sox), sox_half);
    // An exception on the SOX rule covers it and leaves the SOC finding open.
    let tmp = tempfile::tempdir().unwrap();
    let exceptions = tmp.path().join("exceptions.yaml");
    std::fs::write(
        &exceptions,
        "exceptions:\n  - id: EX-1\n    rule: SOX-SAP-P2P-01\n    track: sox\n    identity: E101\n    \
         compensating_control: monthly review of vendor changes against payments\n    approved_by: E100\n    \
         approved_at: 2026-09-01\n    expires: 2027-03-31\n",
    )
    .unwrap();
    let out = check_stdout(
        &format!("{SAP}/sources-csv.yaml"),
        &["--exceptions", exceptions.to_str().unwrap()],
    );
    let r: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(finding(&r, "SOX-SAP-P2P-01", "E101")["status"], "excepted");
    assert_eq!(finding(&r, "SOC-SAP-P2P-01", "E101")["status"], "open");
}

#[test]
fn sap_risks_are_described_in_sarif_markdown_and_explain() {
    let run = |args: &[&str]| {
        let (code, stdout, stderr) = parts(&dualtrack(args));
        assert!(code == 0 || code == 1, "{stderr}");
        stdout
    };
    let sources = format!("{SAP}/sources-csv.yaml");
    let common = ["check", "--inventory", &sources, "--as-of", "2026-10-01", "--format"];
    let sarif: Json = serde_json::from_str(&run(&[&common[..], &["sarif"]].concat())).unwrap();
    let run0 = &sarif["runs"][0];
    let result = run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "SOX-SAP-P2P-01")
        .unwrap();
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    let rule = &run0["tool"]["driver"]["rules"][index];
    assert_eq!(rule["id"], "SOX-SAP-P2P-01");
    assert_eq!(rule["properties"]["track"], "sox");
    assert_eq!(rule["properties"]["category"], "conflicting");
    let markdown = run(&[&common[..], &["markdown"]].concat());
    assert!(
        markdown.contains("| `SOX-SAP-P2P-01` | sox | critical | One person can set up a supplier"),
        "{markdown}"
    );
    let explained = run(&["explain", "SOX-SAP-P2P-01"]);
    assert!(
        explained.contains("SAP-PAYMENT-RUN — Execute the automatic payment run"),
        "{explained}"
    );
    assert!(explained.contains("F_REGU_BUK FBTCH: 21"), "{explained}");
    assert!(explained.contains("not compiled to Cedar"), "{explained}");
    // An exception on the other track than the risk rule's is refused.
    let tmp = tempfile::tempdir().unwrap();
    let exceptions = tmp.path().join("exceptions.yaml");
    std::fs::write(
        &exceptions,
        "exceptions:\n  - id: EX-1\n    rule: SOX-SAP-P2P-01\n    track: soc\n    identity: E101\n    \
         compensating_control: c\n    expires: 2027-03-31\n",
    )
    .unwrap();
    let (code, _, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        &sources,
        "--exceptions",
        exceptions.to_str().unwrap(),
    ]));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("is a sox rule"), "{stderr}");
}

#[test]
fn sap_risk_changes_show_in_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, head) = (tmp.path().join("base"), tmp.path().join("head"));
    crate::common::copy_tree(&root().join("policies"), &base);
    crate::common::copy_tree(&root().join("policies"), &head);
    let ruleset = head.join("sap.ruleset.yaml");
    let text = std::fs::read_to_string(&ruleset).unwrap();
    let p2p = "    functions: [SAP-VENDOR-MASTER, SAP-PAYMENT-RUN]\n    severity: critical\n";
    assert!(text.contains(p2p));
    std::fs::write(&ruleset, text.replace(p2p, &p2p.replace("critical", "high"))).unwrap();
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "diff",
        "--base",
        base.to_str().unwrap(),
        "--head",
        head.to_str().unwrap(),
        "--inventory",
        &format!("{SAP}/sources-csv.yaml"),
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let d: Json = serde_json::from_str(&stdout).unwrap();
    assert_eq!(d["added"], serde_json::json!([]));
    assert_eq!(d["removed"], serde_json::json!([]));
    let changed: BTreeSet<String> = d["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["after"]["rule"], c["after"]["identity"], c["after"]["severity"]
            )
        })
        .collect();
    let want: BTreeSet<String> = [
        r#""SOC-SAP-P2P-01" "E100" "high""#,
        r#""SOC-SAP-P2P-01" "E101" "high""#,
        r#""SOX-SAP-P2P-01" "E100" "high""#,
        r#""SOX-SAP-P2P-01" "E101" "high""#,
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(changed, want);
}
