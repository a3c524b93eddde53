//! The audit evidence pack, built as bytes in memory: per track an attestation summary,
//! the findings, the exception log and a narrative; the population reconciliation; OSCAL
//! assessment results; and a manifest with the SHA-256 of every input and output. Nothing
//! here reads a clock or a random source: the same inputs and review date give the same
//! bytes. Writing the files (atomically) is the CLI's job.

mod agents;
pub mod delta;
mod oscal;
mod signoff;
mod tables;
mod text;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::artefact::{File, Input};
use crate::decisions::Decisions;
use crate::exceptions::{Exception, Exceptions};
use crate::finding::{Finding, FindingStatus, Report};
use crate::inventory::Inventory;
use crate::policy::{Pack, Track};

/// A UUID (version 5 layout, RFC 4122 variant) derived from SHA-256 of `parts`: stable
/// across runs, unlike a random one.
pub fn stable_uuid(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"dualtrack-evidence\0");
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let mut b: Vec<u8> = digest.iter().take(16).copied().collect();
    if let Some(v) = b.get_mut(6) {
        *v = (*v & 0x0f) | 0x50;
    }
    if let Some(v) = b.get_mut(8) {
        *v = (*v & 0x3f) | 0x80;
    }
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let at = |r: std::ops::Range<usize>| hex.get(r).unwrap_or_default().to_owned();
    format!(
        "{}-{}-{}-{}-{}",
        at(0..8),
        at(8..12),
        at(12..16),
        at(16..20),
        at(20..32)
    )
}

/// Everything the pack is made from. `report` has the exceptions applied already.
pub struct Sources<'a> {
    /// The evaluated report (both tracks), exceptions applied.
    pub report: &'a Report,
    /// The inventory evaluated.
    pub inventory: &'a Inventory,
    /// The policy pack.
    pub pack: &'a Pack,
    /// The exceptions, if a file was given.
    pub exceptions: Option<&'a Exceptions>,
    /// Decisions of an earlier campaign, if given (adds each track's `decisions.csv`).
    pub decisions: Option<&'a Decisions>,
    /// The campaign, if given (adds each track's reviewer instructions).
    pub campaign: Option<&'a crate::campaign::Campaign>,
    /// Every input read, with its hash.
    pub inputs: &'a [Input],
    /// The previous campaign's pack, for a delta review (adds each track's carried
    /// approvals, the baseline's revokes checked, and a narrative section).
    pub baseline: Option<&'a crate::baseline::Baseline>,
}

/// Builds every file of the pack, `manifest.json` last, sorted by path before it.
pub fn build(src: &Sources<'_>) -> Vec<File> {
    let mut files: Vec<File> = Vec::new();
    let deltas = src.baseline.map(|b| (b, delta::tracks(src, b)));
    let coverage = src
        .decisions
        .map(|d| crate::decisions::verify::coverage(d, src.inventory))
        .unwrap_or_default();
    for track in Track::ALL {
        let ctx = TrackView::new(src, track);
        let dir = track.as_str();
        files.push((
            format!("{dir}/signoff.md"),
            signoff::signoff_md(src, &ctx, &coverage).into_bytes(),
        ));
        if let Some(plan) = src.campaign.and_then(|c| c.tracks.iter().find(|p| p.track == track)) {
            if let Some(c) = src.campaign {
                files.push((
                    format!("{dir}/instructions.md"),
                    crate::campaign::instructions::text(c, plan).into_bytes(),
                ));
            }
        }
        if src.decisions.is_some() {
            files.push((
                format!("{dir}/coverage.md"),
                signoff::coverage_md(src, track, &coverage).into_bytes(),
            ));
        }
        files.push((format!("{dir}/summary.md"), text::summary(src, &ctx).into_bytes()));
        let mut narrative = text::narrative(src, &ctx);
        if let Some((b, ds)) = &deltas {
            if let Some(t) = ds.iter().find(|t| t.track == track) {
                narrative.push('\n');
                narrative.push_str(&delta::narrative(t, b));
                files.push((format!("{dir}/carried_forward.csv"), delta::carried_csv(t, b, src)));
                files.push((
                    format!("{dir}/baseline_revokes.csv"),
                    delta::revokes_csv(t, b, src.report.as_of),
                ));
            }
        }
        files.push((format!("{dir}/narrative.md"), narrative.into_bytes()));
        files.push((format!("{dir}/findings.csv"), tables::findings_csv(src.report, track)));
        files.push((format!("{dir}/exceptions.csv"), tables::exception_log(&ctx)));
        if let Some(d) = src.decisions {
            files.push((format!("{dir}/decisions.csv"), tables::decision_log(src, d, track)));
        }
    }
    files.push(("population.csv".to_owned(), tables::population_csv(src)));
    files.push(("report.html".to_owned(), report_html(src, &coverage).into_bytes()));
    files.push((
        "oscal/assessment-results.json".to_owned(),
        oscal::assessment_results(src),
    ));
    // The next campaign's baseline: this campaign's decisions and the approvals it carried.
    let carried: Vec<(Track, String, crate::campaign::carry::Previous)> = deltas
        .iter()
        .flat_map(|(_, ds)| ds.iter())
        .flat_map(|t| {
            t.carried
                .iter()
                .map(|c| (t.track, c.entitlement.clone(), c.previous.clone()))
        })
        .collect();
    files.extend(crate::baseline::files(
        src.inventory,
        src.report,
        src.decisions,
        &carried,
    ));
    files.sort();
    let manifest = manifest(src, &files);
    files.push(("manifest.json".to_owned(), manifest));
    files
}

