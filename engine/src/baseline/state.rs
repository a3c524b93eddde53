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

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use hashbrown::HashTable;
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

/// `name` from `names`, added when new: holders and systems are shared by many
/// entitlements and kept once.
fn share(names: &mut hashbrown::HashSet<Arc<str>>, name: &str) -> Arc<str> {
    match names.get(name) {
        Some(a) => Arc::clone(a),
        None => {
            let a: Arc<str> = Arc::from(name);
            names.insert(Arc::clone(&a));
            a
        }
    }
}

/// Entitlements by id: the rows in a list, found through a table of their positions. A
/// map keyed by the ids would take twice the memory at a million (its buckets hold the
/// keys and are sized in powers of two); this table holds four bytes a slot.
#[derive(Default)]
pub struct Entitlements {
    rows: Vec<(Box<str>, Ent)>,
    at: HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl std::fmt::Debug for Entitlements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Entitlements {
    fn position(&self, id: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(id);
        self.at
            .find(hash, |&i| self.rows.get(i as usize).is_some_and(|(k, _)| &**k == id))
            .map(|&i| i as usize)
    }

    /// Adds `ent` under `id`, replacing an entitlement of the same id (one hash and one
    /// probe either way).
    pub fn insert(&mut self, id: Box<str>, ent: Ent) {
        let hash = self.hasher.hash_one(&*id);
        let (rows, hasher) = (&mut self.rows, &self.hasher);
        let entry = self.at.entry(
            hash,
            |&i| rows.get(i as usize).is_some_and(|(k, _)| *k == id),
            |&j| rows.get(j as usize).map_or(0, |(k, _)| hasher.hash_one(&**k)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(found) => {
                if let Some(row) = rows.get_mut(*found.get() as usize) {
                    row.1 = ent;
                }
            }
            hashbrown::hash_table::Entry::Vacant(slot) => {
                // Past four billion entitlements the input limits have long refused the file.
                if let Ok(i) = u32::try_from(rows.len()) {
                    rows.push((id, ent));
                    slot.insert(i);
                }
            }
        }
    }

    /// Makes room for `more` entitlements, so a state of known size is built without
    /// growing (and copying) its list and table on the way.
    pub fn reserve(&mut self, more: usize) {
        self.rows.reserve(more);
        let (rows, hasher) = (&self.rows, &self.hasher);
        self.at.reserve(more, |&j| {
            rows.get(j as usize).map_or(0, |(k, _)| hasher.hash_one(&**k))
        });
    }

    /// The entitlements `rows`, indexed where they lie (no second copy of the list): a
    /// later row of an id already seen replaces the earlier one.
    fn from_rows(rows: Vec<(Box<str>, Ent)>) -> Self {
        let hasher = hashbrown::DefaultHashBuilder::default();
        let mut at = HashTable::with_capacity(rows.len());
        let mut repeated = false;
        for (i, (id, _)) in rows.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            let entry = at.entry(
                hasher.hash_one(&**id),
                |&j: &u32| rows.get(j as usize).is_some_and(|(k, _)| k == id),
                |&j: &u32| rows.get(j as usize).map_or(0, |(k, _)| hasher.hash_one(&**k)),
            );
            match entry {
                hashbrown::hash_table::Entry::Occupied(_) => repeated = true,
                hashbrown::hash_table::Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
        }
        if !repeated {
            return Entitlements { rows, at, hasher };
        }
        // An id given twice (validation reports it): the rows again, one by one.
        let mut e = Entitlements::default();
        for (id, ent) in rows {
            e.insert(id, ent);
        }
        e
    }

    /// Frees the spare capacity once every entitlement is in.
    pub fn seal(&mut self) {
        self.rows.shrink_to_fit();
        let (rows, hasher) = (&self.rows, &self.hasher);
        self.at
            .shrink_to_fit(|&j| rows.get(j as usize).map_or(0, |(k, _)| hasher.hash_one(&**k)));
    }

    /// Where `id` is (an index for [`Entitlements::at`]).
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.position(id)
    }

    /// The entitlement at `index`, with its id.
    pub fn at(&self, index: usize) -> Option<(&str, &Ent)> {
        self.rows.get(index).map(|(k, e)| (&**k, e))
    }

    /// The entitlement `id`.
    pub fn get(&self, id: &str) -> Option<&Ent> {
        self.position(id).and_then(|i| self.rows.get(i)).map(|(_, e)| e)
    }

    /// True when `id` is here.
    pub fn contains_key(&self, id: &str) -> bool {
        self.position(id).is_some()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every entitlement with its id, in the order first added.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Ent)> {
        self.rows.iter().map(|(k, e)| (&**k, e))
    }

    /// The entitlements alone.
    pub fn values(&self) -> impl Iterator<Item = &Ent> {
        self.rows.iter().map(|(_, e)| e)
    }
}

/// A snapshot reduced for comparison, keyed by id.
#[derive(Debug, Default)]
pub struct State {
    /// Systems by id.
    pub systems: hashbrown::HashMap<Box<str>, Sys>,
    /// Identities by id.
    pub identities: hashbrown::HashMap<Box<str>, Ident>,
    /// Entitlements by id.
    pub entitlements: Entitlements,
    /// Identity and system ids shared by the entitlements (one allocation each).
    names: hashbrown::HashSet<Arc<str>>,
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

/// Up to [`Batch::LINES`] lines of a JSON Lines file, in one buffer.
struct Batch {
    text: Vec<u8>,
    /// Each line's span in `text`, without its newline.
    lines: Vec<std::ops::Range<usize>>,
    /// The number of lines before this batch.
    first: usize,
}

impl Batch {
    const LINES: usize = 16_384;

