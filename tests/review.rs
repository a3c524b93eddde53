//! The review loop: `campaign plan` writes worklists (CSV and XLSX) whose rows match a
//! reviewer assignment this file computes on its own from the inventory and campaign files;
//! filled back in (as CSV or as XLSX), they are verified for completeness, authority,
//! timeliness and quality, each planted problem reported on its track and nothing on
//! correct decisions; the evidence pack holds the sign-off memo and the HTML report, which
//! renders in headless Chromium.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use crate::common::{self, dualtrack, parts};

const ACME_INVENTORY: &str = "examples/acme";
const ACME_CAMPAIGN: &str = "tests/fixtures/campaign/acme.yaml";

/// One worklist row as a header-keyed map.
type Row = BTreeMap<String, String>;

/// Worklists by (track, file stem): header and rows.
type Lists = BTreeMap<(String, String), (Vec<String>, Vec<Row>)>;

/// (rule, track, entitlement id, or the reviewer for a rubber stamp).
type Found = BTreeSet<(String, String, String)>;

// ------------------------------------------------------------ an independent assignment

/// The inventory facts reviewer assignment depends on, read straight from the YAML files.
#[derive(Default)]
struct Facts {
    /// System id → (owner, sox_in_scope).
    systems: BTreeMap<String, (Option<String>, bool)>,
    /// Identity id → (kind, status, owner, manager).
    identities: BTreeMap<String, (String, String, Option<String>, Option<String>)>,
    /// (entitlement id, identity, system).
    entitlements: Vec<(String, String, String)>,
}

fn text(v: &Yaml, key: &str) -> Option<String> {
    match &v[key] {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Bool(b) => Some(b.to_string()),
        Yaml::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads an inventory file, or the YAML files of an inventory directory.
fn facts(path: &Path) -> Facts {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_owned()]
    };
    let mut f = Facts::default();
    for file in files {
        let doc: Yaml = serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for s in doc["systems"].as_sequence().into_iter().flatten() {
            let sox = s["sox_in_scope"].as_bool().unwrap_or(false);
            f.systems.insert(text(s, "id").unwrap(), (text(s, "owner"), sox));
        }
        for i in doc["identities"].as_sequence().into_iter().flatten() {
            f.identities.insert(
                text(i, "id").unwrap(),
                (
                    text(i, "kind").unwrap_or_else(|| "human".into()),
                    text(i, "status").unwrap_or_else(|| "active".into()),
                    text(i, "owner"),
                    text(i, "manager"),
                ),
            );
        }
        for e in doc["entitlements"].as_sequence().into_iter().flatten() {
            let (who, sys) = (text(e, "identity").unwrap(), text(e, "system").unwrap());
            let id = text(e, "id").unwrap_or_else(|| format!("{who}:{sys}:{}", text(e, "permission").unwrap()));
            f.entitlements.push((id, who, sys));
        }
    }
    f
}

/// The reviewer a strategy gives, if fit: someone active in the inventory who is neither
/// the holder nor the owner of the NHI that holds the access.
fn pick(f: &Facts, strategy: &str, holder: &str, system: &str) -> Option<String> {
    let (kind, _, owner, manager) = f.identities.get(holder)?;
    let candidate = match strategy {
        "system_owner" => f.systems.get(system)?.0.clone()?,
        "manager" if kind != "human" => f.identities.get(owner.as_ref()?)?.3.clone()?,
        "manager" => manager.clone()?,
        other => panic!("unknown strategy {other}"),
    };
    if candidate == holder || owner.as_deref() == Some(candidate.as_str()) {
        return None;
    }
    (f.identities.get(&candidate)?.1 == "active").then_some(candidate)
}

/// (track, reviewer or "" when nobody is fit, entitlement id) for every in-scope row.
fn expected_rows(f: &Facts, campaign: &Path) -> BTreeSet<(String, String, String)> {
    let doc: Yaml = serde_yaml::from_str(&std::fs::read_to_string(campaign).unwrap()).unwrap();
    let mut out = BTreeSet::new();
    for track in ["soc", "sox"] {
        let t = &doc["tracks"][track];
        if t.is_null() {
            continue;
        }
        let default_scope = if track == "soc" { "all" } else { "sox_in_scope" };
        let scope = text(t, "scope").unwrap_or_else(|| default_scope.into());
        for (id, holder, system) in &f.entitlements {
            let sox = f.systems.get(system).is_some_and(|s| s.1);
            if scope == "sox_in_scope" && !sox {
                continue;
            }
            let reviewer = pick(f, &text(t, "reviewer").unwrap(), holder, system)
                .or_else(|| text(t, "fallback").and_then(|fb| pick(f, &fb, holder, system)))
                .unwrap_or_default();
            out.insert((track.to_owned(), reviewer, id.clone()));
        }
    }
    out
}

// ------------------------------------------------------------ running the CLI

