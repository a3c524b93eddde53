//! JSON entitlement files: where each record is, and the identity it names.

use std::path::Path;
use std::sync::Arc;

use crate::diag::Problems;
use crate::inventory::load::{self, SECTIONS};
use crate::inventory::Inventory;
use crate::scan;

use super::body::{Body, Tee};
use super::keys::Keys;
use super::{Records, Slot, Slots};

/// Bytes read before each run of records: a record starting closer than this to its
/// line's start finds its column there; one further on is on a line in `long_lines`.
pub(super) const LOOKBACK: u64 = 256;

pub(super) fn json_records(
    path: &Path,
    only: Option<&str>,
    hold_at_most: u64,
    inv: &mut Inventory,
    keys: &mut Keys,
    sink: &mut Problems,
) -> Records {
    let Some(file) = load::open(path, sink) else {
        return Records::Held;
    };
    let name: Arc<str> = Arc::from(path.display().to_string());
    let mut slots = Slots::default();
    let mut long_lines: Vec<(u32, u64)> = Vec::new();
    let mut problems = Problems::default();
    let mut tee = Tee::of(&file, hold_at_most);
    let mut structure = scan::scan(&mut tee, &name, only, SECTIONS, |section, bytes, span| {
        if section == "entitlements" {
            slots.push(Slot {
                offset: span.offset,
                len: span.len,
                line: span.line,
            });
            if u64::from(span.col) >= LOOKBACK && long_lines.last().map(|l| l.0) != Some(span.line) {
                long_lines.push((span.line, span.offset.saturating_sub(u64::from(span.col))));
            }
            keys.push(scan::string_field(bytes, "identity").as_deref());
        } else {
            match load::json_record(&name, bytes, span) {
                Ok(node) => load::push_record(&node, section, inv, &mut problems),
                Err(p) => problems.push(p),
            }
        }
    });
    sink.0.append(&mut problems.0);
    sink.0.append(&mut structure.0);
    Records::Json {
        body: Body::of(tee.into_copy(), file),
        name,
        slots,
        long_lines,
    }
}
