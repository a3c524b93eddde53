//! Campaign checks before a review starts: every in-scope entitlement has a reviewer on
//! each track (DT701), nobody reviews their own access or a non-human identity they own
//! (DT702), SOX reviewers come from the track's population (DT703), systems without an
//! owner are named (DT704), and the SOX remediation SLA is the stricter one (DT705).
//! Per-entitlement checks list the first [`CAP`] records per track and code, then a count.

use std::collections::BTreeMap;

use crate::diag::{Code, Level, Problem, Problems};
use crate::inventory::{Entitlement, Identity, Inventory, Status};
use crate::policy::Track;

use super::{Campaign, Reviewer, Scope, TrackPlan};

/// Records listed per track and code before the rest are counted.
pub const CAP: usize = 20;

/// Why a candidate reviewer cannot review an entitlement.
enum Unfit {
    /// Nobody, or someone who cannot act (unknown, disabled, terminated).
    Missing(String),
    /// The holder, or the owner of the non-human identity that holds it.
    Conflicted(String),
}

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
    let system = inv.system(&e.system.value);
    if plan.scope == Scope::SoxInScope && !system.is_some_and(|s| s.sox_in_scope) {
        return None;
    }
    let holder = inv.identity(&e.identity.value)?;
    let track = plan.track.as_str();
    let first = pick(plan.reviewer, e, holder, inv);
    let chosen = match (first, plan.fallback) {
        (Ok(r), _) => Ok(r),
        (Err(why), Some(fallback)) => pick(fallback, e, holder, inv).map_err(|other| (why, Some((fallback, other)))),
        (Err(why), None) => Err((why, None)),
    };
    match chosen {
        Ok(reviewer) => {
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
        Err((why, fallback)) => {
            let also = fallback.map_or_else(String::new, |(f, other)| {
                format!("; fallback `{}`: {}", f.as_str(), reason(&other))
            });
            let (code, label, help) = match why {
                Unfit::Missing(_) => (
                    Code::NoReviewer,
                    "no reviewer",
                    "set the missing owner or manager in the inventory, or add a `fallback` strategy on this track",
                ),
                Unfit::Conflicted(_) => (
                    Code::SelfReview,
                    "not independent",
                    "add a `fallback` strategy on this track that yields someone else, or reassign the owner",
                ),
            };
            Some(
                Problem::error(
                    code,
                    Some(e.loc.clone()),
                    format!(
                        "no independent {track} reviewer for `{}` ({}: {}{also})",
                        e.id,
                        plan.reviewer.as_str(),
                        reason(&why)
                    ),
                )
                .with_label(label)
                .with_help(help),
            )
        }
    }
}

fn reason(u: &Unfit) -> &str {
    match u {
        Unfit::Missing(s) | Unfit::Conflicted(s) => s,
    }
}

/// The reviewer `strategy` yields for `e`, or why it yields nobody fit to review.
fn pick<'a>(
    strategy: Reviewer,
    e: &'a Entitlement,
    holder: &'a Identity,
    inv: &'a Inventory,
) -> Result<&'a str, Unfit> {
    let candidate = match strategy {
        Reviewer::SystemOwner => inv
            .system(&e.system.value)
            .and_then(|s| s.owner.as_ref())
            .map(|o| o.value.as_str())
            .ok_or_else(|| Unfit::Missing(format!("system `{}` has no owner", e.system.value)))?,
        Reviewer::Manager if holder.kind.is_nhi() => {
            let owner = holder
                .owner
                .as_ref()
                .ok_or_else(|| Unfit::Missing(format!("`{}` has no owner", holder.id)))?;
            inv.identity(&owner.value)
                .and_then(|o| o.manager.as_ref())
                .map(|m| m.value.as_str())
                .ok_or_else(|| Unfit::Missing(format!("its owner `{}` has no manager", owner.value)))?
        }
        Reviewer::Manager => holder
            .manager
            .as_ref()
            .map(|m| m.value.as_str())
            .ok_or_else(|| Unfit::Missing(format!("`{}` has no manager", holder.id)))?,
    };
    if candidate == holder.id {
        return Err(Unfit::Conflicted(format!(
            "`{candidate}` would review their own access"
        )));
    }
    if holder.owner.as_ref().is_some_and(|o| o.value == candidate) {
        return Err(Unfit::Conflicted(format!("`{candidate}` owns `{}`", holder.id)));
    }
    match inv.identity(candidate) {
        None => Err(Unfit::Missing(format!("`{candidate}` is not in the inventory"))),
        Some(r) if r.status != Status::Active => Err(Unfit::Missing(format!("`{candidate}` is {}", r.status.as_str()))),
        Some(_) => Ok(candidate),
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