fn plan(inventory: &str, campaign: &str, as_of: &str, out: &Path) {
    let (code, _, stderr) = parts(&dualtrack(&[
        "campaign",
        "plan",
        "--campaign",
        campaign,
        "--inventory",
        inventory,
        "--as-of",
        as_of,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "stderr: {stderr}");
}

/// Exit code, the `DEC-*` findings (as rule, track, entitlement or reviewer), stderr.
fn dec_findings(inventory: &str, campaign: &str, as_of: &str, decisions: &Path) -> (i32, Found, String) {
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        inventory,
        "--as-of",
        as_of,
        "--campaign",
        campaign,
        "--decisions",
        decisions.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]));
    let report: Json = serde_json::from_str(&stdout).unwrap_or(Json::Null);
    let found = report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f["rule"].as_str().unwrap().starts_with("DEC-"))
                .map(|f| {
                    let who = if f["rule"] == "DEC-RUBBER-STAMP" {
                        f["identity"].as_str().unwrap().to_owned()
                    } else {
                        f["entitlements"][0].as_str().unwrap().to_owned()
                    };
                    (
                        f["rule"].as_str().unwrap().to_owned(),
                        f["track"].as_str().unwrap().to_owned(),
                        who,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (code, found, stderr)
}

// ------------------------------------------------------------ worklist files

fn read_csv(path: &Path) -> (Vec<String>, Vec<Row>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (header, rows)
}

/// The first worksheet of a workbook, as header and rows of text.
fn read_xlsx(path: &Path) -> (Vec<String>, Vec<Row>) {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let mut rows = range.rows();
    let header: Vec<String> = rows.next().unwrap().iter().map(ToString::to_string).collect();
    let rows = rows
        .map(|r| header.iter().cloned().zip(r.iter().map(ToString::to_string)).collect())
        .collect();
    (header, rows)
}

/// Every worklist of the plan with extension `ext`: (track, file stem) → rows.
fn worklists(dir: &Path, ext: &str) -> Lists {
    let mut out = BTreeMap::new();
    for track in ["soc", "sox"] {
        for entry in std::fs::read_dir(dir.join(track)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == ext) {
                let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
                let list = if ext == "csv" { read_csv(&p) } else { read_xlsx(&p) };
                out.insert((track.to_owned(), stem), list);
            }
        }
    }
    out
}

fn all_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Writes the filled worklists as CSV to `dir/<track>/<stem>.csv`.
fn write_csv(dir: &Path, lists: &Lists) {
    for ((track, stem), (header, rows)) in lists {
        std::fs::create_dir_all(dir.join(track)).unwrap();
        let mut w = csv::Writer::from_path(dir.join(track).join(format!("{stem}.csv"))).unwrap();
        w.write_record(header).unwrap();
        for r in rows {
            w.write_record(header.iter().map(|h| r[h].as_str())).unwrap();
        }
        w.flush().unwrap();
    }
}

/// Writes one filled worklist as a workbook, the way a spreadsheet saves it: text cells,
/// and `decided_at` as a date-time cell where it holds an RFC 3339 timestamp.
fn write_one_xlsx(path: &Path, header: &[String], rows: &[Row]) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (c, h) in (0u16..).zip(header) {
        sheet.write_string(0, c, h).unwrap();
    }
    for (r, row) in (1u32..).zip(rows) {
        for (c, h) in (0u16..).zip(header) {
            let v = &row[h];
            if h == "decided_at" && v.len() == 20 {
                let dt = ExcelDateTime::parse_from_str(v.trim_end_matches('Z')).unwrap();
                sheet.write_datetime_with_format(r, c, &dt, &when).unwrap();
            } else if !v.is_empty() {
                sheet.write_string(r, c, v).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

/// Writes the filled worklists as XLSX to `dir/<track>/<stem>.xlsx`.
fn write_xlsx(dir: &Path, lists: &Lists) {
    for ((track, stem), (header, rows)) in lists {
        std::fs::create_dir_all(dir.join(track)).unwrap();
        write_one_xlsx(&dir.join(track).join(format!("{stem}.xlsx")), header, rows);
    }
}

/// Fills every assigned row as a careful reviewer would, decided at `at(n)` for the n-th
/// row: flagged rows revoked, others approved, each with a rationale. Rows nobody may
/// review are left alone.
fn fill_correctly(lists: &mut Lists, at: impl Fn(usize) -> String) {
    let mut n = 0;
    for ((_, stem), (_, rows)) in lists.iter_mut() {
        if stem == "_unassigned" {
            continue;
        }
        for r in rows.iter_mut() {
            let flagged = !r["findings"].is_empty();
            r.insert("decision".into(), if flagged { "revoke" } else { "approve" }.into());
            r.insert("decided_at".into(), at(n));
            r.insert("rationale".into(), "checked with the holder's manager".into());
            n += 1;
        }
    }
}

/// The row of `lists` for entitlement `id` on `track`.
fn row_mut<'a>(lists: &'a mut Lists, track: &str, id: &str) -> &'a mut Row {
    lists
        .iter_mut()
        .filter(|((t, _), _)| t == track)
        .flat_map(|(_, (_, rows))| rows.iter_mut())
        .find(|r| r["entitlement"] == id)
        .unwrap_or_else(|| panic!("no {track} row for {id}"))
}

/// `DEC-NOT-REVIEWED` on every row nobody may review.
fn unassigned_rows(lists: &Lists) -> Found {
    lists
        .iter()
        .filter(|((_, s), _)| s == "_unassigned")
        .flat_map(|((t, _), (_, rows))| {
            rows.iter()
                .map(|r| ("DEC-NOT-REVIEWED".to_owned(), t.clone(), r["entitlement"].clone()))
        })
        .collect()
}

/// Asserts the worklists of a plan hold exactly the rows of `expected`, flagged rows first.
fn assert_rows(lists: &Lists, expected: &BTreeSet<(String, String, String)>) {
    let mut got = BTreeSet::new();
    for ((track, stem), (header, rows)) in lists {
        assert_eq!(header, dualtrack_engine::worklist::COLUMNS);
        let rank = |s: &str| {
            ["", "low", "medium", "high", "critical"]
                .iter()
                .position(|x| *x == s)
                .unwrap()
        };
        let sev: Vec<usize> = rows.iter().map(|r| rank(&r["severity"])).collect();
        assert!(
            sev.windows(2).all(|w| w[0] >= w[1]),
            "{stem}: flagged first, by severity: {sev:?}"
        );
        for r in rows {
            assert_eq!(&r["track"], track);
            assert!(r["decision"].is_empty() && r["decided_at"].is_empty() && r["rationale"].is_empty());
            assert_eq!(r["reviewer"], if stem == "_unassigned" { "" } else { stem.as_str() });
            assert_eq!(r["severity"].is_empty(), r["findings"].is_empty(), "{r:?}");
            assert!(got.insert((track.clone(), r["reviewer"].clone(), r["entitlement"].clone())));
        }
    }
    assert_eq!(&got, expected);
}

// ------------------------------------------------------------ the Acme campaign

#[test]
fn plan_writes_every_reviewers_worklist_as_computed_independently_and_reruns_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    plan(ACME_INVENTORY, ACME_CAMPAIGN, "2026-10-01", &out);
    let first = all_files(&out);
    for f in ["soc/instructions.md", "sox/instructions.md", "manifest.json"] {
        assert!(first.contains_key(f), "{f} missing: {:?}", first.keys());
    }
    let sox = String::from_utf8(first["sox/instructions.md"].clone()).unwrap();
    assert!(
        sox.contains("Segregation of duties")
            && sox.contains("Restricted access to financial systems")
            && sox.contains("System ownership")
            && sox.contains("**10 days**"),
        "{sox}"
    );
    let soc = String::from_utf8(first["soc/instructions.md"].clone()).unwrap();
    assert!(
        soc.contains("Business need")
            && soc.contains("**Use**")
            && soc.contains("Accountability")
            && soc.contains("Credential age")
            && soc.contains("**30 days**"),
        "{soc}"
    );

    let root = common::root();
    let expected = expected_rows(&facts(&root.join(ACME_INVENTORY)), &root.join(ACME_CAMPAIGN));
    assert!(expected.iter().any(|(t, _, _)| t == "sox") && expected.iter().any(|(t, _, _)| t == "soc"));
    let csv = worklists(&out, "csv");
    assert_rows(&csv, &expected);
    // Every reviewer of both tracks has a worklist, in both formats, with the same rows.
    let reviewers: BTreeSet<(String, String)> = expected
        .iter()
        .map(|(t, r, _)| (t.clone(), if r.is_empty() { "_unassigned".into() } else { r.clone() }))
        .collect();
    assert_eq!(csv.keys().cloned().collect::<BTreeSet<_>>(), reviewers);
    let xlsx = worklists(&out, "xlsx");
    assert_eq!(xlsx.keys().collect::<Vec<_>>(), csv.keys().collect::<Vec<_>>());
    for (k, (header, rows)) in &csv {
        let (xh, xrows) = &xlsx[k];
        assert_eq!(xh, header);
        assert_eq!(xrows.len(), rows.len(), "{k:?}");
        for (x, c) in xrows.iter().zip(rows) {
            for h in header {
                // The CSV guards cells a spreadsheet would read as a formula; XLSX cells are text.
                assert!(
                    x[h] == c[h] || format!("'{}", x[h]) == c[h],
                    "{k:?} {h}: {} vs {}",
                    x[h],
                    c[h]
                );
            }
        }
    }
    // A flagged row recommends revoke exactly when a stale, orphaned or conflicting finding is open.
    assert!(csv.values().flat_map(|l| &l.1).any(|r| r["recommended"] == "revoke"));

    plan(ACME_INVENTORY, ACME_CAMPAIGN, "2026-10-01", &out);
    assert_eq!(all_files(&out), first, "a rerun rewrites the same bytes");
    let manifest: Json = serde_json::from_slice(&first["manifest.json"]).unwrap();
    let listed: BTreeMap<&str, &str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["role"] == "output")
        .map(|f| (f["path"].as_str().unwrap(), f["sha256"].as_str().unwrap()))
        .collect();
    let written: BTreeSet<&str> = first
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "manifest.json")
        .collect();
    assert_eq!(listed.keys().copied().collect::<BTreeSet<_>>(), written);
    assert!(listed.keys().any(|p| p.ends_with(".xlsx")));
    let files = manifest["files"].as_array().unwrap();
    for input in [ACME_CAMPAIGN, "examples/acme/entitlements.yaml"] {
        assert!(
            files.iter().any(|f| f["role"] == "input" && f["path"] == input),
            "{input}"
        );
    }
}

