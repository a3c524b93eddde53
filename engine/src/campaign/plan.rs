//! The campaign plan: per track and reviewer, the worklist of every in-scope entitlement
//! that reviewer must certify (flagged rows first, by severity; as CSV and XLSX), the track's reviewer
//! instructions, and a manifest with the SHA-256 of every input and file. A filled
//! worklist is a decisions file. Built as bytes in memory, with no clock: the same inputs
//! give the same bytes. Writing the files is the CLI's job.

use std::collections::BTreeMap;

use serde_json::json;

use crate::artefact::{manifest_files, File, Input};
use crate::diag::{Code, Problem};
use crate::finding::{Finding, FindingStatus, Report};
use crate::inventory::{Entitlement, Identity, Inventory};
use crate::policy::{Category, Severity, Track};
use crate::worklist;

use super::assign::{assign, Assignment};
use super::carry::{self, Previous, Since};
use super::{instructions, xlsx, Campaign, TrackPlan};
use crate::finding::Change;

/// The worklist name of entitlements no strategy gives a reviewer for.
pub const UNASSIGNED: &str = "_unassigned";

/// One worklist row: an in-scope entitlement and what the reviewer should know about it.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    /// The track.
    pub track: Track,
    /// The entitlement.
    pub entitlement: &'a Entitlement,
    /// Its holder.
    pub holder: Option<&'a Identity>,
    /// The assigned reviewer (empty when unassigned).
    pub reviewer: &'a str,
    /// The open findings on this track that list the entitlement, in report order.
    pub findings: Vec<&'a Finding>,
    /// Against a baseline: what happened to the entitlement since, and which fields.
    pub change: Option<(Change, Vec<String>)>,
    /// Against a baseline: its decision on the row.
    pub previous: Option<Previous>,
    /// Against a baseline: why the approval carries forward (the row is on no worklist).
    pub carried: Option<String>,
}

impl Row<'_> {
    /// The highest severity among the open findings.
    pub fn severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// New, changed or flagged: what a delta review puts first.
    fn needs_attention(&self) -> bool {
        !self.findings.is_empty() || self.change.as_ref().is_some_and(|(c, _)| *c != Change::Unchanged)
    }

    /// `revoke` when a stale, orphaned or conflicting finding is open, else blank.
    pub fn recommended(&self) -> &'static str {
        let revoke = self
            .findings
            .iter()
            .any(|f| matches!(f.category, Category::Stale | Category::Orphaned | Category::Conflicting));
        if revoke {
            "revoke"
        } else {
            ""
        }
    }
}

/// The open rule findings per (track, entitlement id), in report order. Findings about
/// exceptions and decisions are not about the access itself and are left out.
pub fn open_by_entitlement(report: &Report) -> BTreeMap<(Track, &str), Vec<&Finding>> {
    let mut out: BTreeMap<(Track, &str), Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        if f.status != FindingStatus::Open || f.rule.starts_with("EXC-") || f.rule.starts_with("DEC-") {
            continue;
        }
        for e in &f.entitlements {
            out.entry((f.track, e.as_str())).or_default().push(f);
        }
    }
    out
}

/// The worklist key of the rows carried forward from a baseline (`_carried.csv`).
pub const CARRIED: &str = "_carried";

