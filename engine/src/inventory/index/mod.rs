//! An inventory too large to hold at once. Systems and identities are loaded as usual;
//! entitlements in a JSON or CSV file are only indexed — where each record is (offset,
//! length, line), grouped by the identity that holds it — and read back and decoded one
//! identity at a time while evaluating ([`crate::eval::stream`]). Memory grows with the
//! number of identities and a few bytes per entitlement, not with the records themselves.
//! YAML entitlements are decoded at load (YAML is not read in pieces).
//!
//! Here: the index ([`Indexed`]), its grouping by identity and what it answers. The parts:
//! [`json`] and [`csv`] index a file of each kind, [`keys`] names each record's identity,
//! [`chunked`] holds the per-record slots, [`body`] keeps or rereads the file's bytes, and
//! [`read`] reads records back and decodes them.

mod body;
mod chunked;
mod csv;
mod json;
mod keys;
mod read;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;

use hashbrown::HashTable;

use crate::diag::{Code, Problem, Problems};
use crate::source::Loc;

use self::body::Body;
pub use self::body::HOLD_AT_MOST;
use self::chunked::Chunked;
use self::csv::{csv_records, is_csv};
use self::json::json_records;
use self::keys::Keys;
use super::decode::Interner;
use super::load;
use super::{validate, Entitlement, Inventory};

/// Where one entitlement record is in its file.
#[derive(Debug, Clone, Copy)]
struct Slot {
    offset: u64,
    len: u32,
    line: u32,
}

/// Where each record of a file is.
type Slots = Chunked<Slot>;

/// How the entitlement records are kept.
enum Records {
    /// Decoded at load, in `Indexed::inventory.entitlements`.
    Held,
    /// A JSON file, read back record by record.
    Json {
        body: Body,
        name: Arc<str>,
        slots: Slots,
        /// Start of each line on which a record starts at column
        /// [`LOOKBACK`](json::LOOKBACK) or later (one entry for a one-line file); other
        /// records find their line's start in the bytes read before them.
        long_lines: Vec<(u32, u64)>,
    },
    /// A CSV file with these header cells, read back row by row.
    Csv {
        body: Body,
        name: Arc<str>,
        slots: Slots,
        headers: Vec<(String, Loc)>,
    },
}

/// A loaded inventory whose entitlements are grouped by identity and fetched on demand.
pub struct Indexed {
    /// Systems and identities (and, for YAML inputs, the entitlements), validated and
    /// sorted by id.
    pub inventory: Inventory,
    records: Records,
    /// `order[start[i]..start[i + 1]]` are the records of identity `i`.
    start: Vec<u32>,
    order: Vec<u32>,
    /// Records whose identity is not in the inventory (or could not be read).
    unattributed: Vec<u32>,
    total: usize,
}

/// Loads systems and identities of a native inventory (a directory or a file; no sources
/// file) and indexes entitlements, keeping an entitlement file of at most `hold_at_most`
/// bytes in memory ([`HOLD_AT_MOST`] in a run; `0` reads every record back from disk, for
/// tests of both ways). `Err` holds every problem found so far when any is an error;
/// problems inside entitlement records are found later, when they are read back
/// ([`Indexed::fetch`], [`Indexed::unattributed`]).
pub fn index_native(path: &Path, hold_at_most: u64) -> Result<Indexed, Problems> {
    let mut sink = Problems::default();
    let mut inv = Inventory::default();
    let mut keys = Keys::default();
    let records = if path.is_dir() {
        let files = load::section_files(path, &mut sink);
        for (section, file) in files.iter().filter(|(s, _)| *s != "entitlements") {
            load::read_section_file(file, section, &mut inv, &mut sink);
        }
        match files.iter().find(|(s, _)| *s == "entitlements") {
            Some((_, file)) if load::is_json(file) && load::streamable(file) => {
                json_records(file, Some("entitlements"), hold_at_most, &mut inv, &mut keys, &mut sink)
            }
            Some((_, file)) if is_csv(file) && load::streamable(file) && load::comma_separated(file) => {
                csv_records(file, hold_at_most, &mut keys, &mut sink)
            }
            Some((section, file)) => {
                load::read_section_file(file, section, &mut inv, &mut sink);
                Records::Held
            }
            None => Records::Held,
        }
    } else if load::is_json(path) && load::streamable(path) {
        json_records(path, None, hold_at_most, &mut inv, &mut keys, &mut sink)
    } else {
        return load::load_native(path).map(|(inventory, _)| Indexed::from_loaded(inventory));
    };
    // The lookup table is done with once every record is read; freeing it before the
    // grouping below lowers the peak (a slot for each of a million identities).
    keys.ids = HashTable::new();
    validate::check(&mut inv, &mut sink);
    let failed = sink.has_errors();
    if !failed {
        inv.warnings = std::mem::take(&mut sink);
        load::release_text(&mut inv);
        inv.strings = Interner::default();
    }
    if matches!(records, Records::Held) {
        if failed {
            sink.sort();
            return Err(sink);
        }
        return Ok(Indexed::from_loaded(inv));
    }
    // Identity of every record: a key per distinct identity string, then its index.
    let to_identity: Vec<Option<u32>> = keys
        .names
        .iter()
        .map(|n| {
            inv.identities
                .binary_search_by(|i| i.id.as_str().cmp(n))
                .ok()
                .and_then(|i| u32::try_from(i).ok())
        })
        .collect();
    let who = keys
        .of_record
        .iter()
        .map(|k| to_identity.get(*k as usize).copied().flatten());
    let (start, order, unattributed) = group(inv.identities.len(), who);
    let total = keys.of_record.len();
    let idx = Indexed {
        inventory: inv,
        records,
        start,
        order,
        unattributed,
        total,
    };
    if failed {
        // Report the records' own problems too: every problem in one run.
        sink.0.extend(idx.every_record_problem().0);
        sink.sort();
        return Err(sink);
    }
    Ok(idx)
}