    /// The next lines of `input`, the first of them line `first + 1`. A line longer than a
    /// record may be ([`crate::limits::MAX_RECORD_BYTES`]) is refused before it is read
    /// whole: the pack is hashed, not signed, so its bytes can be made to hurt.
    fn read(input: &mut impl std::io::BufRead, first: usize) -> Result<Self, String> {
        use std::io::{BufRead, Read};
        let max = crate::limits::MAX_RECORD_BYTES;
        let mut batch = Batch {
            text: Vec::new(),
            lines: Vec::with_capacity(Self::LINES),
            first,
        };
        while batch.lines.len() < Self::LINES {
            let number = first + batch.lines.len() + 1;
            let start = batch.text.len();
            let n = input
                .by_ref()
                .take(max as u64 + 1)
                .read_until(b'\n', &mut batch.text)
                .map_err(|e| format!("line {number}: {e}"))?;
            if n == 0 {
                break;
            }
            let mut end = batch.text.len();
            if batch.text.last() == Some(&b'\n') {
                end -= 1;
            } else if n > max {
                return Err(format!("line {number} is longer than {} MiB", max >> 20));
            }
            batch.lines.push(start..end);
        }
        Ok(batch)
    }

    fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The number of lines up to the end of this batch.
    fn after(&self) -> usize {
        self.first + self.lines.len()
    }