#[test]
fn xlsx_worklists_have_a_decision_drop_down_a_frozen_header_and_only_input_columns_unlocked() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    plan(ACME_INVENTORY, ACME_CAMPAIGN, "2026-10-01", &out);
    let path = out.join("sox/maria.lopez.xlsx");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut part = |name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let sheet = part("xl/worksheets/sheet1.xml");
    let styles = part("xl/styles.xml");
    assert!(
        sheet.contains(r#"state="frozen""#) && sheet.contains(r#"ySplit="1""#),
        "{sheet}"
    );
    assert!(sheet.contains("<sheetProtection"), "{sheet}");
    let validation = regex::Regex::new(
        r#"<dataValidation type="list"[^>]*sqref="N2:N\d+"><formula1>"approve,revoke,modify"</formula1>"#,
    )
    .unwrap();
    assert!(validation.is_match(&sheet), "{sheet}");

    // Styles: which cell formats are unlocked.
    let xfs = &styles[styles.find("<cellXfs").unwrap()..styles.find("</cellXfs>").unwrap()];
    let unlocked: Vec<bool> = xfs.split("<xf ").skip(1).map(|x| x.contains(r#"locked="0""#)).collect();
    let header = dualtrack_engine::worklist::COLUMNS;
    let letter = |name: &str| char::from(b'A' + u8::try_from(header.iter().position(|h| *h == name).unwrap()).unwrap());
    let inputs: BTreeSet<char> = ["decision", "decided_at", "rationale"]
        .into_iter()
        .map(letter)
        .collect();
    let cell = regex::Regex::new(r#"<c r="([A-Z])(\d+)"(?: s="(\d+)")?"#).unwrap();
    let mut seen = 0;
    for c in cell.captures_iter(&sheet) {
        let (col, row) = (c[1].chars().next().unwrap(), c[2].parse::<u32>().unwrap());
        let style = c.get(3).map_or(0, |s| s.as_str().parse::<usize>().unwrap());
        if row > 1 {
            assert_eq!(unlocked[style], inputs.contains(&col), "cell {col}{row}");
            seen += 1;
        }
    }
    assert!(seen > 10, "{sheet}");
    assert!(
        part("docProps/core.xml").contains("2026-10-01T00:00:00Z"),
        "dated as of the review"
    );
}

#[test]
fn filled_acme_worklists_report_each_planted_case_on_its_track_and_nothing_when_correct() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    plan(ACME_INVENTORY, ACME_CAMPAIGN, "2026-10-01", &out);
    let mut lists = worklists(&out, "csv");
    // Decided late in the period, checked the day after it: no revoke is past its SLA yet
    // (SOX: 10 days), so only the rows nobody may review are reported.
    fill_correctly(&mut lists, |_| "2026-10-25".into());
    let good = tmp.path().join("good");
    write_csv(&good, &lists);
    let (code, found, stderr) = dec_findings(ACME_INVENTORY, ACME_CAMPAIGN, "2026-11-01", &good);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(found, unassigned_rows(&lists), "correct decisions report nothing else");
    let (code, found, stderr) = dec_findings(ACME_INVENTORY, ACME_CAMPAIGN, "2026-10-26", &good);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(found, Found::new(), "nothing at all within the period");

    // Plant one case per problem on a chosen track, each on a row of its own.
    let mut expected = unassigned_rows(&lists);
    let mut used = BTreeSet::new();
    let mut next = |lists: &Lists, track: &str, flagged: Option<bool>| -> String {
        let id = lists
            .iter()
            .filter(|((t, s), _)| t == track && s != "_unassigned")
            .flat_map(|(_, (_, rows))| rows)
            .find(|r| !used.contains(&r["entitlement"]) && flagged.is_none_or(|w| w != r["findings"].is_empty()))
            .map(|r| r["entitlement"].clone())
            .expect("a row to plant on");
        used.insert(id.clone());
        id
    };
    // SOC: a missing decision.
    let id = next(&lists, "soc", None);
    for c in ["decision", "decided_at", "rationale"] {
        row_mut(&mut lists, "soc", &id).insert(c.into(), String::new());
    }
    expected.insert(("DEC-NOT-REVIEWED".into(), "soc".into(), id));
    // SOC: a self-review (the holder, or the NHI's owner, decides).
    let id = next(&lists, "soc", None);
    let row = row_mut(&mut lists, "soc", &id);
    let holder = if row["kind"] == "human" {
        row["identity"].clone()
    } else {
        row["owner"].clone()
    };
    row.insert("reviewer".into(), holder);
    expected.insert(("DEC-SELF-REVIEW".into(), "soc".into(), id));
    // SOC: a flagged row approved without a rationale.
    let id = next(&lists, "soc", Some(true));
    let row = row_mut(&mut lists, "soc", &id);
    row.insert("decision".into(), "approve".into());
    row.insert("rationale".into(), String::new());
    expected.insert(("DEC-NO-RATIONALE".into(), "soc".into(), id));
    // SOX: a late decision (an approval dated before the period started).
    let id = next(&lists, "sox", Some(false));
    row_mut(&mut lists, "sox", &id).insert("decided_at".into(), "2026-09-20".into());
    expected.insert(("DEC-LATE".into(), "sox".into(), id));
    // SOX: a reviewer who approves every flagged row they decide (at least five), with
    // rationales.
    let stamp = lists
        .iter()
        .find(|((t, s), (_, rows))| {
            t == "sox" && s != "_unassigned" && rows.iter().filter(|r| !r["findings"].is_empty()).count() >= 6
        })
        .map(|(k, _)| k.clone())
        .expect("a SOX reviewer with six flagged rows");
    // SOX: a wrong reviewer: one of that reviewer's rows decided by the other financial
    // control owner instead.
    let other = if stamp.1 == "maria.lopez" {
        "david.okafor"
    } else {
        "maria.lopez"
    };
    let rows = &mut lists.get_mut(&stamp).unwrap().1;
    let wrong = rows.iter_mut().find(|r| !used.contains(&r["entitlement"])).unwrap();
    wrong.insert("reviewer".into(), other.into());
    let wrong = wrong["entitlement"].clone();
    expected.insert(("DEC-WRONG-REVIEWER".into(), "sox".into(), wrong.clone()));
    // (Rows planted on the SOC track above may be on this SOX list too: approved here.)
    for r in rows {
        if !r["findings"].is_empty() && r["entitlement"] != wrong {
            r.insert("decision".into(), "approve".into());
        }
    }
    expected.insert(("DEC-RUBBER-STAMP".into(), "sox".into(), stamp.1.clone()));
    let planted = tmp.path().join("planted");
    write_csv(&planted, &lists);
    let (code, found, stderr) = dec_findings(ACME_INVENTORY, ACME_CAMPAIGN, "2026-11-01", &planted);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(found, expected);
}

#[test]
fn decisions_naming_an_unknown_entitlement_are_coded_with_their_line() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("decisions.csv");
    let mut text = String::from("track,entitlement,reviewer,decision,decided_at,rationale\n");
    for i in 0..3 {
        text.push_str(&format!(
            "soc,ghost-{i}:github:read,tom.becker,approve,2026-10-05T09:00:00Z,ok\n"
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let (code, _, stderr) = dec_findings(ACME_INVENTORY, ACME_CAMPAIGN, "2026-10-15", &csv);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(stderr.matches("DT802").count(), 3, "{stderr}");
    assert!(stderr.contains(&format!("{}:2", csv.display())), "{stderr}");
}

#[test]
fn filled_xlsx_worklists_are_decisions_located_by_worksheet_row() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    plan(ACME_INVENTORY, ACME_CAMPAIGN, "2026-10-01", &out);
    let (header, mut rows) = read_xlsx(&out.join("sox/maria.lopez.xlsx"));
    assert!(rows.len() >= 3);
    for r in &mut rows {
        r.insert("decision".into(), "revoke".into());
        r.insert("decided_at".into(), "2026-10-06T10:00:00Z".into());
        r.insert("rationale".into(), "no longer needed".into());
    }
    // Worksheet row 3 holds an invalid decision.
    rows[1].insert("decision".into(), "maybe".into());
    let bad = tmp.path().join("bad.xlsx");
    write_one_xlsx(&bad, &header, &rows);
    let (code, _, stderr) = dec_findings(ACME_INVENTORY, ACME_CAMPAIGN, "2026-10-15", &bad);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("DT108") && stderr.contains(&format!("{}:3", bad.display())),
        "{stderr}"
    );
    // Worksheet row 4 names an entitlement the inventory does not hold.
    rows[1].insert("decision".into(), "approve".into());
    rows[2].insert("entitlement".into(), "nobody:sap-fi:FI_GHOST".into());
    rows[2].insert("decision".into(), "approve".into());
    let ghost = tmp.path().join("ghost.xlsx");
    write_one_xlsx(&ghost, &header, &rows);
    let (code, _, stderr) = dec_findings(ACME_INVENTORY, ACME_CAMPAIGN, "2026-10-15", &ghost);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("DT802") && stderr.contains(&format!("{}:4", ghost.display())),
        "{stderr}"
    );
    // Not a workbook at all.
    let junk = tmp.path().join("junk.xlsx");
    std::fs::write(&junk, "track,entitlement\n").unwrap();
    let (code, _, stderr) = dec_findings(ACME_INVENTORY, ACME_CAMPAIGN, "2026-10-15", &junk);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("DT101") && stderr.contains("junk.xlsx"), "{stderr}");
}

