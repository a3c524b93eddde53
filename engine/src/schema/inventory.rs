//! The entitlement inventory: one file with all three sections, or one section per file
//! (`systems.yaml`, `identities.yaml`, `entitlements.yaml`) in a directory.

use std::collections::BTreeMap;

use schemars::JsonSchema;

use super::common::{Date, Id, TagValue};

/// The systems, identities and entitlements under review. A single inventory file holds
/// all three sections; in an inventory directory each `systems.*`, `identities.*` and
/// `entitlements.*` file holds its own section only. Unknown fields are an error, and a
/// field left empty counts as absent.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(extend("anyOf" = [
    { "required": ["systems", "identities", "entitlements"] },
    { "minProperties": 1, "maxProperties": 1 },
]))]
pub struct Inventory {
    /// Systems (applications, accounts, databases) that grant entitlements.
    pub systems: Option<Vec<System>>,
    /// People and non-human identities (service accounts, API keys, tokens, workloads).
    pub identities: Option<Vec<Identity>>,
    /// Permissions, roles or groups that identities hold on systems.
    pub entitlements: Option<Vec<Entitlement>>,
}

/// A system (application, account, database) that grants entitlements.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct System {
    /// Unique system id; entitlements name it in `system`.
    pub id: Id,
    /// Display name, e.g. `SAP S/4HANA Finance`.
    pub name: Option<String>,
    /// Identity id of the person accountable for the system; campaigns may assign them as
    /// reviewer. An id missing from the inventory is reported as an unknown owner.
    pub owner: Option<Id>,
    /// `true` when the system affects financial reporting: the SOX track's rules apply to
    /// access on it. Default `false`.
    #[schemars(extend("default" = false))]
    pub sox_in_scope: Option<bool>,
    /// Environment, e.g. `production` or `staging`.
    pub environment: Option<String>,
    /// Free-form labels (`key: value`); rules can test them as `system.tags.<key>`.
    pub tags: Option<BTreeMap<String, TagValue>>,
}

/// A person or a non-human identity (NHI).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Identity {
    /// Unique identity id (user name, service account name, key id …).
    pub id: Id,
    /// Person or which kind of NHI. When absent the identity is read as `human` with a
    /// warning, so an unlabelled NHI would miss the NHI rules: always write it.
    pub kind: Option<IdentityKind>,
    /// Display name.
    pub display_name: Option<String>,
    /// Lifecycle status. Default `active`.
    #[schemars(extend("default" = "active"))]
    pub status: Option<Status>,
    /// Identity id of the accountable person. Expected for every NHI: an NHI without one,
    /// or whose owner is terminated, disabled or unknown, is an orphaned finding.
    pub owner: Option<Id>,
    /// Identity id of the person's manager.
    pub manager: Option<Id>,
    /// Department or team.
    pub department: Option<String>,
    /// When the person left or the NHI was decommissioned.
    pub terminated_at: Option<Date>,
    /// When the identity was created.
    pub created_at: Option<Date>,
    /// Last authentication. Without it (and without `last_used` on any entitlement) use
    /// cannot be proven, which is itself reported.
    pub last_seen: Option<Date>,
    /// Last rotation of the NHI's credential (key, secret, token).
    pub credential_rotated_at: Option<Date>,
    /// When the NHI's credential expires; absent means it never expires.
    pub credential_expires_at: Option<Date>,
    /// `true` when a person logged in interactively with this NHI. Default `false`.
    #[schemars(extend("default" = false))]
    pub interactive_login: Option<bool>,
    /// `true` for a human account that no HR person matched when the inventory was
    /// assembled from exports (`dualtrack import` writes it): the uncorrelated-account
    /// rules report it as orphaned. Default `false`.
    #[schemars(extend("default" = false))]
    pub uncorrelated: Option<bool>,
    /// For an `ai_agent`: identity ids of its sponsors, the people accountable for its
    /// purpose and lifecycle. An agent with an active sponsor is not orphaned for lacking
    /// an `owner`; one with none is an orphaned finding.
    pub sponsors: Option<Vec<Id>>,
    /// For an `ai_agent`: whether it acts on its own authority or on behalf of its
    /// `delegators`.
    pub acts: Option<Acts>,
    /// For an `ai_agent` that acts `on_behalf_of`: identity ids of the people it acts for.
    /// Access none of them holds is an excessive finding.
    pub delegators: Option<Vec<Id>>,
    /// For an `ai_agent`: the identity id of the blueprint or application it derives from.
    pub parent: Option<Id>,
    /// Free-form labels (`key: value`); `shared` or `generic` set to `"true"` marks a
    /// shared account. Rules can test them as `identity.tags.<key>`.
    pub tags: Option<BTreeMap<String, TagValue>>,
}

/// What kind of identity holds access. Every kind but `human` is a non-human identity.
#[derive(JsonSchema)]
#[schemars(rename_all = "snake_case")]
pub enum IdentityKind {
    /// A person.
    Human,
    /// A service account.
    ServiceAccount,
    /// An API key.
    ApiKey,
    /// A token (personal access token, bot token …).
    Token,
    /// A workload identity (pod, function, VM role …).
    Workload,
    /// An AI agent; its accountability comes from its `sponsors`.
    AiAgent,
}

/// How an AI agent acts.
#[derive(JsonSchema)]
#[schemars(rename_all = "snake_case")]
pub enum Acts {
    /// On its own authority.
    Autonomous,
    /// On behalf of its delegators.
    OnBehalfOf,
}

/// Lifecycle status of an identity.
#[derive(JsonSchema)]
#[schemars(rename_all = "snake_case")]
pub enum Status {
    /// In use (the default).
    Active,
    /// Disabled but not removed.
    Disabled,
    /// The person left, or the NHI was decommissioned.
    Terminated,
}

/// One permission, role or group an identity holds on a system.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Entitlement {
    /// Unique entitlement id. Default `identity:system:permission`.
    pub id: Option<Id>,
    /// Id of the identity that holds the entitlement.
    pub identity: Id,
    /// Id of the system that grants it.
    pub system: Id,
    /// The permission, role or group as the system names it.
    pub permission: Id,
    /// `true` for administrative or otherwise privileged access. Default `false`.
    #[schemars(extend("default" = false))]
    pub privileged: Option<bool>,
    /// Segregation-of-duties business function ids this entitlement grants, e.g.
    /// `payment-approve`. The function catalog may map the permission to more.
    pub functions: Option<Vec<String>>,
    /// When it was granted.
    pub granted_at: Option<Date>,
    /// When it was last used. Without it, idle time cannot be judged.
    pub last_used: Option<Date>,
    /// The business need for the access, in words. Missing on a privileged entitlement is
    /// a finding.
    pub justification: Option<String>,
    /// Request or approval ticket.
    pub ticket: Option<Id>,
    /// When the grant expires.
    pub expires_at: Option<Date>,
    /// Where the record came from (connector, export …).
    pub source: Option<String>,
}
