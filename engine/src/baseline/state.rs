//! What one snapshot of the estate says about access, reduced to what change
//! classification compares: per entitlement, identity and system a digest of each field
//! that is a matter of access, plus the few values the classes need (privileged, the SoD
//! functions, an identity's status). Observations (`last_used`, `last_seen`,
//! `credential_rotated_at`, `credential_expires_at`) and descriptive fields (names,
//! departments, tags) are left out, so they never make anything `changed`.
//!
//! A state is made from a loaded inventory, or from the JSON Lines a baseline pack keeps;
//! both go through the native record form of [`crate::inventory::write`], so the same
//! record gives the same digests either way.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use crate::inventory::{write, Entitlement, Identity, Inventory, Status, System};

/// An entitlement's own fields that are a matter of access.
pub const ENTITLEMENT_FIELDS: [&str; 10] = [
    "identity",
    "system",
    "permission",
    "privileged",
    "functions",
    "granted_at",
    "justification",
    "ticket",
    "expires_at",
    "source",
];

/// An identity's fields that change what its access means.
pub const IDENTITY_FIELDS: [&str; 8] = [
    "kind",
    "status",
    "manager",
    "owner",
    "sponsors",
    "acts",
    "delegators",
    "parent",
];

/// A system's fields that change what access to it means.
pub const SYSTEM_FIELDS: [&str; 2] = ["sox_in_scope", "owner"];

/// Fields that move between any two snapshots and are never a change of access.
pub const OBSERVATIONS: [&str; 4] = [
    "last_used",
    "last_seen",
    "credential_rotated_at",
    "credential_expires_at",
];

/// One entitlement as classification sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ent {
    /// Holder's identity id.
    pub identity: Arc<str>,
    /// System id.
    pub system: Arc<str>,
    /// The permission.
    pub permission: Box<str>,
    /// Privileged access.
    pub privileged: bool,
    /// SoD business functions it grants.
    pub functions: Box<[Box<str>]>,
    digest: [u64; ENTITLEMENT_FIELDS.len()],
}

/// One identity as classification sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// Lifecycle status.
    pub status: Status,
    digest: [u64; IDENTITY_FIELDS.len()],
}

/// One system as classification sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sys {
    /// In SOX scope.
    pub sox_in_scope: bool,
    digest: [u64; SYSTEM_FIELDS.len()],
}

/// A snapshot reduced for comparison, keyed by id.
#[derive(Debug, Default)]
pub struct State {
    /// Systems by id.
    pub systems: HashMap<Box<str>, Sys>,
    /// Identities by id.
    pub identities: HashMap<Box<str>, Ident>,
    /// Entitlements by id.
    pub entitlements: HashMap<Box<str>, Ent>,
    /// Identity ids shared by the entitlements (one allocation per holder).
    names: BTreeSet<Arc<str>>,
}

fn feed(h: &mut DefaultHasher, v: &Json) {
    match v {
        Json::Null => 0u8.hash(h),
        Json::Bool(b) => (1u8, b).hash(h),
        Json::Number(n) => (2u8, n.to_string()).hash(h),
        Json::String(s) => (3u8, s).hash(h),
        Json::Array(items) => {
            (4u8, items.len()).hash(h);
            for i in items {
                feed(h, i);
            }
        }
        Json::Object(m) => {
            (5u8, m.len()).hash(h);
            for (k, v) in m {
                k.hash(h);
                feed(h, v);
            }
        }
    }
}

/// A digest per field of `fields` (0 for an absent one). Only compared within one run.
fn digest<const N: usize>(m: &Map<String, Json>, fields: [&str; N]) -> [u64; N] {
    fields.map(|f| match m.get(f) {
        None => 0,
        Some(v) => {
            let mut h = DefaultHasher::new();
            feed(&mut h, v);
            h.finish() | 1
        }
    })
}

/// The names of the fields whose digests differ.
fn differing<const N: usize>(a: &[u64; N], b: &[u64; N], fields: [&'static str; N]) -> Vec<&'static str> {
    fields
        .iter()
        .zip(a.iter().zip(b))
        .filter(|(_, (x, y))| x != y)
        .map(|(f, _)| *f)
        .collect()
}

fn text<'a>(m: &'a Map<String, Json>, key: &str) -> &'a str {
    m.get(key).and_then(Json::as_str).unwrap_or_default()
}

impl Ent {
    /// The entitlement as classification sees it.
    pub fn of(e: &Entitlement) -> Self {
        Self::from_record(&write::entitlement(e), |s| Arc::from(s))
    }