// ------------------------------------------------------------ a second, generated campaign

/// An inventory and campaign this file makes up (not the example the code was written
/// against): four systems (two SOX in scope, one without owner), a team lead with 65
/// entitlements to review, NHIs whose owner or ownerlessness forces the fallback, a
/// manager who is disabled, and access nobody may review.
fn globex(dir: &Path) -> (String, String) {
    let mut y = String::from("systems:\n");
    for (id, owner, sox) in [
        ("ledger", Some("hana.kim"), true),
        ("payhub", Some("omar.haddad"), true),
        ("wiki", Some("lee.chan"), false),
        ("crm", None, false),
    ] {
        y.push_str(&format!("  - id: {id}\n    sox_in_scope: {sox}\n"));
        if let Some(o) = owner {
            y.push_str(&format!("    owner: {o}\n"));
        }
    }
    y.push_str("identities:\n");
    let person = |id: &str, manager: Option<&str>, status: &str| {
        let mut s = format!("  - id: {id}\n    kind: human\n    status: {status}\n    last_seen: 2026-11-20\n");
        if let Some(m) = manager {
            s.push_str(&format!("    manager: {m}\n"));
        }
        s
    };
    y.push_str(&person("ceo.ada", None, "active"));
    for (id, m) in [
        ("hana.kim", "ceo.ada"),
        ("omar.haddad", "hana.kim"),
        ("lee.chan", "ceo.ada"),
        ("team.lead", "ceo.ada"),
        ("pat.field", "gone.boss"),
    ] {
        y.push_str(&person(id, Some(m), "active"));
    }
    y.push_str(&person("gone.boss", Some("ceo.ada"), "disabled"));
    y.push_str(&person("temp.contractor", None, "active"));
    for n in 1..=60 {
        y.push_str(&person(&format!("user{n:02}"), Some("team.lead"), "active"));
    }
    for (id, kind, owner) in [
        ("svc-batch", "service_account", Some("omar.haddad")),
        ("svc-orphan", "api_key", None),
    ] {
        y.push_str(&format!(
            "  - id: {id}\n    kind: {kind}\n    last_seen: 2026-11-20\n    credential_rotated_at: 2026-10-01\n    credential_expires_at: 2027-03-01\n"
        ));
        if let Some(o) = owner {
            y.push_str(&format!("    owner: {o}\n"));
        }
    }
    y.push_str("entitlements:\n");
    let mut grant = |who: &str, system: &str, permission: &str, last_used: &str, privileged: bool| {
        y.push_str(&format!(
            "  - identity: {who}\n    system: {system}\n    permission: {permission}\n    privileged: {privileged}\n    granted_at: 2026-01-10\n    last_used: {last_used}\n    justification: needed for the job\n"
        ));
    };
    for n in 1..=60 {
        // Ten of them have not used the wiki since June: stale.
        let used = if n <= 10 { "2026-06-01" } else { "2026-11-19" };
        grant(&format!("user{n:02}"), "wiki", "READ", used, false);
    }
    for n in 1..=5 {
        grant(&format!("user{n:02}"), "ledger", "GL_VIEW", "2026-11-18", false);
    }
    grant("omar.haddad", "ledger", "GL_POST", "2026-11-18", false);
    grant("omar.haddad", "payhub", "PAY_ADMIN", "2026-11-18", true);
    grant("hana.kim", "payhub", "PAY_APPROVE", "2026-11-18", false);
    grant("svc-batch", "payhub", "BATCH_RUN", "2026-11-18", false);
    grant("svc-orphan", "wiki", "API", "2026-11-18", false);
    grant("pat.field", "wiki", "READ", "2026-11-18", false);
    grant("temp.contractor", "crm", "EXPORT", "2026-11-18", false);
    grant("lee.chan", "wiki", "ADMIN", "2026-11-18", true);
    grant("ceo.ada", "crm", "VIEW", "2026-11-18", false);
    grant("ceo.ada", "ledger", "GL_VIEW", "2026-11-18", false);
    grant("team.lead", "wiki", "READ", "2026-11-18", false);
    let inventory = dir.join("globex.yaml");
    std::fs::write(&inventory, y).unwrap();
    let campaign = dir.join("campaign.yaml");
    std::fs::write(
        &campaign,
        "id: GLOBEX-2026-11\nperiod: {start: 2026-11-01, end: 2026-11-20}\ntracks:\n  soc: {reviewer: manager, fallback: system_owner, sla_days: 30}\n  sox: {reviewer: system_owner, fallback: manager, population: [hana.kim, omar.haddad], sla_days: 30}\n",
    )
    .unwrap();
    (inventory.display().to_string(), campaign.display().to_string())
}