impl Indexed {
    /// An inventory loaded whole: its entitlements all in memory, grouped by identity as
    /// an index groups them.
    pub fn from_loaded(inventory: Inventory) -> Indexed {
        let who = inventory.entitlements.iter().map(|e| {
            inventory
                .identities
                .binary_search_by(|i| i.id.as_str().cmp(&e.identity.value))
                .ok()
                .and_then(|i| u32::try_from(i).ok())
        });
        let (start, order, unattributed) = group(inventory.identities.len(), who);
        let total = inventory.entitlements.len();
        Indexed {
            inventory,
            records: Records::Held,
            start,
            order,
            unattributed,
            total,
        }
    }
}

/// Counting sort of records by identity; records keep their file order within a group.
fn group(identities: usize, who: impl Iterator<Item = Option<u32>> + Clone) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; identities + 1];
    for i in who.clone().flatten() {
        if let Some(c) = start.get_mut(i as usize + 1) {
            *c += 1;
        }
    }
    for i in 1..start.len() {
        let prev = start.get(i - 1).copied().unwrap_or(0);
        if let Some(c) = start.get_mut(i) {
            *c += prev;
        }
    }
    let mut next = start.clone();
    let mut order = vec![0u32; start.last().copied().unwrap_or(0) as usize];
    let mut unattributed = Vec::new();
    for (rec, i) in who.enumerate() {
        let rec = u32::try_from(rec).unwrap_or(u32::MAX);
        match i.and_then(|i| next.get_mut(i as usize)) {
            Some(at) => {
                if let Some(slot) = order.get_mut(*at as usize) {
                    *slot = rec;
                }
                *at += 1;
            }
            None => unattributed.push(rec),
        }
    }
    (start, order, unattributed)
}

/// The entitlements of one identity, read back and decoded, with the problems found.
#[derive(Default)]
pub struct Fetched {
    /// Decoded records (records that failed to decode are left out and reported).
    pub entitlements: Vec<Entitlement>,
    /// Decode problems, and dangling system references.
    pub problems: Vec<Problem>,
    /// Hash of every decoded entitlement id (for the duplicate check).
    pub id_hashes: Vec<u64>,
}

impl Indexed {
    /// Entitlement records in the inventory.
    pub fn entitlement_count(&self) -> usize {
        self.total
    }

    /// Record numbers of identity `i` (an index into `inventory.identities`).
    fn records_of(&self, i: usize) -> &[u32] {
        let from = self.start.get(i).copied().unwrap_or(0) as usize;
        let to = self.start.get(i + 1).copied().unwrap_or(0) as usize;
        self.order.get(from..to).unwrap_or_default()
    }

