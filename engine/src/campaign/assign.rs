//! Who reviews an entitlement on a campaign track: the track's strategy, then its
//! fallback when the first gives nobody fit (nobody, someone who cannot act, the holder or
//! the owner of the non-human identity that holds it). `lint --campaign`, `campaign plan`
//! and the decisions checks all ask this one function.

use crate::inventory::{Entitlement, Identity, Inventory, Status};

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
    let first = match pick(plan.reviewer, e, holder, inv) {
        Ok(r) => return Assignment::Reviewer(r),
        Err(why) => why,
    };
    let mut reason = format!("{}: {}", plan.reviewer.as_str(), first.text());
    if let Some(fallback) = plan.fallback {
        match pick(fallback, e, holder, inv) {
            Ok(r) => return Assignment::Reviewer(r),
            Err(other) => reason.push_str(&format!("; fallback `{}`: {}", fallback.as_str(), other.text())),
        }
    }
    Assignment::Unassigned {
        conflicted: matches!(first, Unfit::Conflicted(_)),
        reason,
    }
}

/// True when `reviewer` deciding on `e` reviews their own access or an NHI they own.
pub fn is_self_review(reviewer: &str, e: &Entitlement, inv: &Inventory) -> bool {
    *e.identity.value == *reviewer
        || inv
            .identity(&e.identity.value)
            .and_then(|h| h.owner.as_ref())
            .is_some_and(|o| o.value == reviewer)
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