#[test]
fn a_generated_campaign_plans_as_computed_and_its_filled_xlsx_worklists_report_each_planted_case() {
    let tmp = tempfile::tempdir().unwrap();
    let (inventory, campaign) = globex(tmp.path());
    let out = tmp.path().join("plan");
    plan(&inventory, &campaign, "2026-11-01", &out);
    let expected = expected_rows(&facts(Path::new(&inventory)), Path::new(&campaign));
    let lists = worklists(&out, "xlsx");
    assert_rows(&lists, &expected);
    assert_rows(&worklists(&out, "csv"), &expected);
    // The fallbacks and the rows nobody may review, as this file computes them.
    for (track, reviewer, id) in [
        ("sox", "hana.kim", "svc-batch:payhub:BATCH_RUN"),
        ("sox", "hana.kim", "omar.haddad:payhub:PAY_ADMIN"),
        ("soc", "hana.kim", "svc-batch:payhub:BATCH_RUN"),
        ("soc", "lee.chan", "svc-orphan:wiki:API"),
        ("soc", "lee.chan", "pat.field:wiki:READ"),
        ("soc", "", "temp.contractor:crm:EXPORT"),
        ("soc", "", "ceo.ada:crm:VIEW"),
    ] {
        assert!(
            expected.contains(&(track.into(), reviewer.into(), id.into())),
            "{track} {reviewer} {id}"
        );
    }

    // Correct decisions, each at its own second: after the period, only the rows nobody
    // may review are reported.
    let mut good = lists.clone();
    fill_correctly(&mut good, |n| format!("2026-11-05T09:{:02}:{:02}Z", n / 60, n % 60));
    let dir = tmp.path().join("good");
    write_xlsx(&dir, &good);
    let (code, found, stderr) = dec_findings(&inventory, &campaign, "2026-11-25", &dir);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(found, unassigned_rows(&lists));

    let mut bad = good;
    let mut expected = unassigned_rows(&lists);
    // SOC: a missing decision.
    for c in ["decision", "decided_at", "rationale"] {
        row_mut(&mut bad, "soc", "svc-orphan:wiki:API").insert(c.into(), String::new());
    }
    expected.insert(("DEC-NOT-REVIEWED".into(), "soc".into(), "svc-orphan:wiki:API".into()));
    // SOC: a late decision.
    row_mut(&mut bad, "soc", "lee.chan:wiki:ADMIN").insert("decided_at".into(), "2026-12-01T08:00:00Z".into());
    expected.insert(("DEC-LATE".into(), "soc".into(), "lee.chan:wiki:ADMIN".into()));
    // SOC: the team lead approves all 65 rows in one second.
    for r in &mut bad.get_mut(&("soc".into(), "team.lead".into())).unwrap().1 {
        r.insert("decision".into(), "approve".into());
        r.insert("decided_at".into(), "2026-11-10T10:00:00Z".into());
    }
    expected.insert(("DEC-RUBBER-STAMP".into(), "soc".into(), "team.lead".into()));
    // SOX: the owner of a service account decides on it.
    row_mut(&mut bad, "sox", "svc-batch:payhub:BATCH_RUN").insert("reviewer".into(), "omar.haddad".into());
    expected.insert((
        "DEC-SELF-REVIEW".into(),
        "sox".into(),
        "svc-batch:payhub:BATCH_RUN".into(),
    ));
    // SOX: a financial control owner decides on a row assigned to the other.
    row_mut(&mut bad, "sox", "user01:ledger:GL_VIEW").insert("reviewer".into(), "omar.haddad".into());
    expected.insert((
        "DEC-WRONG-REVIEWER".into(),
        "sox".into(),
        "user01:ledger:GL_VIEW".into(),
    ));
    // SOX: someone outside the track's population decides.
    row_mut(&mut bad, "sox", "ceo.ada:ledger:GL_VIEW").insert("reviewer".into(), "lee.chan".into());
    expected.insert((
        "DEC-WRONG-REVIEWER".into(),
        "sox".into(),
        "ceo.ada:ledger:GL_VIEW".into(),
    ));
    let dir = tmp.path().join("planted");
    write_xlsx(&dir, &bad);
    let (code, found, stderr) = dec_findings(&inventory, &campaign, "2026-11-25", &dir);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(found, expected);
}

