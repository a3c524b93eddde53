//! Decoding one record of each kind from a located node, reporting every bad field.

use chrono::{DateTime, Utc};

use crate::diag::{Code, Problem, Problems};
use std::sync::Arc;

use crate::node::{Fields, Node, Spanned};
use crate::source::Loc;

use super::{Acts, Entitlement, Identity, IdentityKind, Status, System};

/// Field names of a system record.
pub const SYSTEM_FIELDS: &[&str] = &["id", "name", "owner", "sox_in_scope", "environment", "tags"];

/// Field names of an identity record.
pub const IDENTITY_FIELDS: &[&str] = &[
    "id",
    "kind",
    "display_name",
    "status",
    "owner",
    "manager",
    "department",
    "terminated_at",
    "created_at",
    "last_seen",
    "credential_rotated_at",
    "credential_expires_at",
    "interactive_login",
    "uncorrelated",
    "sponsors",
    "acts",
    "delegators",
    "parent",
    "tags",
];

/// Field names of an entitlement record.
pub const ENTITLEMENT_FIELDS: &[&str] = &[
    "id",
    "identity",
    "system",
    "permission",
    "privileged",
    "functions",
    "granted_at",
    "last_used",
    "justification",
    "ticket",
    "expires_at",
    "source",
];

/// Shares one allocation between equal strings that repeat across entitlements (system
/// and identity ids, permissions, justifications): a large inventory repeats them a lot.
#[derive(Debug, Clone, Default)]
pub struct Interner(std::collections::HashSet<Arc<str>>);

impl Interner {
    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(Arc::clone(&a));
        a
    }
}

fn text(f: &Fields<'_>, key: &str, sink: &mut Problems) -> Option<String> {
    f.opt_str(key, sink).map(|s| s.value).filter(|s| !s.is_empty())
}

/// Decodes a system; `None` when a required field is missing or the record is not a map.
pub fn system(node: &Node, sink: &mut Problems) -> Option<System> {
    let f = Fields::new(node, "system", SYSTEM_FIELDS, sink)?;
    let id = f.req_str("id", sink);
    let rec = System {
        id: String::new(),
        name: text(&f, "name", sink),
        owner: f.opt_str("owner", sink),
        sox_in_scope: f.opt_bool("sox_in_scope", sink).unwrap_or(false),
        environment: text(&f, "environment", sink),
        tags: f.opt_map("tags", sink),
        loc: f.loc().clone(),
    };
    Some(System { id: id?.value, ..rec })
}

/// Decodes an identity.
pub fn identity(node: &Node, sink: &mut Problems) -> Option<Identity> {
    let f = Fields::new(node, "identity", IDENTITY_FIELDS, sink)?;
    let id = f.req_str("id", sink);
    // Only `id` is required (docs/inventory.md); an identity without `kind` is read as a
    // person, and a warning says so, since an unlabelled NHI would miss the NHI rules.
    let kind = match f.get("kind") {
        None => {
            sink.push(
                Problem::warning(
                    Code::MissingField,
                    Some(f.loc().clone()),
                    "identity has no `kind`; read as `human`",
                )
                .with_help(
                    "write `kind:` (human, service_account, api_key, token, workload or ai_agent) so NHI rules apply",
                ),
            );
            Some(IdentityKind::Human)
        }
        Some(_) => f.opt_enum("kind", IdentityKind::CHOICES, sink),
    };
    let rec = Identity {
        id: String::new(),
        kind: IdentityKind::Human,
        display_name: text(&f, "display_name", sink),
        status: f.opt_enum("status", Status::CHOICES, sink).unwrap_or(Status::Active),
        owner: f.opt_str("owner", sink),
        manager: f.opt_str("manager", sink),
        department: text(&f, "department", sink),
        terminated_at: f.opt_date("terminated_at", sink),
        created_at: f.opt_date("created_at", sink),
        last_seen: f.opt_date("last_seen", sink),
        credential_rotated_at: f.opt_date("credential_rotated_at", sink),
        credential_expires_at: f.opt_date("credential_expires_at", sink),
        interactive_login: f.opt_bool("interactive_login", sink).unwrap_or(false),
        uncorrelated: f.opt_bool("uncorrelated", sink).unwrap_or(false),
        sponsors: f.opt_list("sponsors", sink),
        acts: f.opt_enum("acts", Acts::CHOICES, sink),
        delegators: f.opt_list("delegators", sink),
        parent: f.opt_str("parent", sink),
        tags: f.opt_map("tags", sink),
        loc: f.loc().clone(),
    };
    // A bad kind is already reported; keep the record so references to it still resolve.
    Some(Identity {
        id: id?.value,
        kind: kind.unwrap_or(IdentityKind::Human),
        ..rec
    })
}

