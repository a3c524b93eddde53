//! Who reviews an entitlement on a campaign track: the track's strategy, then its
//! fallback when the first gives nobody fit (nobody, someone who cannot act, the holder or
//! the owner of the non-human identity that holds it, or on SOX a person an AI agent acts
//! for). `lint --campaign`, `campaign plan` and the decisions checks all ask this one
//! function.

use crate::inventory::{Entitlement, Identity, IdentityKind, Inventory, Status};
use crate::policy::Track;

use super::{Reviewer, Scope, TrackPlan};

/// The reviewer of one entitlement on one track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment<'a> {
    /// The track does not review this entitlement.
    OutOfScope,
    /// The identity id of the reviewer.
    Reviewer(&'a str),
    /// No strategy yields someone fit to review.
    Unassigned {
        /// True when the only candidates were the holder or the NHI's owner.
        conflicted: bool,
        /// Why, as `strategy: reason[; fallback `f`: reason]`.
        reason: String,
    },
}

/// True when `plan`'s track reviews `e`.
pub fn in_scope(plan: &TrackPlan, e: &Entitlement, inv: &Inventory) -> bool {
    plan.scope == Scope::All || inv.system(&e.system.value).is_some_and(|s| s.sox_in_scope)
}

/// The reviewer of `e` on `plan`'s track.
pub fn assign<'a>(plan: &TrackPlan, e: &'a Entitlement, inv: &'a Inventory) -> Assignment<'a> {
    if !in_scope(plan, e, inv) {
        return Assignment::OutOfScope;
    }
    let Some(holder) = inv.identity(&e.identity.value) else {
        return Assignment::Unassigned {
            conflicted: false,
            reason: format!("holder `{}` is not in the inventory", e.identity.value),
        };
    };
    let first = match pick(plan.reviewer, plan.track, e, holder, inv) {
        Ok(r) => return Assignment::Reviewer(r),
        Err(why) => why,
    };
    let mut reason = format!("{}: {}", plan.reviewer.as_str(), first.text());
    if let Some(fallback) = plan.fallback {
        match pick(fallback, plan.track, e, holder, inv) {
            Ok(r) => return Assignment::Reviewer(r),
            Err(other) => reason.push_str(&format!("; fallback `{}`: {}", fallback.as_str(), other.text())),
        }
    }
    Assignment::Unassigned {
        conflicted: matches!(first, Unfit::Conflicted(_)),
        reason,
    }
}

/// True when `reviewer` deciding on `e` on `track` reviews their own access, an NHI they
/// own, or on SOX the in-scope access of an AI agent that acts for them.
pub fn is_self_review(reviewer: &str, track: Track, e: &Entitlement, inv: &Inventory) -> bool {
    let holder = inv.identity(&e.identity.value);
    *e.identity.value == *reviewer
        || holder
            .and_then(|h| h.owner.as_ref())
            .is_some_and(|o| o.value == reviewer)
        || holder.is_some_and(|h| delegates_in_scope(reviewer, track, e, h, inv))
}

/// True when `person` is a delegator of the AI agent `holder` and `e` is its access to an
/// in-scope system reviewed on SOX: the person would certify authority exercised for them.
pub fn delegates_in_scope(person: &str, track: Track, e: &Entitlement, holder: &Identity, inv: &Inventory) -> bool {
    track == Track::Sox
        && holder.kind == IdentityKind::AiAgent
        && holder.delegators.iter().any(|d| d.value == person)
        && inv.system(&e.system.value).is_some_and(|s| s.sox_in_scope)
}

/// Why a candidate reviewer cannot review an entitlement.
enum Unfit {
    /// Nobody, or someone who cannot act (unknown, disabled, terminated).
    Missing(String),
    /// The holder, or the owner of the non-human identity that holds it.
    Conflicted(String),
}

impl Unfit {
    fn text(&self) -> &str {
        match self {
            Unfit::Missing(s) | Unfit::Conflicted(s) => s,
        }
    }
}

/// The reviewer `strategy` yields for `e`, or why it yields nobody fit to review.
fn pick<'a>(
    strategy: Reviewer,
    track: Track,
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
        Reviewer::Sponsor if !holder.is_agent() => {
            return Err(Unfit::Missing(format!("`{}` is not an AI agent", holder.id)));
        }
        Reviewer::Sponsor => holder
            .sponsors
            .iter()
            .map(|s| s.value.as_str())
            .find(|s| {
                inv.identity(s)
                    .is_some_and(|p| p.kind == IdentityKind::Human && p.status == Status::Active)
            })
            .ok_or_else(|| Unfit::Missing(format!("`{}` has no active sponsor", holder.id)))?,
    };
    if candidate == holder.id {
        return Err(Unfit::Conflicted(format!(
            "`{candidate}` would review their own access"
        )));
    }
    if holder.owner.as_ref().is_some_and(|o| o.value == candidate) {
        return Err(Unfit::Conflicted(format!("`{candidate}` owns `{}`", holder.id)));
    }
    if delegates_in_scope(candidate, track, e, holder, inv) {
        return Err(Unfit::Conflicted(format!(
            "`{candidate}` is a delegator of AI agent `{}`",
            holder.id
        )));
    }
    match inv.identity(candidate) {
        None => Err(Unfit::Missing(format!("`{candidate}` is not in the inventory"))),
        Some(r) if r.status != Status::Active => Err(Unfit::Missing(format!("`{candidate}` is {}", r.status.as_str()))),
        Some(_) => Ok(candidate),
    }
}