// ------------------------------------------------------------ evidence and the browser

/// The chromium binary, if installed.
fn chromium() -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
}

/// What loading `page` in headless Chromium showed: the console messages, the URLs the
/// page requested other than `file:` and `data:` ones, the screenshot (PNG) and the DOM after load.
struct Rendered {
    console: Vec<String>,
    requests: Vec<String>,
    png: Vec<u8>,
    dom: String,
}

fn render(browser: &Path, page: &Path, work: &Path) -> Rendered {
    let profile = work.join("profile");
    let shot = work.join("shot.png");
    let netlog = work.join("netlog.json");
    let url = format!("file://{}", page.display());
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-features=MediaRouter,OptimizationHints",
        "--hide-scrollbars",
        // Every host name fails to resolve at once: nothing leaves the machine, and a page
        // that asks for something still shows the request in the net log.
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ];
    let run = std::process::Command::new(browser)
        .args(common)
        .args([
            "--enable-logging=stderr".to_owned(),
            "--v=0".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            format!("--log-net-log={}", netlog.display()),
            format!("--screenshot={}", shot.display()),
            "--window-size=1200,1600".to_owned(),
            url.clone(),
        ])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "chromium failed: {log}");
    let console = log
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    // The net log has one event a line. Requests the page makes carry its origin as
    // `initiator` (`null` for a file); the browser's own background requests (component
    // updates, clock sync) say "not an origin" and are not the page's doing.
    let net = std::fs::read_to_string(&netlog).unwrap_or_default();
    let initiator = regex::Regex::new(r#""initiator":"([^"]*)""#).unwrap();
    let url_re = regex::Regex::new(r#""url":"([^"]+)""#).unwrap();
    let requests: BTreeSet<String> = net
        .lines()
        .filter(|l| initiator.captures(l).is_some_and(|c| &c[1] != "not an origin"))
        .filter_map(|l| url_re.captures(l).map(|c| c[1].to_owned()))
        .filter(|u| !u.starts_with("file:") && !u.starts_with("data:"))
        .collect();
    assert!(net.contains("\"constants\""), "chromium wrote no net log");
    let dom = std::process::Command::new(browser)
        .args(common)
        .args([
            format!("--user-data-dir={}", profile.display()),
            "--dump-dom".to_owned(),
            url,
        ])
        .output()
        .unwrap();
    Rendered {
        console,
        requests: requests.into_iter().collect(),
        png: std::fs::read(&shot).unwrap_or_default(),
        dom: String::from_utf8_lossy(&dom.stdout).into_owned(),
    }
}

/// True for a PNG whose pixels are not all alike (a blank page is one colour). Decoded
/// with flate2: an 8-bit RGB(A) image, as Chromium writes screenshots.
fn png_has_content(png: &[u8]) -> bool {
    assert_eq!(png.get(1..4), Some(&b"PNG"[..]), "not a PNG");
    let (mut pos, mut idat, mut width, mut channels) = (8, Vec::new(), 0usize, 0usize);
    while pos + 8 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &png[pos + 4..pos + 8];
        let data = &png[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                assert_eq!(data[8], 8, "8-bit samples");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("colour type {other}"),
                };
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        pos += 12 + len;
    }
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&idat[..]), &mut raw).unwrap();
    // Each scanline starts with a filter byte; a uniform image has, after the first pixel
    // of each line, only zero differences under the Sub/Up filters and equal bytes under None.
    // Rather than unfilter, count distinct scanlines: a blank page's are all identical.
    let stride = 1 + width * channels;
    let lines: BTreeSet<&[u8]> = raw.chunks(stride).map(|l| &l[1..]).collect();
    lines.len() > 10
}