/// Decodes an entitlement; its id defaults to `identity:system:permission`.
pub fn entitlement(node: &Node, sink: &mut Problems, strings: &mut Interner) -> Option<Entitlement> {
    let f = Fields::new(node, "entitlement", ENTITLEMENT_FIELDS, sink)?;
    let id = f.opt_str("id", sink).map(|s| s.value).filter(|s| !s.is_empty());
    let identity = f.req_str("identity", sink);
    let system = f.req_str("system", sink);
    let permission = f.req_str("permission", sink);
    let privileged = f.opt_bool("privileged", sink).unwrap_or(false);
    let functions = f.opt_list("functions", sink);
    let granted_at = f.opt_date("granted_at", sink);
    let last_used = f.opt_date("last_used", sink);
    let justification = text(&f, "justification", sink);
    let ticket = text(&f, "ticket", sink);
    let expires_at = f.opt_date("expires_at", sink);
    let source = text(&f, "source", sink);
    let (identity, system, permission) = (identity?, system?, permission?.value);
    let parts = Parts {
        id: id.as_deref(),
        identity: (&identity.value, identity.loc.clone()),
        system: (&system.value, system.loc.clone()),
        permission: &permission,
        privileged,
        functions,
        granted_at,
        last_used,
        justification: justification.as_deref(),
        ticket: ticket.as_deref(),
        expires_at,
        source: source.as_deref(),
        loc: f.loc().clone(),
    };
    Some(parts.assemble(strings))
}

/// An entitlement's fields as read, before its id defaults and its repeated strings are
/// shared: what every reader of entitlements (this one, and [`super::direct`]'s) produces.
pub struct Parts<'a> {
    /// `id`, when written and not empty.
    pub id: Option<&'a str>,
    /// `identity`, with its location.
    pub identity: (&'a str, Loc),
    /// `system`, with its location.
    pub system: (&'a str, Loc),
    /// `permission`.
    pub permission: &'a str,
    /// `privileged` (false when absent).
    pub privileged: bool,
    /// `functions`.
    pub functions: Vec<Spanned<String>>,
    /// `granted_at`.
    pub granted_at: Option<DateTime<Utc>>,
    /// `last_used`.
    pub last_used: Option<DateTime<Utc>>,
    /// `justification`, when not empty.
    pub justification: Option<&'a str>,
    /// `ticket`, when not empty.
    pub ticket: Option<&'a str>,
    /// `expires_at`.
    pub expires_at: Option<DateTime<Utc>>,
    /// `source`, when not empty.
    pub source: Option<&'a str>,
    /// The record.
    pub loc: Loc,
}

impl Parts<'_> {
    /// The entitlement: its id defaults to `identity:system:permission`, and strings that
    /// repeat across records are shared through `strings`.
    pub fn assemble(self, strings: &mut Interner) -> Entitlement {
        let (identity, system, permission) = (self.identity.0, self.system.0, self.permission);
        let id = self
            .id
            .map_or_else(|| format!("{identity}:{system}:{permission}"), str::to_owned);
        let (identity, system, permission) = (
            Spanned::new(strings.get(identity), self.identity.1),
            Spanned::new(strings.get(system), self.system.1),
            strings.get(permission),
        );
        let mut share = |s: Option<&str>| s.map(|s| strings.get(s));
        Entitlement {
            id,
            identity,
            system,
            permission,
            privileged: self.privileged,
            functions: self.functions,
            granted_at: self.granted_at,
            last_used: self.last_used,
            justification: share(self.justification),
            ticket: share(self.ticket),
            expires_at: self.expires_at,
            source: share(self.source),
            loc: self.loc,
        }
    }
}
