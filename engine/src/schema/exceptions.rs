//! The exceptions file (`exceptions.yaml`, `check --exceptions`), as read by
//! `exceptions/load.rs`.

use schemars::JsonSchema;

use super::common::{Date, Id, Track};

/// Approved exceptions: findings that are accepted for a time, each on one track, with a
/// compensating control. A matching finding becomes `excepted`; past `expires` it is open
/// again and the expired exception is reported.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ExceptionsFile {
    /// The exceptions; an empty file or list is fine.
    pub exceptions: Option<Vec<Exception>>,
}

/// One approved exception. It names the rule (`rule` or `rules`) and the access
/// (`identity` and/or `entitlement`) it covers.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(extend(
    "oneOf" = [{ "required": ["rule"] }, { "required": ["rules"] }],
    "anyOf" = [{ "required": ["identity"] }, { "required": ["entitlement"] }],
))]
pub struct Exception {
    /// Unique exception id, e.g. `EXC-2026-014`.
    pub id: String,
    /// The rule id whose findings it covers (or `rules` for several).
    pub rule: Option<String>,
    /// The rule ids whose findings it covers (or `rule` for one).
    #[schemars(length(min = 1))]
    pub rules: Option<Vec<String>>,
    /// The one track it applies to: a SOC exception never silences a SOX finding. Its rules
    /// must be on this track.
    pub track: Track,
    /// The identity whose findings it covers.
    pub identity: Option<Id>,
    /// The entitlement whose findings it covers (id, default `identity:system:permission`).
    pub entitlement: Option<Id>,
    /// The control that reduces the risk while the exception stands, e.g. a monthly
    /// review of the account's activity.
    #[schemars(length(min = 1))]
    pub compensating_control: String,
    /// Identity id of the approver. An approver who is the identity itself or its owner is
    /// reported.
    pub approved_by: Option<Id>,
    /// When it was approved.
    pub approved_at: Option<Date>,
    /// When it runs out: past this date the finding is open again and the expired
    /// exception is itself reported.
    pub expires: Date,
    /// The approval ticket.
    pub ticket: Option<Id>,
}