fn report_html(src: &Sources<'_>, coverage: &[crate::decisions::verify::TrackCoverage]) -> String {
    use crate::render::{CoverageRow, ExceptionRow, HtmlExtras, PopulationRow};
    let as_of = src.report.as_of;
    let extras = HtmlExtras {
        population: population(src.inventory, src.report)
            .into_iter()
            .map(|p| PopulationRow {
                system: p.id,
                sox_in_scope: p.sox_in_scope,
                entitlements: p.entitlements,
                identities: p.identities,
            })
            .collect(),
        exceptions: src.exceptions.map(|xs| {
            xs.list
                .iter()
                .map(|x| ExceptionRow {
                    track: Some(x.track),
                    id: x.id.clone(),
                    rules: x.rules.iter().map(|r| r.value.as_str()).collect::<Vec<_>>().join(", "),
                    expires: x.expires.format("%Y-%m-%d").to_string(),
                    live: x.is_live(as_of),
                })
                .collect()
        }),
        coverage: src.decisions.map(|_| {
            coverage
                .iter()
                .map(|c| CoverageRow {
                    track: Some(c.track),
                    total: c.total,
                    reviewed: c.reviewed,
                    missing: c.missing,
                    late: c.late,
                    reviewers: c
                        .reviewers
                        .iter()
                        .map(|(r, v)| (r.clone(), [v.approve, v.revoke, v.modify, v.late, v.missing]))
                        .collect(),
                })
                .collect()
        }),
    };
    crate::render::html(src.report, &extras)
}

fn manifest(src: &Sources<'_>, files: &[File]) -> Vec<u8> {
    let list = crate::artefact::manifest_files(src.inputs, files);
    let sla_days: serde_json::Map<String, serde_json::Value> = src
        .campaign
        .map(|c| {
            c.tracks
                .iter()
                .filter_map(|t| {
                    t.sla_days
                        .as_ref()
                        .map(|d| (t.track.as_str().to_owned(), json!(d.value)))
                })
                .collect()
        })
        .unwrap_or_default();
    let doc = json!({
        "format": crate::artefact::PACK_FORMAT,
        "generator": format!("dualtrack {}", env!("CARGO_PKG_VERSION")),
        "campaign": src.campaign.map(|c| c.id.as_str()),
        "since": src.baseline.map(crate::baseline::Baseline::about),
        "as_of": text::timestamp(src.report.as_of),
        "sla_days": sla_days,
        "note": "manifest.json lists every input read and every other file of the pack; it cannot hold its own hash",
        "files": list,
    });
    let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    out.push(b'\n');
    out
}

/// What an exception did in this run.
pub struct ExceptionEntry<'a> {
    /// The exception.
    pub exception: &'a Exception,
    /// Live on the review date.
    pub live: bool,
    /// Ids of the findings it selects (excepted if live, open if expired).
    pub findings: Vec<&'a str>,
    /// The `EXC-*` pseudo-rules reported about it.
    pub reported: Vec<&'a str>,
}