#[test]
fn evidence_pack_holds_signoff_coverage_and_a_report_html_that_renders_in_headless_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    plan(ACME_INVENTORY, ACME_CAMPAIGN, "2026-10-01", &out);
    let mut lists = worklists(&out, "csv");
    fill_correctly(&mut lists, |_| "2026-10-05".into());
    let filled = tmp.path().join("filled");
    write_csv(&filled, &lists);
    let pack = tmp.path().join("pack");
    let (code, _, stderr) = parts(&dualtrack(&[
        "evidence",
        "--inventory",
        ACME_INVENTORY,
        "--as-of",
        "2026-10-15",
        "--exceptions",
        "tests/fixtures/exceptions/acme.yaml",
        "--campaign",
        ACME_CAMPAIGN,
        "--decisions",
        filled.to_str().unwrap(),
        "--out",
        pack.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    for track in ["soc", "sox"] {
        let signoff = std::fs::read_to_string(pack.join(track).join("signoff.md")).unwrap();
        assert!(signoff.contains("Review period: 2026-10-01 to 2026-10-31"), "{signoff}");
        assert!(signoff.contains("| Signature | |"), "{signoff}");
        let instructions = std::fs::read_to_string(pack.join(track).join("instructions.md")).unwrap();
        assert!(instructions.contains("What a revoke commits you to"), "{instructions}");
        let coverage = std::fs::read_to_string(pack.join(track).join("coverage.md")).unwrap();
        assert!(coverage.contains("| reviewer | assigned | approve | revoke | modify | late | missing |"));
    }
    // `check --format html` prints the same kind of page on standard output.
    let (code, page, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        ACME_INVENTORY,
        "--as-of",
        "2026-10-15",
        "--format",
        "html",
        "--fail-on",
        "never",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<svg role=\"img\"") && !page.contains("<script"));
    let html_path = pack.join("report.html");
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("<svg role=\"img\"") && html.contains("<table>") && !html.contains("<script"));
    let external = regex::Regex::new(r#"(?i)(src|href|action)\s*=\s*["']?\s*(https?:)?//"#).unwrap();
    assert!(!external.is_match(&html), "no external resource");

    let Some(browser) = chromium() else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(!ci, "chromium is required in CI (.ci/run installs Debian's `chromium`)");
        eprintln!("SKIPPED: chromium is not installed and CI is unset; install Debian's `chromium` to run this test");
        return;
    };
    // First, a page that does what the report must not: the checks below must see it.
    let bad = tmp.path().join("bad.html");
    std::fs::write(
        &bad,
        "<!doctype html><title>x</title><script>console.error('boom')</script>\
         <img style=\"display:none\" src=\"http://example.invalid/x.png\">",
    )
    .unwrap();
    let seen = render(&browser, &bad, &tmp.path().join("bad"));
    assert!(
        seen.console.iter().any(|l| l.contains("boom")),
        "console messages are seen: {:?}",
        seen.console
    );
    assert!(
        seen.requests.iter().any(|u| u.contains("example.invalid")),
        "external requests are seen: {:?}",
        seen.requests
    );
    assert!(!png_has_content(&seen.png), "a blank page is seen as blank");

    let r = render(&browser, &html_path, &tmp.path().join("report"));
    assert_eq!(r.console, Vec::<String>::new(), "no console messages");
    assert_eq!(r.requests, Vec::<String>::new(), "no external requests");
    assert!(png_has_content(&r.png), "the screenshot is not blank");
    assert!(
        r.dom.contains("SOX track") && r.dom.contains("Decision coverage"),
        "{}",
        r.dom
    );
    assert!(!external.is_match(&r.dom), "no external resource in the rendered DOM");
}