/// Every track's worklists: per reviewer (or [`UNASSIGNED`]), the rows in review order.
/// Against a baseline (`since`), rows whose approval carries forward are listed under
/// [`CARRIED`] instead, and new, changed and flagged rows come first.
pub fn worklists<'a>(
    campaign: &'a Campaign,
    inv: &'a Inventory,
    report: &'a Report,
    since: Option<&dyn Since>,
) -> BTreeMap<Track, BTreeMap<&'a str, Vec<Row<'a>>>> {
    let open = open_by_entitlement(report);
    let changes: BTreeMap<&str, (Change, Vec<String>)> = since
        .map(|s| {
            inv.entitlements
                .iter()
                .map(|e| (e.id.as_str(), s.change(e, inv)))
                .collect()
        })
        .unwrap_or_default();
    let label = since.map(|s| s.campaign()).unwrap_or_default();
    let mut out: BTreeMap<Track, BTreeMap<&str, Vec<Row<'_>>>> = BTreeMap::new();
    for plan in &campaign.tracks {
        let lists = out.entry(plan.track).or_default();
        for e in &inv.entitlements {
            let reviewer = match assign(plan, e, inv) {
                Assignment::OutOfScope => continue,
                Assignment::Reviewer(r) => r,
                Assignment::Unassigned { .. } => "",
            };
            let findings = open.get(&(plan.track, e.id.as_str())).cloned().unwrap_or_default();
            let change = changes.get(e.id.as_str()).cloned();
            let previous = since.and_then(|s| s.previous(plan.track, &e.id));
            let carried = change.as_ref().and_then(|(c, _)| {
                carry::decide(
                    plan,
                    inv,
                    *c,
                    previous.as_ref(),
                    reviewer,
                    !findings.is_empty(),
                    report.as_of,
                    &label,
                )
                .ok()
            });
            let key = match (&carried, reviewer.is_empty()) {
                (Some(_), _) => CARRIED,
                (None, true) => UNASSIGNED,
                (None, false) => reviewer,
            };
            lists.entry(key).or_default().push(Row {
                track: plan.track,
                entitlement: e,
                holder: inv.identity(&e.identity.value),
                reviewer,
                findings,
                change,
                previous,
                carried,
            });
        }
        for rows in lists.values_mut() {
            // Against a baseline, new, changed and flagged rows first; then flagged first,
            // most severe first; then by entitlement id.
            rows.sort_by(|a, b| {
                b.needs_attention()
                    .cmp(&a.needs_attention())
                    .then_with(|| b.severity().cmp(&a.severity()))
                    .then_with(|| a.change.as_ref().map(|c| c.0).cmp(&b.change.as_ref().map(|c| c.0)))
                    .then_with(|| a.entitlement.id.cmp(&b.entitlement.id))
            });
        }
    }
    out
}

