//! Campaign checks before a review starts: every in-scope entitlement has a reviewer on
//! each track (DT701), nobody reviews their own access or a non-human identity they own
//! (DT702), SOX reviewers come from the track's population (DT703), systems without an
//! owner are named (DT704), and the SOX remediation SLA is the stricter one (DT705).
//! Per-entitlement checks list the first [`CAP`] records per track and code, then a count.

use std::collections::BTreeMap;

use crate::diag::{Code, Level, Problem, Problems};
use crate::inventory::{Entitlement, Inventory};
use crate::policy::Track;

use super::assign::{assign, Assignment};
use super::{Campaign, TrackPlan};

/// Records listed per track and code before the rest are counted.
pub const CAP: usize = 20;

/// Runs every campaign check against `inv`.
pub fn check(c: &Campaign, inv: &Inventory, sink: &mut Problems) {
    for s in inv.systems.iter().filter(|s| s.owner.is_none()) {
        sink.push(
            Problem::warning(
                Code::SystemWithoutOwner,
                Some(s.loc.clone()),
                format!("system `{}` has no owner", s.id),
            )
            .with_label("no `owner`")
            .with_help(
                "name the accountable owner in `owner`; a `system_owner` reviewer strategy finds nobody without one",
            ),
        );
    }
    let sla = |t: Track| c.tracks.iter().find(|p| p.track == t).and_then(|p| p.sla_days.as_ref());
    if let (Some(soc), Some(sox)) = (sla(Track::Soc), sla(Track::Sox)) {
        if sox.value > soc.value {
            sink.push(
                Problem::warning(
                    Code::SoxSlaLooser,
                    Some(sox.loc.clone()),
                    format!(
                        "the SOX remediation SLA ({} days) is longer than the SOC one ({} days)",
                        sox.value, soc.value
                    ),
                )
                .with_help(
                    "SOX remediation is expected to be at least as fast as SOC; shorten `sla_days` on the sox track",
                ),
            );
        }
    }
    for plan in &c.tracks {
        for p in &plan.population {
            if inv.identity(&p.value).is_none() {
                sink.push(
                    Problem::error(
                        Code::DanglingReference,
                        Some(p.loc.clone()),
                        format!("reviewer population names unknown identity `{}`", p.value),
                    )
                    .with_label("not in the inventory")
                    .with_help("name identity ids from the inventory"),
                );
            }
        }
        let mut found: BTreeMap<Code, Vec<Problem>> = BTreeMap::new();
        for e in &inv.entitlements {
            if let Some(p) = entitlement(plan, e, inv) {
                found.entry(p.code).or_default().push(p);
            }
        }
        for (_, problems) in found {
            sink.0.extend(capped(problems, plan.track));
        }
    }
}

/// The problem with `e`'s reviewer on `plan`'s track, if any.
fn entitlement(plan: &TrackPlan, e: &Entitlement, inv: &Inventory) -> Option<Problem> {
    let track = plan.track.as_str();
    match assign(plan, e, inv) {
        Assignment::OutOfScope => None,
        Assignment::Reviewer(reviewer) => {
            let allowed = plan.population.is_empty() || plan.population.iter().any(|p| p.value == reviewer);
            (!allowed).then(|| {
                Problem::error(
                    Code::ReviewerOutsidePopulation,
                    Some(e.loc.clone()),
                    format!(
                        "{track} reviewer `{reviewer}` of `{}` is not in the {track} reviewer population",
                        e.id
                    ),
                )
                .with_label("reviewer not allowed")
                .with_help(format!(
                    "add `{reviewer}` to `population` on the {track} track, or choose a strategy that yields someone listed there"
                ))
            })
        }
        Assignment::Unassigned { conflicted, reason } => {
            let (code, label, help) = if conflicted {
                (
                    Code::SelfReview,
                    "not independent",
                    "add a `fallback` strategy on this track that yields someone else, or reassign the owner",
                )
            } else {
                (
                    Code::NoReviewer,
                    "no reviewer",
                    "set the missing owner or manager in the inventory, or add a `fallback` strategy on this track",
                )
            };
            Some(
                Problem::error(
                    code,
                    Some(e.loc.clone()),
                    format!("no independent {track} reviewer for `{}` ({reason})", e.id),
                )
                .with_label(label)
                .with_help(help),
            )
        }
    }
}

/// The first [`CAP`] problems, then one counting the rest at the first one not listed.
fn capped(mut problems: Vec<Problem>, track: Track) -> Vec<Problem> {
    if problems.len() <= CAP {
        return problems;
    }
    let rest = problems.split_off(CAP);
    if let Some(first) = rest.first() {
        let p = Problem {
            level: Level::Error,
            message: format!(
                "{} more {} entitlements with the same problem, from this record on",
                rest.len(),
                track.as_str()
            ),
            help: Some(format!("lint lists the first {CAP} entitlements per track and problem")),
            label: Some("first record not listed".to_owned()),
            related: Vec::new(),
            ..first.clone()
        };
        problems.push(p);
    }
    problems
}
