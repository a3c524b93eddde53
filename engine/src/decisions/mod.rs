//! Campaign decisions (`decisions.csv`: `track`, `entitlement`, `reviewer`, `decision`,
//! `decided_at`, `rationale`) checked against a later inventory snapshot: an entitlement a
//! reviewer revoked that is still present once the track's remediation SLA has passed is
//! a `DEC-NOT-REMOVED` finding on that track.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value as Json;

pub mod verify;

use crate::campaign::Campaign;
use crate::diag::{Code, Problem, Problems};
use crate::finding::{fingerprint, Evidence, Finding, FindingStatus};
use crate::inventory::load::csv_rows;
use crate::inventory::Entitlement;
use crate::node::{Fields, Node};
use crate::policy::{Category, Severity, Track};
use crate::source::{Loc, Source};
use crate::worklist::{Verdict, READ_COLUMNS as WORKLIST_COLUMNS};

/// Pseudo-rule: a revoked entitlement is still present after the track's SLA.
pub const NOT_REMOVED: &str = "DEC-NOT-REMOVED";

/// Columns of `decisions.csv`.
pub const DECISION_FIELDS: &[&str] = &[
    "track",
    "entitlement",
    "reviewer",
    "decision",
    "decided_at",
    "rationale",
];

/// One row of `decisions.csv` or of a filled worklist.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The track whose review decided.
    pub track: Track,
    /// Entitlement id.
    pub entitlement: String,
    /// Who decided.
    pub reviewer: String,
    /// Approve, revoke or modify.
    pub verdict: Verdict,
    /// When.
    pub decided_at: DateTime<Utc>,
    /// True when `decided_at` was written with a time of day (a bare date is not precise
    /// enough to show that decisions were made in the same second).
    pub timed: bool,
    /// Why.
    pub rationale: Option<String>,
    /// Where the row is.
    pub loc: Loc,
}

/// The decisions of a file or directory, with the campaign they answer.
#[derive(Debug, Clone, Default)]
pub struct Decisions {
    /// Latest decision per (track, entitlement).
    pub latest: BTreeMap<(Track, String), Decision>,
    /// Days to remove a revoked entitlement, per track.
    pub sla_days: BTreeMap<Track, u32>,
    /// The campaign, when given: its period, reviewers and populations are checked.
    pub campaign: Option<Campaign>,
    /// Every file read, in reading order (a directory is read file by file, sorted by path).
    pub files: Vec<PathBuf>,
}

/// Reads the decisions at `path` and takes each track's SLA from `campaign`. `path` is a
/// decisions CSV, a filled worklist (CSV or XLSX), or a directory: every `.csv` and
/// `.xlsx` file under it is read, in path order; other files (instructions, manifest) are
/// left alone. Worklist rows with no `decision`, `decided_at` or `rationale` are not
/// decided yet and are skipped. A revoke decision on a track without `sla_days` is an
/// error: nothing could say when removal was due.
pub fn load(path: &Path, campaign: Option<&Campaign>) -> Result<Decisions, Problems> {
    let mut sink = Problems::default();
    let mut out = Decisions {
        sla_days: campaign
            .map(|c| {
                c.tracks
                    .iter()
                    .filter_map(|t| t.sla_days.as_ref().map(|d| (t.track, d.value)))
                    .collect()
            })
            .unwrap_or_default(),
        campaign: campaign.cloned(),
        ..Decisions::default()
    };
    out.files = files(path).map_err(|p| Problems(vec![p]))?;
    for file in out.files.clone() {
        let rows = match read_rows(&file, &mut sink) {
            Ok(rows) => rows,
            Err(p) => {
                sink.push(p);
                continue;
            }
        };
        for row in rows {
            if let Some(d) = decode(&row, &mut sink) {
                out.add(d, &mut sink);
            }
        }
    }
    sink.sort();
    if sink.has_errors() {
        return Err(sink);
    }
    Ok(out)
}

impl Decisions {
    fn add(&mut self, d: Decision, sink: &mut Problems) {
        if d.verdict == Verdict::Revoke && !self.sla_days.contains_key(&d.track) {
            sink.push(
                Problem::error(
                    Code::NoSla,
                    Some(d.loc.clone()),
                    format!(
                        "`{}` was revoked on the {} track, which has no remediation SLA",
                        d.entitlement,
                        d.track.as_str()
                    ),
                )
                .with_help("give `--campaign` with `sla_days` on this track"),
            );
        }
        let key = (d.track, d.entitlement.clone());
        if self.latest.get(&key).is_none_or(|old| old.decided_at <= d.decided_at) {
            self.latest.insert(key, d);
        }
    }
}

