//! The decisions checked against the campaign: completeness (`DEC-NOT-REVIEWED`),
//! authority (`DEC-WRONG-REVIEWER`, `DEC-SELF-REVIEW`), timeliness (`DEC-LATE`), quality
//! (`DEC-NO-RATIONALE`, `DEC-RUBBER-STAMP`). Per-entitlement checks run identity by
//! identity (so the streamed evaluation can run them); what needs every decision of a
//! reviewer, and decisions naming no entitlement, is settled once at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value as Json;

use crate::campaign::assign::{assign, is_self_review, Assignment};
use crate::campaign::carry::{self, Previous, Since};
use crate::campaign::CarryForward;
use crate::diag::{did_you_mean, Code, Problem, Problems};
use crate::exceptions::Exceptions;
use crate::finding::Change;
use crate::finding::{fingerprint, Evidence, Finding, FindingStatus};
use crate::inventory::{Entitlement, Inventory};
use crate::policy::Track;
use crate::source::Loc;

use super::{Decision, Decisions, Verdict, NOT_REMOVED};

/// Pseudo-rule: an in-scope entitlement without a decision once the period has ended.
pub const NOT_REVIEWED: &str = "DEC-NOT-REVIEWED";
/// Pseudo-rule: a decision by someone other than the assigned reviewer or outside the population.
pub const WRONG_REVIEWER: &str = "DEC-WRONG-REVIEWER";
/// Pseudo-rule: a reviewer decided on their own access or on an NHI they own.
pub const SELF_REVIEW: &str = "DEC-SELF-REVIEW";
/// Pseudo-rule: a decision dated outside the campaign period.
pub const LATE: &str = "DEC-LATE";
/// Pseudo-rule: a flagged entitlement approved without a rationale.
pub const NO_RATIONALE: &str = "DEC-NO-RATIONALE";
/// Pseudo-rule: a reviewer's decisions show bulk approval.
pub const RUBBER_STAMP: &str = "DEC-RUBBER-STAMP";
/// Pseudo-rule: an approval from before the baseline carried where it may not be.
pub const STALE_APPROVAL: &str = "DEC-STALE-APPROVAL";

/// Approvals by one reviewer on one track with the same `decided_at` second that make a
/// rubber stamp.
pub const SAME_SECOND_APPROVALS: usize = 50;
/// Flagged entitlements a reviewer must have decided, all approved, to make a rubber stamp.
pub const ALL_FLAGGED_MIN: usize = 5;

/// The (track, entitlement) pairs with an open rule finding that no live exception covers.
pub fn flagged(
    findings: &[Finding],
    exceptions: Option<&Exceptions>,
    as_of: DateTime<Utc>,
) -> BTreeSet<(Track, String)> {
    let mut out = BTreeSet::new();
    for f in findings {
        if f.rule.starts_with("DEC-") || f.rule.starts_with("EXC-") || f.status != FindingStatus::Open {
            continue;
        }
        if exceptions.is_some_and(|x| x.covering(as_of, f).next().is_some()) {
            continue;
        }
        for e in &f.entitlements {
            out.insert((f.track, e.clone()));
        }
    }
    out
}

/// What the per-identity checks saw, merged across identities.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// Decisions whose entitlement is in the inventory.
    known: BTreeSet<(Track, String)>,
    /// Per (track, reviewer): flagged entitlements decided, and those approved.
    flagged: BTreeMap<(Track, String), (usize, Vec<String>)>,
}

impl Seen {
    /// Adds another identity's.
    pub fn merge(&mut self, other: Seen) {
        self.known.extend(other.known);
        for (k, (n, approved)) in other.flagged {
            let slot = self.flagged.entry(k).or_default();
            slot.0 += n;
            slot.1.extend(approved);
        }
    }
}