/// The worklist row a reviewer reads for `row`; the input columns are empty.
pub fn worklist_row(row: &Row<'_>) -> worklist::Row {
    let e = row.entitlement;
    let day =
        |d: Option<chrono::DateTime<chrono::Utc>>| d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    let findings: Vec<String> = row
        .findings
        .iter()
        .map(|f| format!("{} ({}): {}", f.rule, f.severity.as_str(), one_line(&f.message)))
        .collect();
    worklist::Row {
        track: row.track.as_str().to_owned(),
        entitlement: e.id.clone(),
        reviewer: row.reviewer.to_owned(),
        identity: e.identity.value.to_string(),
        kind: row.holder.map(|h| h.kind.as_str()).unwrap_or_default().to_owned(),
        owner: row
            .holder
            .and_then(|h| h.owner.as_ref())
            .map(|o| o.value.clone())
            .unwrap_or_default(),
        system: e.system.value.to_string(),
        permission: e.permission.to_string(),
        privileged: if e.privileged { "yes" } else { "no" }.to_owned(),
        last_used: day(e.last_used),
        severity: row.severity().map(Severity::as_str).unwrap_or_default().to_owned(),
        findings: findings.join(" | "),
        recommended: row.recommended().to_owned(),
        decision: String::new(),
        decided_at: String::new(),
        rationale: String::new(),
        change: row
            .change
            .as_ref()
            .map(|(c, fields)| carry::change_cell(*c, fields))
            .unwrap_or_default(),
        previous_decision: row.previous.as_ref().map(Previous::describe).unwrap_or_default(),
        baseline_campaign: String::new(),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A worklist as CSV with `columns`: the header, then one row per entitlement.
pub fn worklist_csv(columns: &[&str], rows: &[worklist::Row]) -> Vec<u8> {
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to a `Vec` cannot fail.
    let _ = w.write_record(columns);
    for r in rows {
        let _ = w.write_record(r.csv_cells_of(columns).iter().map(|c| c.as_bytes()));
    }
    w.into_inner().unwrap_or_default()
}

/// The file name of a reviewer's worklist (without extension): the identity id with
/// anything but letters, digits, `.`, `_`, `-` and `@` replaced by `_`.
pub fn file_stem(reviewer: &str) -> String {
    reviewer
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Everything a plan is made from.
pub struct PlanSources<'a> {
    /// The campaign.
    pub campaign: &'a Campaign,
    /// The inventory the campaign reviews.
    pub inventory: &'a Inventory,
    /// Both tracks evaluated on the inventory, exceptions applied.
    pub report: &'a Report,
    /// Every input read, with its hash.
    pub inputs: &'a [Input],
    /// The baseline of a delta review (`--since`).
    pub since: Option<&'a dyn Since>,
    /// What the manifest says about the baseline (campaign, pack hash).
    pub since_about: Option<serde_json::Value>,
}

/// Builds every file of the plan, `manifest.json` last, sorted by path before it; `Err`
/// only if a workbook cannot be built.
pub fn build(src: &PlanSources<'_>) -> Result<Vec<File>, Problem> {
    let mut files: Vec<File> = Vec::new();
    let lists = worklists(src.campaign, src.inventory, src.report, src.since);
    let columns = if src.since.is_some() {
        worklist::DELTA_COLUMNS
    } else {
        worklist::COLUMNS
    };
    for plan in &src.campaign.tracks {
        let dir = plan.track.as_str();
        files.push((
            format!("{dir}/instructions.md"),
            instructions::text(src.campaign, plan).into_bytes(),
        ));
        for (reviewer, rows) in lists.get(&plan.track).into_iter().flatten() {
            let stem = file_stem(reviewer);
            if *reviewer == CARRIED {
                let label = src.since.map(|s| s.campaign()).unwrap_or_default();
                let rows: Vec<worklist::Row> = rows
                    .iter()
                    .map(|r| worklist::Row {
                        baseline_campaign: label.clone(),
                        ..worklist_row(r)
                    })
                    .collect();
                files.push((
                    format!("{dir}/{stem}.csv"),
                    worklist_csv(worklist::CARRIED_COLUMNS, &rows),
                ));
                continue;
            }
            let rows: Vec<worklist::Row> = rows.iter().map(worklist_row).collect();
            files.push((format!("{dir}/{stem}.csv"), worklist_csv(columns, &rows)));
            let book = xlsx::worklist(reviewer, columns, &rows, src.report.as_of).map_err(|e| {
                Problem::error(
                    Code::Io,
                    None,
                    format!(
                        "cannot build the worklist `{dir}/{stem}.xlsx`: {}",
                        e.to_string().to_lowercase()
                    ),
                )
            })?;
            files.push((format!("{dir}/{stem}.xlsx"), book));
        }
    }
    files.sort();
    let manifest = manifest(src, &files);
    files.push(("manifest.json".to_owned(), manifest));
    Ok(files)
}

fn manifest(src: &PlanSources<'_>, files: &[File]) -> Vec<u8> {
    let list = manifest_files(src.inputs, files);
    let tracks: Vec<serde_json::Value> = src
        .campaign
        .tracks
        .iter()
        .map(|t: &TrackPlan| {
            json!({
                "track": t.track.as_str(),
                "reviewer": t.reviewer.as_str(),
                "fallback": t.fallback.map(|f| f.as_str()),
                "sla_days": t.sla_days.as_ref().map(|d| d.value),
                "carry_forward": t.carry_forward.as_str(),
                "carry_forward_max_days": t.carry_forward_max_days.as_ref().map(|d| d.value),
            })
        })
        .collect();
    let doc = json!({
        "generator": format!("dualtrack {}", env!("CARGO_PKG_VERSION")),
        "campaign": src.campaign.id,
        "as_of": src.report.as_of.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "tracks": tracks,
        "note": "manifest.json lists every input read and every other file of the plan; it cannot hold its own hash",
        "files": list,
    });
    let mut doc = doc;
    if let (Some(about), Some(m)) = (&src.since_about, doc.as_object_mut()) {
        m.insert("since".to_owned(), about.clone());
    }
    let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    out.push(b'\n');
    out
}