    /// The held entitlements of identity `i` (YAML inputs); empty for indexed files.
    pub fn held(&self, i: usize) -> Vec<&Entitlement> {
        match self.records {
            Records::Held => self
                .records_of(i)
                .iter()
                .filter_map(|r| self.inventory.entitlements.get(*r as usize))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Reads back and decodes the entitlements of identity `i`, checking that each names a
    /// known system. Held inventories return nothing here (see [`Indexed::held`]).
    pub fn fetch(&self, i: usize) -> Fetched {
        let mut out = Fetched::default();
        let records = self.records_of(i);
        self.read_records(records, &mut out);
        out
    }

    /// Decodes the records whose identity is unknown, reporting why each cannot be used.
    pub fn unattributed(&self) -> Problems {
        let mut sink = Problems::default();
        let mut out = Fetched::default();
        match &self.records {
            Records::Held => {
                for r in &self.unattributed {
                    if let Some(e) = self.inventory.entitlements.get(*r as usize) {
                        out.entitlements.push(e.clone());
                    }
                }
            }
            _ => self.read_records(&self.unattributed, &mut out),
        }
        sink.0.append(&mut out.problems);
        self.unknown_identities(&out.entitlements, &self.identity_ids(), &mut sink);
        sink
    }

    fn identity_ids(&self) -> Vec<&str> {
        self.inventory.identities.iter().map(|i| i.id.as_str()).collect()
    }

    /// Reports each of `entitlements` whose identity is not in the inventory.
    fn unknown_identities(&self, entitlements: &[Entitlement], identities: &[&str], sink: &mut Problems) {
        for e in entitlements {
            if self.inventory.identity(&e.identity.value).is_none() {
                validate::dangling(
                    "identity",
                    "identity",
                    &e.identity.value,
                    &e.identity.loc,
                    identities,
                    sink,
                );
            }
        }
    }

    /// Hashes of every entitlement id of a held inventory (indexed ones hash while fetching).
    pub fn held_id_hashes(&self) -> Vec<u64> {
        match self.records {
            Records::Held => self.inventory.entitlements.iter().map(|e| id_hash(&e.id)).collect(),
            _ => Vec::new(),
        }
    }

    /// The duplicate-id diagnostics for ids whose hashes are in `hashes` (sorted): every
    /// record is read again, so call this only when hashes collide.
    pub fn duplicates(&self, hashes: &[u64]) -> Problems {
        let mut sink = Problems::default();
        let mut seen: HashMap<String, Loc> = HashMap::new();
        let mut check = |e: &Entitlement, sink: &mut Problems| {
            if hashes.binary_search(&id_hash(&e.id)).is_err() {
                return;
            }
            match seen.get(&e.id) {
                Some(first) => sink.push(
                    Problem::error(
                        Code::DuplicateId,
                        Some(e.loc.clone()),
                        format!("duplicate entitlement id `{}`", e.id),
                    )
                    .with_label("second record with this id")
                    .with_help(format!("the first is at {first}; ids must be unique")),
                ),
                None => {
                    seen.insert(e.id.clone(), e.loc.clone());
                }
            }
        };
        match &self.records {
            Records::Held => {
                for e in &self.inventory.entitlements {
                    check(e, &mut sink);
                }
            }
            Records::Json { slots, .. } | Records::Csv { slots, .. } => {
                // In file order, so the second record is reported.
                for chunk in (0..slots.len()).collect::<Vec<_>>().chunks(4096) {
                    let recs: Vec<u32> = chunk.iter().filter_map(|r| u32::try_from(*r).ok()).collect();
                    let mut out = Fetched::default();
                    self.read_records(&recs, &mut out);
                    for e in &out.entitlements {
                        check(e, &mut sink);
                    }
                }
            }
        }
        sink
    }

    /// Reads back every record, in file order and a chunk at a time, and returns the
    /// problems of each (decoding, references, duplicate ids). For an inventory that
    /// already failed, so that one run reports everything.
    fn every_record_problem(&self) -> Problems {
        let mut sink = Problems::default();
        let mut hashes = Vec::new();
        let total = u32::try_from(self.total).unwrap_or(u32::MAX);
        let all: Vec<u32> = (0..total).collect();
        let identities = self.identity_ids();
        for chunk in all.chunks(4096) {
            let mut out = Fetched::default();
            self.read_records(chunk, &mut out);
            sink.0.append(&mut out.problems);
            hashes.append(&mut out.id_hashes);
            self.unknown_identities(&out.entitlements, &identities, &mut sink);
        }
        let repeated = repeated(hashes);
        if !repeated.is_empty() {
            sink.0.extend(self.duplicates(&repeated).0);
        }
        sink
    }
}

/// The hashes that occur more than once, sorted.
pub fn repeated(mut hashes: Vec<u64>) -> Vec<u64> {
    hashes.sort_unstable();
    let mut out: Vec<u64> = hashes
        .windows(2)
        .filter_map(|w| match w {
            [a, b] if a == b => Some(*a),
            _ => None,
        })
        .collect();
    out.dedup();
    out
}

/// The hash the duplicate check compares (equal hashes are confirmed on the ids).
pub fn id_hash(id: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}
