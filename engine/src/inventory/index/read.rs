//! Reading records back from an indexed entitlement file and decoding them.

use crate::diag::{Code, Problem, Problems};
use crate::inventory::decode::{self, Interner};
use crate::inventory::{direct, validate, Entitlement};
use crate::node::Node;
use crate::scan::Span;

use super::body::{read_at, Body};
use super::csv::{csv_rows, Row};
use super::json::LOOKBACK;
use super::{id_hash, Fetched, Indexed, Records, Slot, Slots};

impl Indexed {
    pub(super) fn read_records(&self, records: &[u32], out: &mut Fetched) {
        let (body, name, slots) = match &self.records {
            Records::Held => return,
            Records::Json { body, name, slots, .. } | Records::Csv { body, name, slots, .. } => (body, name, slots),
        };
        let mut strings = Interner::default();
        let mut sink = Problems::default();
        let mut runs = Runs::default();
        // Each record's bytes, one after another; a CSV batch is parsed by one reader.
        let mut all: Vec<u8> = Vec::new();
        let mut read: Vec<(&Slot, std::ops::Range<usize>)> = Vec::with_capacity(records.len());
        let mut cols: Vec<u32> = Vec::with_capacity(records.len());
        for r in records {
            let Some(slot) = slots.get(*r as usize) else { continue };
            match runs.bytes(body, slots, records, *r) {
                Some((before, bytes)) => {
                    cols.push(self.column(slot, before));
                    let start = all.len();
                    all.extend_from_slice(bytes);
                    if matches!(self.records, Records::Csv { .. }) && all.last() != Some(&b'\n') {
                        all.push(b'\n');
                    }
                    read.push((slot, start..all.len()));
                }
                None => out.problems.push(Problem::error(
                    Code::Io,
                    None,
                    format!(
                        "cannot read back `{name}` at line {}: the file changed while it was read",
                        slot.line
                    ),
                )),
            }
        }
        let mut accept = |e: Entitlement, sink: &mut Problems| {
            if self.inventory.system(&e.system.value).is_none() {
                let systems: Vec<&str> = self.inventory.systems.iter().map(|s| s.id.as_str()).collect();
                validate::dangling("system", "system", &e.system.value, &e.system.loc, &systems, sink);
            }
            out.id_hashes.push(id_hash(&e.id));
            out.entitlements.push(e);
        };
        let general = |node: Result<Node, Problem>, strings: &mut Interner, sink: &mut Problems| match node {
            Ok(node) => decode::entitlement(&node, sink, strings),
            Err(p) => {
                sink.push(p);
                None
            }
        };
        match &self.records {
            Records::Csv { headers, .. } => {
                for row in csv_rows(name, &all, &read, headers, &mut strings) {
                    let decoded = match row {
                        Ok(Row::Plain(e)) => Some(e),
                        Ok(Row::General(node)) => general(Ok(node), &mut strings, &mut sink),
                        Err(p) => general(Err(p), &mut strings, &mut sink),
                    };
                    if let Some(e) = decoded {
                        accept(e, &mut sink);
                    }
                }
            }
            _ => {
                for ((slot, range), col) in read.iter().zip(&cols) {
                    let span = Span {
                        offset: slot.offset,
                        len: slot.len,
                        line: slot.line,
                        col: *col,
                    };
                    // A plain record is decoded straight from its text; any other takes
                    // the general path, which says what is wrong with it.
                    let decoded = match span.window(name, all.get(range.clone()).unwrap_or_default()) {
                        Ok(src) => match direct::entitlement(&src, &mut strings) {
                            Some(e) => Some(e),
                            None => general(crate::json::value(&src), &mut strings, &mut sink),
                        },
                        Err(p) => general(Err(p), &mut strings, &mut sink),
                    };
                    if let Some(e) = decoded {
                        accept(e, &mut sink);
                    }
                }
            }
        }
        out.problems.append(&mut sink.0);
    }
    /// The column of a JSON record, from the bytes read `before` it (up to [`LOOKBACK`])
    /// or its line's start; 0 for CSV rows, which start their line.
    fn column(&self, slot: &Slot, before: &[u8]) -> u32 {
        let Records::Json { long_lines, .. } = &self.records else {
            return 0;
        };
        let col = match memchr::memrchr(b'\n', before) {
            Some(i) => (before.len() - i - 1) as u64,
            None if before.len() as u64 == slot.offset => slot.offset,
            None => long_lines
                .binary_search_by_key(&slot.line, |l| l.0)
                .ok()
                .and_then(|i| long_lines.get(i))
                .map_or(0, |l| slot.offset.saturating_sub(l.1)),
        };
        u32::try_from(col).unwrap_or(u32::MAX)
    }
}

/// Reads records back a run at a time: neighbouring records (the usual case, as exports
/// list an identity's grants together) come from one read instead of one each.
#[derive(Default)]
struct Runs {
    /// File offset of `buf[0]`.
    at: u64,
    buf: Vec<u8>,
}

impl Runs {
    /// Largest gap between records read as one, and largest single read.
    const GAP: u64 = 4096;
    const MAX: u64 = 1 << 20;

    /// The bytes of record `r` and up to [`LOOKBACK`] bytes before it, reading them (with
    /// the records of `wanted` that follow closely) unless the last read covered them;
    /// `None` when the file is shorter.
    fn bytes<'b>(&'b mut self, body: &'b Body, slots: &Slots, wanted: &[u32], r: u32) -> Option<(&'b [u8], &'b [u8])> {
        let slot = slots.get(r as usize)?;
        let end = slot.offset + u64::from(slot.len);
        let first = slot.offset - slot.offset.min(LOOKBACK);
        let file = match body {
            Body::File(file) => file,
            Body::Held(all) => {
                let at = |offset: u64| usize::try_from(offset).ok();
                return Some((
                    all.get(at(first)?..at(slot.offset)?)?,
                    all.get(at(slot.offset)?..at(end)?)?,
                ));
            }
        };
        let covered = first >= self.at && end <= self.at + self.buf.len() as u64;
        if !covered {
            let mut run_end = end;
            let mut following: Vec<&Slot> = wanted
                .iter()
                .filter_map(|w| slots.get(*w as usize))
                .filter(|s| s.offset > slot.offset)
                .collect();
            following.sort_by_key(|s| s.offset);
            for s in following {
                let s_end = s.offset + u64::from(s.len);
                if s.offset > run_end + Self::GAP || s_end - slot.offset > Self::MAX {
                    break;
                }
                run_end = run_end.max(s_end);
            }
            self.at = first;
            self.buf.resize(usize::try_from(run_end - first).ok()?, 0);
            let n = read_at(file, &mut self.buf, first).ok()?;
            self.buf.truncate(n);
        }
        let from = usize::try_from(slot.offset - self.at).ok()?;
        let lead = usize::try_from(slot.offset - first).ok()?;
        Some((
            self.buf.get(from - lead..from)?,
            self.buf.get(from..from + slot.len as usize)?,
        ))
    }
}