    /// `parse` of every line, in parallel, in order; an error names its line.
    fn parse<'a, T: Send>(&'a self, parse: &(impl Fn(&'a [u8]) -> Result<T, String> + Sync)) -> Vec<Result<T, String>> {
        use rayon::prelude::*;
        self.lines
            .par_iter()
            .enumerate()
            .map(|(i, span)| {
                parse(self.text.get(span.clone()).unwrap_or_default())
                    .map_err(|e| format!("line {}: {e}", self.first + i + 1))
            })
            .collect()
    }
}

/// Reads a JSON Lines file as it comes: while one batch of lines is parsed in parallel
/// with `parse`, the next is read (a million records are never all text in memory); `use_line`
/// takes each parsed line in file order. Stops at the first error, which names its line.
pub(crate) fn each_line<T: Send>(
    mut input: impl std::io::BufRead + Send,
    parse: impl Fn(&[u8]) -> Result<T, String> + Sync,
    mut use_line: impl FnMut(T) -> Result<(), String>,
) -> Result<(), String> {
    let mut next = Batch::read(&mut input, 0)?;
    while !next.is_empty() {
        let batch = next;
        let (read, parsed) = rayon::join(|| Batch::read(&mut input, batch.after()), || batch.parse(&parse));
        for line in parsed {
            use_line(line?)?;
        }
        next = read?;
    }
    Ok(())
}

/// One line of a pack's inventory, parsed (on a worker) and digested.
enum Line<'a> {
    Empty,
    System(Box<str>, Sys),
    Identity(Box<str>, Ident),
    Entitlement(Box<(EntRecord<'a>, EntDigest)>),
}

fn parse_line(line: &[u8]) -> Result<Line<'_>, String> {
    if line.is_empty() {
        return Ok(Line::Empty);
    }
    if line.starts_with(b"{\"entitlement\":") {
        let r: EntLine<'_> = serde_json::from_slice(line).map_err(|e| e.to_string())?;
        let d = Ent::digest_of_record(&r.entitlement);
        return Ok(Line::Entitlement(Box::new((r.entitlement, d))));
    }
    let doc: Map<String, Json> = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    let (key, record) = doc.iter().next().ok_or_else(|| "an empty record".to_owned())?;
    let record = record.as_object().ok_or_else(|| format!("`{key}` is not an object"))?;
    let id: Box<str> = text(record, "id").into();
    match key.as_str() {
        "system" => Ok(Line::System(id, Sys::from_record(record))),
        "identity" => Ok(Line::Identity(id, Ident::from_record(record))),
        other => Err(format!("unknown record `{other}`")),
    }
}

/// One entitlement line of a pack's `baseline/inventory.jsonl.gz`, as far as classification
/// reads it (observations and other fields are passed over). Text borrows from the line
/// unless it holds an escape.
#[derive(serde::Deserialize)]
struct EntRecord<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    identity: Cow<'a, str>,
    #[serde(borrow)]
    system: Cow<'a, str>,
    #[serde(borrow)]
    permission: Cow<'a, str>,
    #[serde(default)]
    privileged: bool,
    #[serde(default, borrow)]
    functions: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    granted_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    justification: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ticket: Option<Cow<'a, str>>,
    #[serde(borrow)]
    expires_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    source: Option<Cow<'a, str>>,
}

/// An entitlement line: `{"entitlement": {…}}`.
#[derive(serde::Deserialize)]
struct EntLine<'a> {
    #[serde(borrow)]
    entitlement: EntRecord<'a>,
}

/// The hasher of the entitlement digests: seeded once per process (digests are only
/// compared within one run), and several times faster than SipHash on short fields.
fn digest_hasher() -> &'static hashbrown::DefaultHashBuilder {
    static H: std::sync::OnceLock<hashbrown::DefaultHashBuilder> = std::sync::OnceLock::new();
    H.get_or_init(hashbrown::DefaultHashBuilder::default)
}

/// Digests of an entitlement's fields, in [`ENTITLEMENT_FIELDS`] order, from typed values:
/// the same whether the values come from an inventory or from a pack's lines (a date
/// digests as its instant, however it was written).
#[allow(clippy::too_many_arguments, reason = "one per field digested")]
fn entitlement_digest(
    identity: &str,
    system: &str,
    permission: &str,
    privileged: bool,
    functions: &[&str],
    granted_at: Option<DateTime<Utc>>,
    justification: Option<&str>,
    ticket: Option<&str>,
    expires_at: Option<DateTime<Utc>>,
    source: Option<&str>,
) -> [u64; ENTITLEMENT_FIELDS.len()] {
    fn one(v: impl Hash) -> u64 {
        digest_hasher().hash_one(v) | 1
    }
    let text = |t: Option<&str>| t.map_or(0, one);
    let date = |d: Option<DateTime<Utc>>| d.map_or(0, |d| one((d.timestamp(), d.timestamp_subsec_nanos())));
    [
        one(identity),
        one(system),
        one(permission),
        if privileged { one(true) } else { 0 },
        if functions.is_empty() { 0 } else { one(functions) },
        date(granted_at),
        text(justification),
        text(ticket),
        date(expires_at),
        text(source),
    ]
}

impl Ent {
    /// The entitlement as classification sees it.
    pub fn of(e: &Entitlement) -> Self {
        Self::of_shared(e, |s| Arc::from(s))
    }

    fn of_shared(e: &Entitlement, mut share: impl FnMut(&str) -> Arc<str>) -> Self {
        Ent {
            identity: share(&e.identity.value),
            system: share(&e.system.value),
            permission: (*e.permission).into(),
            privileged: e.privileged,
            functions: e.functions.iter().map(|f| f.value.as_str().into()).collect(),
            digest: Self::digest_of(e).0,
        }
    }

    fn of_record(r: &EntRecord, digest: EntDigest, mut share: impl FnMut(&str) -> Arc<str>) -> Self {
        Ent {
            identity: share(&r.identity),
            system: share(&r.system),
            permission: (*r.permission).into(),
            privileged: r.privileged,
            functions: r.functions.iter().map(|f| (**f).into()).collect(),
            digest: digest.0,
        }
    }

