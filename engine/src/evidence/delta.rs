//! A delta review's evidence (`evidence --since`): per track, how many in-scope
//! entitlements were re-reviewed and how many approvals carried forward from the baseline
//! and why each was eligible; which of the baseline's revokes the inventory confirms gone,
//! and which are still present.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::baseline::Baseline;
use crate::campaign::assign::{assign, in_scope, Assignment};
use crate::campaign::carry::{self, Previous, Since};
use crate::campaign::plan::open_by_entitlement;
use crate::campaign::{CarryForward, Scope, TrackPlan};
use crate::escape::{code, guard_formula};
use crate::finding::Change;
use crate::policy::Track;
use crate::worklist::Verdict;

use super::Sources;

/// An approval carried forward from the baseline.
#[derive(Debug, Clone)]
pub struct Carried {
    /// Entitlement id.
    pub entitlement: String,
    /// The baseline's approval.
    pub previous: Previous,
    /// Why it was eligible.
    pub reason: String,
}

/// One of the baseline's revokes, checked against the inventory now.
#[derive(Debug, Clone)]
pub struct Revoked {
    /// Entitlement id.
    pub entitlement: String,
    /// Holder, system and permission as the baseline had them.
    pub identity: String,
    /// System id.
    pub system: String,
    /// Permission.
    pub permission: String,
    /// The baseline's decision.
    pub previous: Previous,
}

/// One track's delta review.
#[derive(Debug, Clone)]
pub struct TrackDelta {
    /// The track.
    pub track: Track,
    /// In-scope entitlements by change class.
    pub by_change: BTreeMap<Change, usize>,
    /// Approvals carried forward, by entitlement id.
    pub carried: Vec<Carried>,
    /// Baseline revokes whose entitlement is gone.
    pub removed: Vec<Revoked>,
    /// Baseline revokes whose entitlement is still present.
    pub still_present: Vec<Revoked>,
}

impl TrackDelta {
    /// In-scope entitlements.
    pub fn in_scope(&self) -> usize {
        self.by_change.values().sum()
    }
}

/// The track's plan in the campaign, or the default scope with nothing carried when the
/// pack is built without a campaign.
fn plan_of(src: &Sources<'_>, track: Track) -> TrackPlan {
    src.campaign
        .and_then(|c| c.tracks.iter().find(|p| p.track == track))
        .cloned()
        .unwrap_or_else(|| TrackPlan {
            track,
            scope: match track {
                Track::Soc => Scope::All,
                Track::Sox => Scope::SoxInScope,
            },
            reviewer: crate::campaign::Reviewer::SystemOwner,
            fallback: None,
            population: Vec::new(),
            sla_days: None,
            carry_forward: CarryForward::Never,
            carry_forward_max_days: None,
            loc: src
                .inventory
                .systems
                .first()
                .map_or_else(|| crate::source::Source::new("", "").whole(), |s| s.loc.clone()),
        })
}

/// Every track's delta review against `b`.
pub fn tracks(src: &Sources<'_>, b: &Baseline) -> Vec<TrackDelta> {
    let inv = src.inventory;
    let open = open_by_entitlement(src.report);
    let label = b.label();
    let changes: BTreeMap<&str, Change> = inv
        .entitlements
        .iter()
        .map(|e| (e.id.as_str(), b.change(e, inv).0))
        .collect();
    Track::ALL
        .iter()
        .map(|&track| {
            let plan = plan_of(src, track);
            let mut by_change = BTreeMap::new();
            let mut carried = Vec::new();
            for e in &inv.entitlements {
                if !in_scope(&plan, e, inv) {
                    continue;
                }
                let change = changes.get(e.id.as_str()).copied().unwrap_or(Change::New);
                *by_change.entry(change).or_insert(0) += 1;
                let decided = src
                    .decisions
                    .is_some_and(|d| d.latest.contains_key(&(track, e.id.clone())));
                if decided {
                    continue;
                }
                let reviewer = match assign(&plan, e, inv) {
                    Assignment::Reviewer(r) => r,
                    _ => "",
                };
                let previous = b.previous(track, &e.id);
                let flagged = open.contains_key(&(track, e.id.as_str()));
                if let (Ok(reason), Some(p)) = (
                    carry::decide(
                        &plan,
                        inv,
                        change,
                        previous.as_ref(),
                        reviewer,
                        flagged,
                        src.report.as_of,
                        &label,
                    ),
                    previous.clone(),
                ) {
                    carried.push(Carried {
                        entitlement: e.id.clone(),
                        previous: p,
                        reason,
                    });
                }
            }
            let (mut removed, mut still_present) = (Vec::new(), Vec::new());
            for ((t, id), d) in &b.decisions {
                if *t != track || d.verdict != Verdict::Revoke {
                    continue;
                }
                let then = b.state.entitlements.get(id.as_str());
                let r = Revoked {
                    entitlement: id.clone(),
                    identity: then.map(|e| e.identity.to_string()).unwrap_or_default(),
                    system: then.map(|e| e.system.to_string()).unwrap_or_default(),
                    permission: then.map(|e| e.permission.to_string()).unwrap_or_default(),
                    previous: Previous {
                        verdict: d.verdict,
                        reviewer: d.reviewer.clone(),
                        decided_at: d.decided_at,
                    },
                };
                if changes.contains_key(id.as_str()) {
                    still_present.push(r);
                } else {
                    removed.push(r);
                }
            }
            TrackDelta {
                track,
                by_change,
                carried,
                removed,
                still_present,
            }
        })
        .collect()
}