/// The files `path` names: itself, or the `.csv` and `.xlsx` files under the directory.
fn files(path: &Path) -> Result<Vec<PathBuf>, Problem> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut out = Vec::new();
    let mut dirs = vec![path.to_owned()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            Problem::error(
                Code::Io,
                None,
                format!(
                    "cannot read the decisions directory `{}`: {}",
                    dir.display(),
                    e.to_string().to_lowercase()
                ),
            )
        })?;
        for entry in entries.flatten() {
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.starts_with("~$") {
                // Hidden files and office lock files.
                continue;
            }
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(extension(&p).as_deref(), Some("csv" | "xlsx")) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn extension(p: &Path) -> Option<String> {
    p.extension().map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// The located rows of one decisions file: CSV, or the first worksheet of an XLSX
/// workbook (located by worksheet row).
fn read_rows(path: &Path, sink: &mut Problems) -> Result<Vec<Node>, Problem> {
    let src = if extension(path).as_deref() == Some("xlsx") {
        crate::xlsx::read(path, "--decisions", None)?
    } else {
        crate::text::read(path, "--decisions")?
    };
    Ok(rows(&src, sink))
}

fn rows(src: &Arc<Source>, sink: &mut Problems) -> Vec<Node> {
    csv_rows(src, "decisions", WORKLIST_COLUMNS, sink)
}

fn decode(row: &Node, sink: &mut Problems) -> Option<Decision> {
    let f = Fields::new(row, "decision", WORKLIST_COLUMNS, sink)?;
    if ["decision", "decided_at", "rationale"]
        .iter()
        .all(|k| f.get(k).is_none())
    {
        // A worklist row nobody has decided yet.
        return None;
    }
    let before = sink.0.len();
    let track = f.req_str("track", sink).and(f.opt_enum("track", Track::CHOICES, sink));
    let entitlement = f.req_str("entitlement", sink);
    let reviewer = f.req_str("reviewer", sink);
    let verdict = f
        .req_str("decision", sink)
        .and(f.opt_enum("decision", Verdict::CHOICES, sink));
    let decided_at = f.req_date("decided_at", sink);
    let timed = f
        .get("decided_at")
        .and_then(Node::scalar_text)
        .is_some_and(|t| t.trim().len() > 10);
    let rationale = f.opt_str("rationale", sink).map(|r| r.value);
    if sink.0.len() > before {
        return None;
    }
    Some(Decision {
        track: track?,
        entitlement: entitlement?.value,
        reviewer: reviewer?.value,
        verdict: verdict?,
        decided_at: decided_at?,
        timed,
        rationale,
        loc: f.loc().clone(),
    })
}

impl Decisions {
    /// The `DEC-NOT-REMOVED` findings among `ents` (one identity's, or all) on `tracks`:
    /// revoked, still present, and past the SLA on `as_of`.
    pub fn findings(&self, as_of: DateTime<Utc>, tracks: &[Track], ents: &[&Entitlement]) -> Vec<Finding> {
        let mut out = Vec::new();
        for e in ents {
            for track in tracks {
                let Some(d) = self.latest.get(&(*track, e.id.clone())) else {
                    continue;
                };
                let Some(days) = self.sla_days.get(track) else { continue };
                let due = d.decided_at + Duration::days(i64::from(*days));
                if d.verdict != Verdict::Revoke || as_of <= due {
                    continue;
                }
                out.push(not_removed(d, e, due, *days, as_of));
            }
        }
        out
    }
}

fn not_removed(d: &Decision, e: &Entitlement, due: DateTime<Utc>, days: u32, as_of: DateTime<Utc>) -> Finding {
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let late = (as_of - due).num_days();
    let mut evidence = Evidence::default();
    evidence.insert(Arc::from("decision.reviewer"), Json::from(d.reviewer.clone()));
    evidence.insert(Arc::from("decision.decided_at"), Json::from(day(d.decided_at)));
    evidence.insert(Arc::from("decision.due"), Json::from(day(due)));
    evidence.insert(Arc::from("decision.days_late"), Json::from(late));
    evidence.insert(Arc::from("decision.at"), Json::from(d.loc.to_string()));
    if let Some(r) = &d.rationale {
        evidence.insert(Arc::from("decision.rationale"), Json::from(r.clone()));
    }
    let (severity, controls): (Severity, Vec<String>) = match d.track {
        Track::Soc => (Severity::Medium, vec!["CC6.2".into(), "CC6.3".into()]),
        Track::Sox => (Severity::High, vec!["SOX-ITGC-APD-01".into(), "AC-6(7)".into()]),
    };
    let entitlements = vec![e.id.clone()];
    Finding {
        id: fingerprint(NOT_REMOVED, d.track, &e.identity.value, &entitlements),
        rule: Arc::from(NOT_REMOVED),
        track: d.track,
        category: Category::Excessive,
        severity,
        controls: controls.into(),
        identity: e.identity.value.to_string(),
        entitlements,
        message: format!(
            "`{}` was revoked by `{}` on {} and is still present {late} days after the {days}-day SLA",
            e.id,
            d.reviewer,
            day(d.decided_at)
        ),
        evidence,
        remediation: Arc::from(
            "Remove the entitlement in the source system, then confirm it is gone in the next inventory export.",
        ),
        status: FindingStatus::Open,
        file: e.loc.src.name_shared(),
        line: e.loc.line,
        change: None,
    }
}