    fn from_record(m: &Map<String, Json>, mut share: impl FnMut(&str) -> Arc<str>) -> Self {
        Ent {
            identity: share(text(m, "identity")),
            system: Arc::from(text(m, "system")),
            permission: text(m, "permission").into(),
            privileged: m.get("privileged").and_then(Json::as_bool).unwrap_or(false),
            functions: m
                .get("functions")
                .and_then(Json::as_array)
                .map(|fs| fs.iter().filter_map(Json::as_str).map(Into::into).collect())
                .unwrap_or_default(),
            digest: digest(m, ENTITLEMENT_FIELDS),
        }
    }

    /// The fields of its own that differ from `other`.
    pub fn changed_from(&self, other: &Ent) -> Vec<&'static str> {
        differing(&other.digest, &self.digest, ENTITLEMENT_FIELDS)
    }
}

impl Ident {
    /// The identity as classification sees it.
    pub fn of(i: &Identity) -> Self {
        Self::from_record(&write::identity(i))
    }

    fn from_record(m: &Map<String, Json>) -> Self {
        let status = Status::CHOICES
            .iter()
            .find(|(n, _)| *n == text(m, "status"))
            .map_or(Status::Active, |(_, s)| *s);
        Ident {
            status,
            digest: digest(m, IDENTITY_FIELDS),
        }
    }

    /// The fields that differ from `other`.
    pub fn changed_from(&self, other: &Ident) -> Vec<&'static str> {
        differing(&other.digest, &self.digest, IDENTITY_FIELDS)
    }
}

impl Sys {
    /// The system as classification sees it.
    pub fn of(s: &System) -> Self {
        Self::from_record(&write::system(s))
    }

    fn from_record(m: &Map<String, Json>) -> Self {
        Sys {
            sox_in_scope: m.get("sox_in_scope").and_then(Json::as_bool).unwrap_or(false),
            digest: digest(m, SYSTEM_FIELDS),
        }
    }

    /// The fields that differ from `other`.
    pub fn changed_from(&self, other: &Sys) -> Vec<&'static str> {
        differing(&other.digest, &self.digest, SYSTEM_FIELDS)
    }
}

impl State {
    /// The state of a loaded inventory.
    pub fn of(inv: &Inventory) -> Self {
        let mut s = State::default();
        for x in &inv.systems {
            s.systems.insert(x.id.as_str().into(), Sys::of(x));
        }
        for i in &inv.identities {
            s.identities.insert(i.id.as_str().into(), Ident::of(i));
        }
        for e in &inv.entitlements {
            s.add_entitlement(&write::entitlement(e));
        }
        s
    }

    fn add_entitlement(&mut self, m: &Map<String, Json>) {
        let names = &mut self.names;
        let ent = Ent::from_record(m, |id| match names.get(id) {
            Some(a) => Arc::clone(a),
            None => {
                let a: Arc<str> = Arc::from(id);
                names.insert(Arc::clone(&a));
                a
            }
        });
        self.entitlements.insert(text(m, "id").into(), ent);
    }

    /// Reads the JSON Lines of [`write::json_lines`] as they come (a million records are
    /// never all text in memory); `Err` names the first line that is not one of its records.
    pub fn from_json_lines(input: impl std::io::BufRead) -> Result<Self, String> {
        let mut s = State::default();
        for (n, line) in input.split(b'\n').enumerate() {
            let line = line.map_err(|e| format!("line {}: {e}", n + 1))?;
            if line.is_empty() {
                continue;
            }
            let doc: Map<String, Json> = serde_json::from_slice(&line).map_err(|e| format!("line {}: {e}", n + 1))?;
            let (key, record) = doc
                .iter()
                .next()
                .ok_or_else(|| format!("line {}: an empty record", n + 1))?;
            let record = record
                .as_object()
                .ok_or_else(|| format!("line {}: `{key}` is not an object", n + 1))?;
            let id = text(record, "id");
            match key.as_str() {
                "system" => {
                    s.systems.insert(id.into(), Sys::from_record(record));
                }
                "identity" => {
                    s.identities.insert(id.into(), Ident::from_record(record));
                }
                "entitlement" => s.add_entitlement(record),
                other => return Err(format!("line {}: unknown record `{other}`", n + 1)),
            }
        }
        Ok(s)
    }

    /// Every SoD function each identity holds through its entitlements.
    pub fn functions_by_identity(&self) -> BTreeMap<&str, BTreeSet<&str>> {
        let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for e in self.entitlements.values() {
            if !e.functions.is_empty() {
                out.entry(&*e.identity)
                    .or_default()
                    .extend(e.functions.iter().map(|f| &**f));
            }
        }
        out
    }
}