    /// The digest of a pack's entitlement line.
    fn digest_of_record(r: &EntRecord) -> EntDigest {
        let functions: Vec<&str> = r.functions.iter().map(|f| &**f).collect();
        // A date the pack wrote always reads back; one that did not would digest as absent
        // and show as a change, never hide one.
        let date = |d: &Option<Cow<'_, str>>| d.as_deref().and_then(crate::node::parse_date);
        EntDigest(entitlement_digest(
            &r.identity,
            &r.system,
            &r.permission,
            r.privileged,
            &functions,
            date(&r.granted_at),
            r.justification.as_deref(),
            r.ticket.as_deref(),
            date(&r.expires_at),
            r.source.as_deref(),
        ))
    }

    /// The fields of its own that differ from `other`.
    pub fn changed_from(&self, other: &Ent) -> Vec<&'static str> {
        differing(&other.digest, &self.digest, ENTITLEMENT_FIELDS)
    }

    /// The fields of `other` that differ from this one's digest `digest` (of
    /// [`Ent::digest_of`]).
    pub fn differs_from(&self, digest: &EntDigest) -> Vec<&'static str> {
        differing(&self.digest, &digest.0, ENTITLEMENT_FIELDS)
    }

    /// The digest of `e` alone, for classifying it without keeping a copy: what a streamed
    /// run does for every entitlement.
    pub fn digest_of(e: &Entitlement) -> EntDigest {
        let functions: Vec<&str> = e.functions.iter().map(|f| f.value.as_str()).collect();
        EntDigest(entitlement_digest(
            &e.identity.value,
            &e.system.value,
            &e.permission,
            e.privileged,
            &functions,
            e.granted_at,
            e.justification.as_deref(),
            e.ticket.as_deref(),
            e.expires_at,
            e.source.as_deref(),
        ))
    }
}

/// An entitlement's field digests (see [`Ent::digest_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntDigest([u64; ENTITLEMENT_FIELDS.len()]);

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
        State::with_rows(inv, State::rows_of(&inv.entitlements))
    }

    /// The systems and identities of `inv`, without entitlements.
    pub fn of_holders(inv: &Inventory) -> Self {
        let mut s = State::default();
        for x in &inv.systems {
            s.systems.insert(x.id.as_str().into(), Sys::of(x));
        }
        for i in &inv.identities {
            s.identities.insert(i.id.as_str().into(), Ident::of(i));
        }
        s
    }

    /// One identity's entitlements as rows for [`State::with_rows`], digested while
    /// evaluation has them: collecting rows and indexing them once is cheaper than
    /// absorbing a state per identity.
    pub fn rows_of<'a>(ents: impl IntoIterator<Item = &'a Entitlement>) -> Vec<(Box<str>, Ent)> {
        let mut names = hashbrown::HashSet::new();
        ents.into_iter()
            .map(|e| (e.id.as_str().into(), Ent::of_shared(e, |n| share(&mut names, n))))
            .collect()
    }

    /// The systems and identities of `inv` with the entitlement `rows` of
    /// [`State::rows_of`], sealed.
    pub fn with_rows(inv: &Inventory, rows: Vec<(Box<str>, Ent)>) -> Self {
        let mut s = State::of_holders(inv);
        s.entitlements = Entitlements::from_rows(rows);
        s.seal();
        s
    }

    /// Frees the spare room of the entitlements once all are in.
    pub fn seal(&mut self) {
        self.entitlements.seal();
    }

    fn add_entitlement(&mut self, r: &EntRecord, digest: EntDigest) {
        let names = &mut self.names;
        let ent = Ent::of_record(r, digest, |n| share(names, n));
        self.entitlements.insert((*r.id).into(), ent);
    }

    /// Reads the JSON Lines of [`write::json_lines`] as they come, as `each_line` does
    /// (its lines are parsed borrowing from the batch, so the loop is written out here);
    /// `Err` names the first line that is not one of its records.
    pub fn from_json_lines(mut input: impl std::io::BufRead + Send) -> Result<Self, String> {
        let mut s = State::default();
        let mut next = Batch::read(&mut input, 0)?;
        while !next.is_empty() {
            let batch = next;
            let (read, parsed) = rayon::join(|| Batch::read(&mut input, batch.after()), || batch.parse(&parse_line));
            for line in parsed {
                match line? {
                    Line::Empty => {}
                    Line::System(id, x) => {
                        s.systems.insert(id, x);
                    }
                    Line::Identity(id, x) => {
                        s.identities.insert(id, x);
                    }
                    Line::Entitlement(parsed) => {
                        let (r, digest) = *parsed;
                        s.add_entitlement(&r, digest);
                    }
                }
            }
            next = read?;
        }
        s.seal();
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