#[test]
fn explain_knows_every_decision_pseudo_rule_with_its_controls() {
    for id in [
        "DEC-NOT-REVIEWED",
        "DEC-WRONG-REVIEWER",
        "DEC-SELF-REVIEW",
        "DEC-LATE",
        "DEC-NO-RATIONALE",
        "DEC-RUBBER-STAMP",
        "DEC-NOT-REMOVED",
        "EXC-EXPIRED",
    ] {
        let (code, stdout, stderr) = parts(&dualtrack(&["explain", id]));
        assert_eq!(code, 0, "{id}: {stderr}");
        assert!(
            stdout.starts_with(id) && stdout.contains("controls: soc CC6."),
            "{stdout}"
        );
    }
    // The documented thresholds are the ones applied.
    use dualtrack_engine::decisions::verify::{ALL_FLAGGED_MIN, SAME_SECOND_APPROVALS};
    let (_, stdout, _) = parts(&dualtrack(&["explain", "DEC-RUBBER-STAMP"]));
    assert!(
        stdout.contains(&format!("at least {SAME_SECOND_APPROVALS} of"))
            && stdout.contains(&format!("at least {ALL_FLAGGED_MIN} flagged")),
        "{stdout}"
    );
    let doc = std::fs::read_to_string(common::root().join("docs/review-loop.md")).unwrap();
    assert!(
        doc.contains(&format!("at least **{SAME_SECOND_APPROVALS}**"))
            && doc.contains(&format!("at least **{ALL_FLAGGED_MIN}**")),
        "docs/review-loop.md states the thresholds"
    );
}
