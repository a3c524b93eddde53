//! The entitlement inventory: systems, identities (people and non-human identities) and
//! entitlements, each record keeping the file and line it came from.

pub mod authz;
mod decode;
mod direct;
mod index;
pub(crate) mod load;
mod validate;
pub mod write;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::node::Spanned;
use crate::source::Loc;

pub use decode::Interner;
pub use decode::{ENTITLEMENT_FIELDS, IDENTITY_FIELDS, SYSTEM_FIELDS};
pub use index::{id_hash, index_native, repeated, Fetched, Indexed, HOLD_AT_MOST};
pub use load::{finish, from_nodes, is_json, load_native, read_path, streamable, Foreign, Others};

/// What kind of identity holds access. Every kind but `Human` is a non-human identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    /// An AI agent: an NHI whose accountability comes from its sponsors.
    AiAgent,
}

crate::names!(IdentityKind {
    Human = "human",
    ServiceAccount = "service_account",
    ApiKey = "api_key",
    Token = "token",
    Workload = "workload",
    AiAgent = "ai_agent",
});

impl IdentityKind {
    /// True for every non-human identity.
    pub fn is_nhi(self) -> bool {
        self != Self::Human
    }
}

/// How an AI agent acts: with its own authority, or for the people who delegate to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Acts {
    /// On its own authority.
    Autonomous,
    /// On behalf of its delegators.
    OnBehalfOf,
}

crate::names!(Acts {
    Autonomous = "autonomous",
    OnBehalfOf = "on_behalf_of",
});

/// Lifecycle status of an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// In use (the default).
    Active,
    /// Disabled but not removed.
    Disabled,
    /// The person left, or the NHI was decommissioned.
    Terminated,
}

crate::names!(Status {
    Active = "active",
    Disabled = "disabled",
    Terminated = "terminated",
});

/// A system (application, account, database) that grants entitlements.
#[derive(Debug, Clone)]
pub struct System {
    /// Unique id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Identity id of the accountable owner.
    pub owner: Option<Spanned<String>>,
    /// In scope for SOX (affects financial reporting).
    pub sox_in_scope: bool,
    /// e.g. `production`.
    pub environment: Option<String>,
    /// Free-form tags, sorted by key.
    pub tags: Vec<(String, String)>,
    /// Where the record is.
    pub loc: Loc,
}

/// A person or a non-human identity.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Unique id.
    pub id: String,
    /// Human or which kind of NHI.
    pub kind: IdentityKind,
    /// Display name.
    pub display_name: Option<String>,
    /// Lifecycle status.
    pub status: Status,
    /// Identity id of the accountable person (expected for every NHI).
    pub owner: Option<Spanned<String>>,
    /// Identity id of the manager.
    pub manager: Option<Spanned<String>>,
    /// Department.
    pub department: Option<String>,
    /// When the identity was terminated.
    pub terminated_at: Option<DateTime<Utc>>,
    /// When the identity was created.
    pub created_at: Option<DateTime<Utc>>,
    /// Last authentication.
    pub last_seen: Option<DateTime<Utc>>,
    /// Last credential rotation.
    pub credential_rotated_at: Option<DateTime<Utc>>,
    /// Credential expiry.
    pub credential_expires_at: Option<DateTime<Utc>>,
    /// A person logged in interactively with this NHI.
    pub interactive_login: bool,
    /// A human account that no HR person matched when the inventory was assembled from
    /// exports (see `sources`): nobody is known to be accountable for it.
    pub uncorrelated: bool,
    /// An AI agent's sponsors: the people accountable for its purpose and lifecycle.
    pub sponsors: Vec<Spanned<String>>,
    /// How an AI agent acts.
    pub acts: Option<Acts>,
    /// The identities an on-behalf-of agent acts for.
    pub delegators: Vec<Spanned<String>>,
    /// The blueprint or application identity an agent derives from.
    pub parent: Option<Spanned<String>>,
    /// Free-form tags, sorted by key.
    pub tags: Vec<(String, String)>,
    /// Where the record is.
    pub loc: Loc,
}

impl Identity {
    /// True for an AI agent.
    pub fn is_agent(&self) -> bool {
        self.kind == IdentityKind::AiAgent
    }
}

/// One permission an identity holds on a system.
#[derive(Debug, Clone)]
pub struct Entitlement {
    /// Unique id (default `identity:system:permission`).
    pub id: String,
    /// The holder.
    pub identity: Spanned<Arc<str>>,
    /// The system.
    pub system: Spanned<Arc<str>>,
    /// The permission, role or group.
    pub permission: Arc<str>,
    /// Administrative or otherwise privileged.
    pub privileged: bool,
    /// SoD business functions written on the record (the catalog may add more).
    pub functions: Vec<Spanned<String>>,
    /// When it was granted.
    pub granted_at: Option<DateTime<Utc>>,
    /// When it was last used.
    pub last_used: Option<DateTime<Utc>>,
    /// Business need.
    pub justification: Option<Arc<str>>,
    /// Request or approval ticket.
    pub ticket: Option<Arc<str>>,
    /// When the grant expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// Where the record came from (connector, export …).
    pub source: Option<Arc<str>>,
    /// Where the record is.
    pub loc: Loc,
}

/// A loaded, validated inventory with records sorted by id.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Systems by id.
    pub systems: Vec<System>,
    /// Identities by id.
    pub identities: Vec<Identity>,
    /// Entitlements by id.
    pub entitlements: Vec<Entitlement>,
    /// Shared copies of repeated strings while loading (emptied once loaded).
    pub strings: Interner,
    /// Warnings found while loading (the inventory is usable; they are worth a look).
    pub warnings: crate::diag::Problems,
    /// Role authorizations of the systems an ERP source was imported from (SAP), by
    /// system; empty for a native inventory.
    pub authorizations: authz::Authorizations,
}

impl Inventory {
    /// The system with `id`.
    pub fn system(&self, id: &str) -> Option<&System> {
        self.systems
            .binary_search_by(|s| s.id.as_str().cmp(id))
            .ok()
            .and_then(|i| self.systems.get(i))
    }

    /// The identity with `id`.
    pub fn identity(&self, id: &str) -> Option<&Identity> {
        self.identities
            .binary_search_by(|s| s.id.as_str().cmp(id))
            .ok()
            .and_then(|i| self.identities.get(i))
    }
}
