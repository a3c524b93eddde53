//! The review campaign file (`campaign.yaml`, `lint --campaign`), as read by
//! `campaign/mod.rs`.

use schemars::JsonSchema;

use super::common::{Date, Id};

/// An access-review campaign: its period and, per track, what is reviewed, who reviews it
/// and how fast revoked access must be removed. `dualtrack lint --campaign` checks it
/// before the campaign starts: every in-scope entitlement has a reviewer on each track,
/// nobody reviews their own access or an NHI they own, SOX reviewers come from the SOX
/// population.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Campaign {
    /// Campaign id, e.g. `UAR-2026-Q4`.
    pub id: Id,
    /// The days the campaign runs.
    pub period: Option<Period>,
    /// The review on each track; the two are configured and reported separately.
    pub tracks: Tracks,
}

/// The days a campaign runs, both included.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Period {
    /// First day.
    pub start: Date,
    /// Last day; not before `start`.
    pub end: Date,
}

/// The review on each track.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Tracks {
    /// The SOC review: business need and use of all access.
    pub soc: Option<TrackPlan>,
    /// The SOX review: access to systems that affect financial reporting.
    pub sox: Option<TrackPlan>,
}

/// What one track reviews, who reviews it, and the remediation deadline.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TrackPlan {
    /// The entitlements reviewed. Default: `all` on SOC, `sox_in_scope` on SOX.
    pub scope: Option<Scope>,
    /// Who reviews each entitlement.
    pub reviewer: Reviewer,
    /// Who reviews when `reviewer` gives nobody fit: no one, an inactive or unknown
    /// identity, the holder, or the owner of the holding NHI.
    pub fallback: Option<Reviewer>,
    /// Identity ids allowed to review on this track (for SOX, the financial control
    /// owners); absent or empty means anyone.
    pub population: Option<Vec<Id>>,
    /// Days after a `revoke` decision by which the access must be gone; a revoked
    /// entitlement still present later is a finding. SOX is usually stricter than SOC.
    #[schemars(range(min = 1))]
    pub sla_days: Option<u32>,
    /// Against a baseline pack (`--since`): `unchanged` carries the baseline's approval of
    /// an unchanged, unflagged entitlement forward when its reviewer is still active and
    /// assigned; `never` (the default) sends every row to a reviewer again.
    pub carry_forward: Option<CarryForward>,
    /// The oldest a carried approval may be, in days at the review date.
    #[schemars(range(min = 1))]
    pub carry_forward_max_days: Option<u32>,
}

/// Whether approvals carry forward from a baseline.
#[derive(JsonSchema)]
#[schemars(rename_all = "snake_case")]
pub enum CarryForward {
    /// Every row is reviewed again.
    Never,
    /// Unchanged, unflagged approvals carry forward.
    Unchanged,
}

/// Which entitlements a track reviews.
#[derive(JsonSchema)]
#[schemars(rename_all = "snake_case")]
pub enum Scope {
    /// Every entitlement.
    All,
    /// Entitlements on systems with `sox_in_scope: true`.
    SoxInScope,
}

/// How an entitlement's reviewer is found.
#[derive(JsonSchema)]
#[schemars(rename_all = "snake_case")]
pub enum Reviewer {
    /// The `owner` of the entitlement's system.
    SystemOwner,
    /// The holder's `manager`; for a non-human identity, its owner's manager.
    Manager,
    /// For an AI agent, its first active sponsor (on SOX, never a sponsor the agent acts
    /// for); for any other identity nobody, so the `fallback` applies.
    Sponsor,
}
