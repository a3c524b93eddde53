//! Identity keys: each distinct identity string met in entitlement records, stored once,
//! and the key of every record's.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::chunked::Chunked;

/// Distinct identity strings met in entitlement records, and each record's.
#[derive(Default)]
pub(super) struct Keys {
    /// Indices into `names`, by the hash of the name (each name is stored once).
    pub(super) ids: HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
    pub(super) names: Vec<Box<str>>,
    /// Per record, in file order; `u32::MAX` when the identity could not be read.
    pub(super) of_record: Chunked<u32>,
}

impl Keys {
    pub(super) fn push(&mut self, identity: Option<&str>) {
        // Exports usually list an identity's entitlements together: the last key is the
        // likeliest, and comparing it costs less than hashing.
        let last = self.of_record.last().copied();
        let key = match identity {
            None => u32::MAX,
            Some(s) => match last {
                Some(k) if self.name(k) == Some(s) => k,
                _ => self.key_of(s),
            },
        };
        self.of_record.push(key);
    }

    fn name(&self, key: u32) -> Option<&str> {
        self.names.get(key as usize).map(|n| &**n)
    }

    /// The key of `name`, a new one the first time it is met.
    fn key_of(&mut self, name: &str) -> u32 {
        let hash = self.hasher.hash_one(name);
        let names = &self.names;
        let text = |k: u32| names.get(k as usize).map_or("", |n| &**n);
        if let Some(k) = self.ids.find(hash, |&k| text(k) == name) {
            return *k;
        }
        let k = u32::try_from(names.len()).unwrap_or(u32::MAX);
        let hasher = &self.hasher;
        self.ids.insert_unique(hash, k, |&k| hasher.hash_one(text(k)));
        self.names.push(Box::from(name));
        k
    }
}
