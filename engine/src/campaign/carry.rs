//! Carrying a baseline campaign's approvals forward (`carry_forward: unchanged`). Any
//! change to an entitlement invalidates its earlier approval, so an approval carries only
//! when every condition holds: the track allows it; nothing about the entitlement, its
//! holder or its system changed; it has no open finding now; the baseline approved it;
//! the reviewer who approved it is still active and is the one who would be assigned now;
//! and the approval is no older than `carry_forward_max_days`. Otherwise the row goes back
//! to a reviewer.
//!
//! The campaign does not read packs: what the baseline says comes through [`Since`].

use chrono::{DateTime, Utc};

use crate::finding::Change;
use crate::inventory::{Entitlement, Inventory, Status};
use crate::policy::Track;
use crate::worklist::Verdict;

use super::{CarryForward, TrackPlan};

/// A baseline campaign's decision on one entitlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    /// Approve, revoke or modify.
    pub verdict: Verdict,
    /// Who decided.
    pub reviewer: String,
    /// When.
    pub decided_at: DateTime<Utc>,
}

impl Previous {
    /// `approve by olga on 2026-07-10`.
    pub fn describe(&self) -> String {
        format!(
            "{} by {} on {}",
            self.verdict.as_str(),
            self.reviewer,
            self.decided_at.format("%Y-%m-%d")
        )
    }
}

/// What a delta review knows about the baseline.
pub trait Since: Sync {
    /// The baseline campaign's id (or what names the pack when it had none).
    fn campaign(&self) -> String;

    /// The baseline's review date.
    fn as_of(&self) -> DateTime<Utc>;

    /// What happened to `e` since the baseline, with the fields that changed (`holder.*`
    /// and `system.*` for its holder's and system's), its holder and system as `inv` has
    /// them.
    fn change(&self, e: &Entitlement, inv: &Inventory) -> (Change, Vec<String>);

    /// The baseline's decision on entitlement `id` on `track`.
    fn previous(&self, track: Track, id: &str) -> Option<Previous>;
}

/// `new`, `unchanged`, or `changed: a, b`: the `change` cell of a worklist row.
pub fn change_cell(change: Change, fields: &[String]) -> String {
    if fields.is_empty() {
        change.as_str().to_owned()
    } else {
        format!("{}: {}", change.as_str(), fields.join(", "))
    }
}

/// Whether `plan` carries the baseline's approval of `e` forward, with the reason either
/// way: `Ok` says why it was eligible (for `carried_forward.csv`), `Err` why it goes back
/// to a reviewer. `reviewer` is who would be assigned now; `flagged` whether an open
/// finding lists `e` on the track now.
#[allow(clippy::too_many_arguments, reason = "each is one condition of the carry rule")]
pub fn decide(
    plan: &TrackPlan,
    inv: &Inventory,
    change: Change,
    previous: Option<&Previous>,
    reviewer: &str,
    flagged: bool,
    as_of: DateTime<Utc>,
    campaign: &str,
) -> Result<String, String> {
    if plan.carry_forward == CarryForward::Never {
        return Err(format!(
            "the {} track never carries approvals forward",
            plan.track.as_str()
        ));
    }
    if change != Change::Unchanged {
        return Err(format!("{} since {campaign}", change.as_str()));
    }
    let Some(p) = previous else {
        return Err(format!("{campaign} has no decision on it"));
    };
    if p.verdict != Verdict::Approve {
        return Err(format!("{campaign} decided {}", p.describe()));
    }
    if flagged {
        return Err("an open finding lists it now".to_owned());
    }
    if p.reviewer != reviewer {
        return Err(if reviewer.is_empty() {
            format!("nobody would be assigned now ({} approved it)", p.reviewer)
        } else {
            format!("{reviewer} would review it now, not {}", p.reviewer)
        });
    }
    if inv.identity(&p.reviewer).is_none_or(|r| r.status != Status::Active) {
        return Err(format!("{} is no longer active", p.reviewer));
    }
    let age = (as_of - p.decided_at).num_days();
    let limit = match &plan.carry_forward_max_days {
        Some(max) if age > i64::from(max.value) => {
            return Err(format!(
                "the approval is {age} days old, past carry_forward_max_days ({})",
                max.value
            ))
        }
        Some(max) => format!(", within carry_forward_max_days {}", max.value),
        None => String::new(),
    };
    Ok(format!(
        "unchanged since {campaign}; approved by {} on {} ({age} days before the review date{limit}); no open finding; {} is active and still its reviewer",
        p.reviewer,
        p.decided_at.format("%Y-%m-%d"),
        p.reviewer
    ))
}