impl Decisions {
    /// The per-entitlement `DEC-*` findings among `ents` (one identity's, or all) on
    /// `tracks`, with `flagged` as given by [`flagged`]. Without a campaign, none.
    /// Against a baseline (`since`): a row whose approval carries forward needs no
    /// decision; an approval carried where it may not be is `DEC-STALE-APPROVAL`; and a
    /// baseline revoke whose entitlement is still here past the SLA is `DEC-NOT-REMOVED`.
    #[allow(clippy::too_many_arguments, reason = "the run's inputs, each needed")]
    pub fn verify(
        &self,
        inv: &Inventory,
        as_of: DateTime<Utc>,
        tracks: &[Track],
        ents: &[&Entitlement],
        flagged: &BTreeSet<(Track, String)>,
        since: Option<&dyn Since>,
    ) -> (Vec<Finding>, Seen) {
        let mut out = Vec::new();
        let mut seen = Seen::default();
        let Some(campaign) = &self.campaign else {
            return (out, seen);
        };
        for track in tracks {
            for e in ents {
                let key = (*track, e.id.clone());
                if self.latest.contains_key(&key) {
                    seen.known.insert(key);
                }
            }
        }
        let ended = campaign.period.is_some_and(|(_, end)| as_of >= end + Duration::days(1));
        let changes: Vec<(Change, Vec<String>)> = since
            .map(|s| ents.iter().map(|e| s.change(e, inv)).collect())
            .unwrap_or_default();
        for plan in campaign.tracks.iter().filter(|p| tracks.contains(&p.track)) {
            let track = plan.track;
            for (i, e) in ents.iter().enumerate() {
                let key = (track, e.id.clone());
                let decision = self.latest.get(&key);
                let assigned = match assign(plan, e, inv) {
                    Assignment::OutOfScope => continue,
                    Assignment::Reviewer(r) => Some(r),
                    Assignment::Unassigned { .. } => None,
                };
                let against = since.zip(changes.get(i));
                if let Some((s, (change, fields))) = against {
                    let previous = s.previous(track, &e.id);
                    if decision.is_none() {
                        if let Some(p) = previous.as_ref().filter(|p| p.verdict == Verdict::Revoke) {
                            let sla = self.sla_days.get(&track).copied().unwrap_or(0);
                            out.extend(revoked_still_present(s, p, sla, track, e, as_of));
                        }
                        let carried = carry::decide(
                            plan,
                            inv,
                            *change,
                            previous.as_ref(),
                            assigned.unwrap_or_default(),
                            flagged.contains(&key),
                            as_of,
                            &s.campaign(),
                        );
                        if carried.is_ok() {
                            continue;
                        }
                    }
                    if let Some(d) = decision {
                        out.extend(stale_approval(s, plan, d, e, *change, fields, as_of, assigned));
                    }
                }
                let Some(d) = decision else {
                    if ended {
                        let msg = format!(
                            "`{}` has no {} decision and the campaign period ended on {}",
                            e.id,
                            track.as_str(),
                            campaign.period.map(|(_, end)| day(end)).unwrap_or_default()
                        );
                        let mut ev = Evidence::default();
                        ev.insert(
                            Arc::from("decision.assigned_reviewer"),
                            Json::from(assigned.unwrap_or_default()),
                        );
                        out.push(finding(
                            NOT_REVIEWED,
                            track,
                            e,
                            std::slice::from_ref(&e.id),
                            msg,
                            ev,
                            &e.loc,
                        ));
                    }
                    continue;
                };
                let is_flagged = flagged.contains(&key);
                if is_flagged {
                    let slot = seen.flagged.entry((track, d.reviewer.clone())).or_default();
                    slot.0 += 1;
                    if d.verdict == Verdict::Approve {
                        slot.1.push(e.id.clone());
                    }
                }
                if is_self_review(&d.reviewer, track, e, inv) {
                    let how = if *e.identity.value == *d.reviewer {
                        "their own access"
                    } else if inv
                        .identity(&e.identity.value)
                        .and_then(|h| h.owner.as_ref())
                        .is_some_and(|o| o.value == d.reviewer)
                    {
                        "a non-human identity they own"
                    } else {
                        "the in-scope access of an AI agent that acts for them"
                    };
                    let msg = format!("`{}` decided on `{}`, {how}", d.reviewer, e.id);
                    out.push(decided(SELF_REVIEW, d, e, msg, assigned));
                } else {
                    let outside = !plan.population.is_empty() && !plan.population.iter().any(|p| p.value == d.reviewer);
                    if assigned != Some(d.reviewer.as_str()) || outside {
                        let msg = match (assigned, outside) {
                            (_, true) => format!(
                                "`{}` decided on `{}` and is not in the {} reviewer population",
                                d.reviewer,
                                e.id,
                                track.as_str()
                            ),
                            (Some(a), false) => format!("`{}` decided on `{}`, assigned to `{a}`", d.reviewer, e.id),
                            (None, false) => format!(
                                "`{}` decided on `{}`, which the campaign assigns to nobody",
                                d.reviewer, e.id
                            ),
                        };
                        out.push(decided(WRONG_REVIEWER, d, e, msg, assigned));
                    }
                }
                if let Some((start, end)) = campaign.period {
                    if d.decided_at < start || d.decided_at >= end + Duration::days(1) {
                        let msg = format!(
                            "`{}` decided on `{}` on {}, outside the campaign period {} to {}",
                            d.reviewer,
                            e.id,
                            day(d.decided_at),
                            day(start),
                            day(end)
                        );
                        out.push(decided(LATE, d, e, msg, assigned));
                    }
                }
                if is_flagged && d.verdict == Verdict::Approve && d.rationale.is_none() {
                    let msg = format!(
                        "`{}` approved `{}`, which has open {} findings, without a rationale",
                        d.reviewer,
                        e.id,
                        track.as_str()
                    );
                    out.push(decided(NO_RATIONALE, d, e, msg, assigned));
                }
            }
        }
        (out, seen)
    }

