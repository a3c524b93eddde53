//! What an `--inventory` path is, decided once, where it is opened: an inventory
//! directory, a native inventory file, or a sources file that lists exports (and native
//! inventories) to import. Native inventories are `inventory`'s to read; a sources file is
//! `sources`' to import; this module sits above both and joins them.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::diag::{Code, Problem, Problems};
use crate::inventory::{self, Indexed, Inventory, Others};
use crate::source::Loc;
use crate::sources;

/// What tells a sources file from an inventory.
const SOURCES: Others = Others {
    json_head: sources::sniff_json,
    root: sources::is_sources,
};

/// Loads and validates the inventory `path` names (a directory, a native file, or a
/// sources file and everything it lists). Every problem found is returned, not only the
/// first; `Err` when any is an error. The second value names the files read.
pub fn load(path: &Path) -> Result<(Inventory, Vec<String>), Problems> {
    load_as_of(path, None)
}

/// [`load`] as of the review date `as_of` (today when `None`): exports that say when
/// access starts and ends (SAP role assignments) are read as they stand on that date.
pub fn load_as_of(path: &Path, as_of: Option<DateTime<Utc>>) -> Result<(Inventory, Vec<String>), Problems> {
    let mut sink = Problems::default();
    let mut inv = Inventory::default();
    let mut read = Vec::new();
    read_any(path, None, as_of, &mut inv, &mut sink, &mut read);
    inventory::finish(inv, sink).map(|inv| (inv, read))
}

/// Opens `path` for streamed evaluation: an inventory directory or a native JSON file is
/// indexed (entitlements read back identity by identity); anything else is loaded whole.
pub fn index(path: &Path) -> Result<Indexed, Problems> {
    index_as_of(path, None)
}

/// [`index`] as of the review date `as_of` (see [`load_as_of`]).
pub fn index_as_of(path: &Path, as_of: Option<DateTime<Utc>>) -> Result<Indexed, Problems> {
    index_with(path, inventory::HOLD_AT_MOST, as_of)
}

/// [`index`], keeping an indexed entitlement file of at most `hold_at_most` bytes in
/// memory; `0` reads every record back from disk. For tests of both ways of reading back.
pub fn index_holding(path: &Path, hold_at_most: u64) -> Result<Indexed, Problems> {
    index_with(path, hold_at_most, None)
}

fn index_with(path: &Path, hold_at_most: u64, as_of: Option<DateTime<Utc>>) -> Result<Indexed, Problems> {
    if path.is_dir() || (inventory::is_json(path) && inventory::streamable(path) && !sources::sniff_json(path)) {
        inventory::index_native(path, hold_at_most)
    } else {
        load_as_of(path, as_of).map(|(inv, _)| Indexed::from_loaded(inv))
    }
}

/// Reads `path` into `inv` without validating it. `listed_at` is where a sources file
/// lists `path` under `inventory:`; such a path must be a native inventory.
fn read_any(
    path: &Path,
    listed_at: Option<&Loc>,
    as_of: Option<DateTime<Utc>>,
    inv: &mut Inventory,
    sink: &mut Problems,
    read: &mut Vec<String>,
) {
    let Some(doc) = inventory::read_path(path, SOURCES, inv, sink, read) else {
        return;
    };
    if let Some(at) = listed_at {
        sink.push(
            Problem::error(
                Code::Layout,
                Some(at.clone()),
                format!("`{}` is a sources file", path.display()),
            )
            .with_help("`inventory:` lists native inventory files or directories; list the exports under `sources:`"),
        );
        return;
    }
    let Some(imported) = sources::import(&doc.src, &doc.root, as_of, sink, read) else {
        return;
    };
    for (native, at) in imported.inventories() {
        if native.exists() {
            read_any(native, Some(at), as_of, inv, sink, read);
        } else {
            sink.push(
                Problem::error(
                    Code::Io,
                    Some(at.clone()),
                    format!("inventory `{}` does not exist", native.display()),
                )
                .with_help("paths under `inventory:` are relative to the sources file"),
            );
        }
    }
    imported.correlate(inv, sink, read);
}