fn day(d: chrono::DateTime<chrono::Utc>) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// `carried_forward.csv`: each carried approval and why it was eligible.
pub fn carried_csv(t: &TrackDelta, b: &Baseline, src: &Sources<'_>) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    // Writing to a `Vec` cannot fail.
    let _ = w.write_record([
        "entitlement",
        "identity",
        "system",
        "permission",
        "approved_by",
        "approved_at",
        "baseline_campaign",
        "eligible_because",
    ]);
    let label = b.label();
    for c in &t.carried {
        let e = src.inventory.entitlements.iter().find(|e| e.id == c.entitlement);
        let _ = w.write_record([
            guard_formula(&c.entitlement).as_ref(),
            e.map(|e| &*e.identity.value).unwrap_or_default(),
            e.map(|e| &*e.system.value).unwrap_or_default(),
            &guard_formula(e.map(|e| &*e.permission).unwrap_or_default()),
            &c.previous.reviewer,
            &day(c.previous.decided_at),
            &label,
            &c.reason,
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// `baseline_revokes.csv`: the baseline's revokes and whether the inventory confirms them gone.
pub fn revokes_csv(t: &TrackDelta, b: &Baseline, as_of: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "entitlement",
        "identity",
        "system",
        "permission",
        "revoked_by",
        "revoked_at",
        "baseline_campaign",
        "outcome",
    ]);
    let label = b.label();
    let gone = format!("removed: not in the inventory of {}", day(as_of));
    let rows = t
        .removed
        .iter()
        .map(|r| (r, gone.as_str()))
        .chain(t.still_present.iter().map(|r| (r, "still present")));
    let mut rows: Vec<_> = rows.collect();
    rows.sort_by(|a, b| a.0.entitlement.cmp(&b.0.entitlement));
    for (r, outcome) in rows {
        let _ = w.write_record([
            guard_formula(&r.entitlement).as_ref(),
            &r.identity,
            &r.system,
            &guard_formula(&r.permission),
            &r.previous.reviewer,
            &day(r.previous.decided_at),
            &label,
            outcome,
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// The narrative's section on the delta review.
pub fn narrative(t: &TrackDelta, b: &Baseline) -> String {
    let mut out = String::new();
    let n = |c: Change| t.by_change.get(&c).copied().unwrap_or(0);
    let carried = t.carried.len();
    let _ = writeln!(
        out,
        "## Delta review\n\n\
         This review builds on the signed-off pack of {} (review date {}, `manifest.json` \
         SHA-256 `{}`), verified against its manifest before it was read. Entitlements in \
         scope: {}; new since then: {}; changed: {} (a field of the entitlement, its holder or \
         its system; usage dates are observations and never count as a change); unchanged: \
         {}.\n",
        code(&b.label()),
        day(b.as_of),
        b.manifest_sha256,
        t.in_scope(),
        n(Change::New),
        n(Change::Changed),
        n(Change::Unchanged),
    );
    let _ = writeln!(
        out,
        "Re-reviewed in this campaign: {}. Carried forward from the baseline without a new \
         review: {carried}; a carried approval is unchanged, has no open finding, was approved \
         by a reviewer who is still active and still assigned, and is within the campaign's \
         age limit. `carried_forward.csv` lists each with the reason.\n",
        t.in_scope().saturating_sub(carried)
    );
    let _ = writeln!(
        out,
        "Revokes of the baseline on this track: {}. Confirmed removed (no longer in the \
         inventory): {}. Still present: {}. `baseline_revokes.csv` lists each.\n",
        t.removed.len() + t.still_present.len(),
        t.removed.len(),
        t.still_present.len()
    );
    out
}