    /// What is settled once every identity was seen: the `DEC-RUBBER-STAMP` findings on
    /// `tracks`, and a DT802 error for each decision naming an entitlement the inventory
    /// does not hold (a revoke is exempt: a removed entitlement is what it asked for).
    /// `candidates` are entitlement ids for a "did you mean" (may be empty).
    pub fn finish(&self, tracks: &[Track], seen: &Seen, candidates: &[&str]) -> (Vec<Finding>, Problems) {
        let mut problems = Problems::default();
        let mut out = Vec::new();
        if self.campaign.is_none() {
            return (out, problems);
        }
        for ((track, id), d) in &self.latest {
            if !tracks.contains(track) || seen.known.contains(&(*track, id.clone())) || d.verdict == Verdict::Revoke {
                continue;
            }
            let mut p = Problem::error(
                Code::UnknownDecisionEntitlement,
                Some(d.loc.clone()),
                format!("decision names entitlement `{id}`, which is not in the inventory"),
            )
            .with_label("unknown entitlement");
            p = match did_you_mean(id, candidates.iter().copied()) {
                Some(c) => p.with_help(format!("did you mean `{c}`?")),
                None => p.with_help("name an entitlement id of the inventory the campaign reviewed"),
            };
            problems.push(p);
        }
        let mut by_second: BTreeMap<(Track, &str, DateTime<Utc>), Vec<&Decision>> = BTreeMap::new();
        for d in self.latest.values() {
            if d.verdict == Verdict::Approve && d.timed && tracks.contains(&d.track) {
                by_second
                    .entry((d.track, d.reviewer.as_str(), d.decided_at))
                    .or_default()
                    .push(d);
            }
        }
        let mut stamped: BTreeSet<(Track, &str)> = BTreeSet::new();
        for ((track, reviewer, at), ds) in &by_second {
            if ds.len() < SAME_SECOND_APPROVALS || !stamped.insert((*track, *reviewer)) {
                continue;
            }
            let ents: Vec<String> = ds.iter().map(|d| d.entitlement.clone()).collect();
            let msg = format!(
                "`{reviewer}` approved {} {} entitlements at the same second, {}",
                ds.len(),
                track.as_str(),
                at.format("%Y-%m-%dT%H:%M:%SZ")
            );
            let mut ev = Evidence::default();
            ev.insert(Arc::from("decision.signal"), Json::from("same-second approvals"));
            ev.insert(Arc::from("decision.approvals"), Json::from(ds.len()));
            let loc = ds.first().map(|d| d.loc.clone());
            out.push(stamp(*track, reviewer, ents, msg, ev, loc));
        }
        for ((track, reviewer), (decided, approved)) in &seen.flagged {
            if !tracks.contains(track)
                || *decided < ALL_FLAGGED_MIN
                || approved.len() < *decided
                || stamped.contains(&(*track, reviewer.as_str()))
            {
                continue;
            }
            let mut ents = approved.clone();
            ents.sort();
            let msg = format!(
                "`{reviewer}` approved all {decided} flagged {} entitlements they decided",
                track.as_str()
            );
            let mut ev = Evidence::default();
            ev.insert(Arc::from("decision.signal"), Json::from("every flagged item approved"));
            ev.insert(Arc::from("decision.approvals"), Json::from(*decided));
            let loc = ents
                .first()
                .and_then(|e| self.latest.get(&(*track, e.clone())))
                .map(|d| d.loc.clone());
            out.push(stamp(*track, reviewer, ents, msg, ev, loc));
        }
        problems.sort();
        (out, problems)
    }
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn decided(rule: &str, d: &Decision, e: &Entitlement, msg: String, assigned: Option<&str>) -> Finding {
    let mut ev = Evidence::default();
    ev.insert(Arc::from("decision.reviewer"), Json::from(d.reviewer.clone()));
    ev.insert(
        Arc::from("decision.assigned_reviewer"),
        Json::from(assigned.unwrap_or_default()),
    );
    ev.insert(Arc::from("decision.decision"), Json::from(d.verdict.as_str()));
    ev.insert(
        Arc::from("decision.decided_at"),
        Json::from(d.decided_at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    );
    ev.insert(Arc::from("decision.at"), Json::from(d.loc.to_string()));
    finding(rule, d.track, e, std::slice::from_ref(&e.id), msg, ev, &d.loc)
}

/// `DEC-NOT-REMOVED` for `e`, revoked in the baseline (`p`) and still here once `sla`
/// days have passed since.
pub fn revoked_still_present(
    s: &dyn Since,
    p: &Previous,
    sla: u32,
    track: Track,
    e: &Entitlement,
    as_of: DateTime<Utc>,
) -> Option<Finding> {
    let due = p.decided_at + Duration::days(i64::from(sla));
    if as_of <= due {
        return None;
    }
    let msg = format!(
        "`{}` was revoked in {} ({}) and is still present, {} days after the decision",
        e.id,
        s.campaign(),
        p.describe(),
        (as_of - p.decided_at).num_days()
    );
    let mut ev = Evidence::default();
    ev.insert(Arc::from("baseline.campaign"), Json::from(s.campaign()));
    ev.insert(Arc::from("decision.reviewer"), Json::from(p.reviewer.clone()));
    ev.insert(
        Arc::from("decision.decided_at"),
        Json::from(p.decided_at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    );
    ev.insert(Arc::from("decision.due"), Json::from(day(due)));
    Some(finding(
        NOT_REMOVED,
        track,
        e,
        std::slice::from_ref(&e.id),
        msg,
        ev,
        &e.loc,
    ))
}

/// `DEC-STALE-APPROVAL` when `d` approves `e` with a date on or before the baseline's
/// review and that approval may not carry forward.
#[allow(clippy::too_many_arguments, reason = "each is one condition of the carry rule")]
fn stale_approval(
    s: &dyn Since,
    plan: &crate::campaign::TrackPlan,
    d: &Decision,
    e: &Entitlement,
    change: Change,
    fields: &[String],
    as_of: DateTime<Utc>,
    assigned: Option<&str>,
) -> Option<Finding> {
    if d.verdict != Verdict::Approve || d.decided_at > s.as_of() {
        return None;
    }
    let age = (as_of - d.decided_at).num_days();
    let why = if change != Change::Unchanged {
        format!("it is {} since {}", carry::change_cell(change, fields), s.campaign())
    } else if plan.carry_forward == CarryForward::Never {
        format!("the {} track never carries approvals forward", plan.track.as_str())
    } else if let Some(max) = plan
        .carry_forward_max_days
        .as_ref()
        .filter(|m| age > i64::from(m.value))
    {
        format!(
            "the approval is {age} days old, past carry_forward_max_days ({})",
            max.value
        )
    } else {
        return None;
    };
    let msg = format!(
        "`{}` approved `{}` on {}, before {} was reviewed, and the approval may not carry: {why}",
        d.reviewer,
        e.id,
        day(d.decided_at),
        s.campaign()
    );
    Some(decided(STALE_APPROVAL, d, e, msg, assigned))
}

fn finding(
    rule: &str,
    track: Track,
    e: &Entitlement,
    ents: &[String],
    message: String,
    evidence: Evidence,
    loc: &Loc,
) -> Finding {
    build(
        rule,
        track,
        e.identity.value.to_string(),
        ents.to_vec(),
        message,
        evidence,
        Some(loc.clone()),
    )
}

fn stamp(
    track: Track,
    reviewer: &str,
    ents: Vec<String>,
    message: String,
    evidence: Evidence,
    loc: Option<Loc>,
) -> Finding {
    build(RUBBER_STAMP, track, reviewer.to_owned(), ents, message, evidence, loc)
}

fn build(
    rule: &str,
    track: Track,
    identity: String,
    entitlements: Vec<String>,
    message: String,
    evidence: Evidence,
    loc: Option<Loc>,
) -> Finding {
    let meta = crate::pseudo::get(rule);
    let id = if rule == RUBBER_STAMP {
        fingerprint(rule, track, &format!("reviewer:{identity}"), &[])
    } else {
        fingerprint(rule, track, &identity, &entitlements)
    };
    Finding {
        id,
        rule: Arc::from(rule),
        track,
        category: meta.map_or(crate::policy::Category::Unverifiable, |m| m.category),
        severity: meta.map_or(crate::policy::Severity::Medium, |m| m.severity(track)),
        controls: meta.map(|m| m.controls(track)).unwrap_or_default().into(),
        identity,
        entitlements,
        message,
        evidence,
        remediation: Arc::from(meta.map_or("", |m| m.remediation)),
        status: FindingStatus::Open,
        file: loc.as_ref().map_or_else(|| Arc::from(""), |l| l.src.name_shared()),
        line: loc.map_or(0, |l| l.line),
        change: None,
    }
}

/// Adds every `DEC-*` finding to a whole report of `inv` (the held counterpart of the
/// streamed path), before exceptions are applied to it; `Err` with the DT802 errors.
pub fn apply_report(
    d: &Decisions,
    report: &mut crate::finding::Report,
    inv: &Inventory,
    exceptions: Option<&Exceptions>,
    since: Option<&dyn Since>,
) -> Result<(), Problems> {
    let all: Vec<&Entitlement> = inv.entitlements.iter().collect();
    let (as_of, tracks) = (report.as_of, report.tracks.clone());
    let mut found = d.findings(as_of, &tracks, &all);
    let flagged = flagged(&report.findings, exceptions, as_of);
    let (checked, seen) = d.verify(inv, as_of, &tracks, &all, &flagged, since);
    found.extend(checked);
    let ids: Vec<&str> = inv.entitlements.iter().map(|e| e.id.as_str()).collect();
    let (stamps, problems) = d.finish(&tracks, &seen, &ids);
    if problems.has_errors() {
        return Err(problems);
    }
    report.findings.extend(found);
    report.findings.extend(stamps);
    report.sort();
    Ok(())
}

/// Decisions of one reviewer on one track.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewerCoverage {
    /// In-scope entitlements assigned to them.
    pub assigned: usize,
    /// Decisions they made, by verdict.
    pub approve: usize,
    /// Revokes.
    pub revoke: usize,
    /// Modifies.
    pub modify: usize,
    /// Their decisions dated outside the period.
    pub late: usize,
    /// Entitlements assigned to them without any decision.
    pub missing: usize,
}

/// How completely one track was reviewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackCoverage {
    /// The track.
    pub track: Track,
    /// In-scope entitlements.
    pub total: usize,
    /// In-scope entitlements with a decision.
    pub reviewed: usize,
    /// Decisions dated outside the period.
    pub late: usize,
    /// In-scope entitlements without a decision.
    pub missing: usize,
    /// Per reviewer id (assigned or deciding); `(unassigned)` for entitlements nobody may review.
    pub reviewers: BTreeMap<String, ReviewerCoverage>,
}

/// The coverage of every campaign track of `d` on `inv` (none without a campaign).
pub fn coverage(d: &Decisions, inv: &Inventory) -> Vec<TrackCoverage> {
    let Some(campaign) = &d.campaign else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for plan in &campaign.tracks {
        let mut c = TrackCoverage {
            track: plan.track,
            total: 0,
            reviewed: 0,
            late: 0,
            missing: 0,
            reviewers: BTreeMap::new(),
        };
        for e in &inv.entitlements {
            let assigned = match assign(plan, e, inv) {
                Assignment::OutOfScope => continue,
                Assignment::Reviewer(r) => r.to_owned(),
                Assignment::Unassigned { .. } => "(unassigned)".to_owned(),
            };
            c.total += 1;
            c.reviewers.entry(assigned.clone()).or_default().assigned += 1;
            let Some(dec) = d.latest.get(&(plan.track, e.id.clone())) else {
                c.missing += 1;
                c.reviewers.entry(assigned).or_default().missing += 1;
                continue;
            };
            c.reviewed += 1;
            let late = campaign
                .period
                .is_some_and(|(start, end)| dec.decided_at < start || dec.decided_at >= end + Duration::days(1));
            let slot = c.reviewers.entry(dec.reviewer.clone()).or_default();
            match dec.verdict {
                Verdict::Approve => slot.approve += 1,
                Verdict::Revoke => slot.revoke += 1,
                Verdict::Modify => slot.modify += 1,
            }
            if late {
                slot.late += 1;
                c.late += 1;
            }
        }
        out.push(c);
    }
    out
}