/// The slice of the run one track's files are about.
pub struct TrackView<'a> {
    /// The track.
    pub track: Track,
    /// The track's findings (rule findings first, then those about exceptions).
    pub findings: Vec<&'a Finding>,
    /// The track's exceptions, by id.
    pub exceptions: Vec<ExceptionEntry<'a>>,
}

impl<'a> TrackView<'a> {
    fn new(src: &Sources<'a>, track: Track) -> Self {
        let findings: Vec<&Finding> = src.report.findings.iter().filter(|f| f.track == track).collect();
        let as_of = src.report.as_of;
        let exceptions = src
            .exceptions
            .map(|xs| {
                xs.list
                    .iter()
                    .filter(|x| x.track == track)
                    .map(|x| ExceptionEntry {
                        exception: x,
                        live: x.is_live(as_of),
                        findings: findings
                            .iter()
                            .filter(|f| !f.rule.starts_with("EXC-") && x.selects(f))
                            .map(|f| f.id.as_str())
                            .collect(),
                        reported: findings
                            .iter()
                            .filter(|f| f.rule.starts_with("EXC-") && exception_of(f) == Some(x.id.as_str()))
                            .map(|f| &*f.rule)
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        TrackView {
            track,
            findings,
            exceptions,
        }
    }

    /// Open and excepted counts.
    pub fn open_excepted(&self) -> (usize, usize) {
        let open = self.findings.iter().filter(|f| f.status == FindingStatus::Open).count();
        (open, self.findings.len() - open)
    }
}

/// The exception id a pseudo-rule finding is about.
fn exception_of(f: &Finding) -> Option<&str> {
    f.evidence.get("exception.id").and_then(|v| v.as_str())
}

/// Per-system counts of the population: entitlements, distinct holders, and findings
/// per track that touch the system.
pub struct SystemCount {
    /// System id.
    pub id: String,
    /// In SOX scope.
    pub sox_in_scope: bool,
    /// Entitlements on the system.
    pub entitlements: usize,
    /// Distinct identities holding them.
    pub identities: usize,
    /// Findings per track listing one of its entitlements: (open, excepted).
    pub findings: BTreeMap<Track, (usize, usize)>,
}

/// The population per system, sorted by system id.
pub fn population(inv: &Inventory, report: &Report) -> Vec<SystemCount> {
    let mut holders: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut system_of: BTreeMap<&str, &str> = BTreeMap::new();
    for e in &inv.entitlements {
        *counts.entry(&e.system.value).or_default() += 1;
        holders.entry(&e.system.value).or_default().insert(&e.identity.value);
        system_of.insert(&e.id, &e.system.value);
    }
    let mut touched: BTreeMap<(&str, Track), (usize, usize)> = BTreeMap::new();
    for f in &report.findings {
        let systems: BTreeSet<&str> = f
            .entitlements
            .iter()
            .filter_map(|e| system_of.get(e.as_str()).copied())
            .collect();
        for s in systems {
            let slot = touched.entry((s, f.track)).or_default();
            match f.status {
                FindingStatus::Open => slot.0 += 1,
                FindingStatus::Excepted => slot.1 += 1,
            }
        }
    }
    inv.systems
        .iter()
        .map(|s| SystemCount {
            id: s.id.clone(),
            sox_in_scope: s.sox_in_scope,
            entitlements: counts.get(s.id.as_str()).copied().unwrap_or(0),
            identities: holders.get(s.id.as_str()).map_or(0, BTreeSet::len),
            findings: Track::ALL
                .iter()
                .map(|t| (*t, touched.get(&(s.id.as_str(), *t)).copied().unwrap_or_default()))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::stable_uuid;

    #[test]
    fn uuids_are_stable_and_shaped_as_version_5() {
        let a = stable_uuid(&["x", "y"]);
        assert_eq!(a, stable_uuid(&["x", "y"]));
        assert_ne!(a, stable_uuid(&["xy"]));
        assert_eq!(a.len(), 36);
        assert_eq!(a.chars().nth(14), Some('5'));
        assert!(matches!(a.chars().nth(19), Some('8' | '9' | 'a' | 'b')));
    }
}
