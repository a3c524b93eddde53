//! CSV entitlement files: where each row is and the identity it names, and rows read
//! back a batch at a time with one CSV state machine per thread.

use std::path::Path;
use std::sync::Arc;

use crate::diag::{Code, Problem, Problems};
use crate::inventory::decode::{Interner, ENTITLEMENT_FIELDS};
use crate::inventory::{direct, load, Entitlement};
use crate::node::{csv_row, Node, Value};
use crate::source::{Loc, Source};

use super::body::{line_u32, not_text, reader_bytes, Body, Tee};
use super::keys::Keys;
use super::{Records, Slot, Slots};

pub(super) fn is_csv(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

pub(super) fn csv_records(path: &Path, hold_at_most: u64, keys: &mut Keys, sink: &mut Problems) -> Records {
    let Some(file) = load::open(path, sink) else {
        return Records::Held;
    };
    let name: Arc<str> = Arc::from(path.display().to_string());
    let sniffed = crate::text::sniff(&reader_bytes(&file, 0, 64));
    if !matches!(sniffed, crate::text::Sniffed::Utf8 { .. }) {
        sink.push(crate::text::refused(&name, sniffed.name()));
        return Records::Held;
    }
    if let Some(p) = not_text(&file, &name) {
        sink.push(p);
        return Records::Held;
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(Tee::of(&file, hold_at_most));
    let header_cells: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
            .collect(),
        Err(e) => {
            sink.push(load::csv_error(
                &header_source(&name, &reader_bytes(&file, 0, 4096)),
                &e,
            ));
            return Records::Held;
        }
    };
    let header_end = reader.position().byte();
    let header_src = header_source(&name, &reader_bytes(&file, 0, header_end.min(1 << 20)));
    let headers = load::csv_headers(&header_src, "entitlements", ENTITLEMENT_FIELDS, header_cells, sink);
    let who = headers.iter().position(|(h, _)| h == "identity");
    let mut slots = Slots::default();
    let mut record = csv::StringRecord::new();
    loop {
        let at = reader.position().clone();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let row_loc = || {
                    let bytes = reader_bytes(&file, at.byte(), 4096);
                    let (skip, line) = crlf_start(&bytes, at.line());
                    let text = String::from_utf8_lossy(bytes.get(skip..).unwrap_or_default()).into_owned();
                    Source::window(&name, text, line)
                };
                if let Some(p) = load::csv_field_too_large(&record, || row_loc().loc_to_eol(0)) {
                    sink.push(p);
                    continue;
                }
                let end = reader.position().byte();
                slots.push(Slot {
                    offset: at.byte(),
                    len: u32::try_from(end - at.byte()).unwrap_or(u32::MAX),
                    line: u32::try_from(at.line()).unwrap_or(u32::MAX),
                });
                keys.push(who.and_then(|i| record.get(i)).filter(|s| !s.is_empty()));
            }
            Err(e) => {
                let offset = e.position().map_or(at.byte(), csv::Position::byte);
                let line = e.position().map_or(at.line(), csv::Position::line);
                let bytes = reader_bytes(&file, offset, 4096);
                let (skip, line) = crlf_start(&bytes, line);
                let text = String::from_utf8_lossy(bytes.get(skip..).unwrap_or_default()).into_owned();
                let src = Source::window(&name, text, line);
                sink.push(load::csv_error_at(src.loc_to_eol(0), &e));
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }
                ) {
                    break;
                }
            }
        }
    }
    let copy = reader.into_inner().into_copy();
    Records::Csv {
        body: Body::of(copy, file),
        name,
        slots,
        headers,
    }
}

/// Where a CSV record starts in `bytes` read from the position the csv reader gave it, and
/// its line: after a `\r\n` line end the reader places the next record at the `\n`, one
/// line early.
fn crlf_start(bytes: &[u8], line: u64) -> (usize, u32) {
    if bytes.first() == Some(&b'\n') {
        (1, line_u32(line.saturating_add(1)))
    } else {
        (0, line_u32(line))
    }
}

fn header_source(name: &Arc<str>, bytes: &[u8]) -> Arc<Source> {
    Source::window(name, String::from_utf8_lossy(bytes).into_owned(), 1)
}

/// One CSV row read back: decoded straight from its cells when plain
/// ([`direct::csv_entitlement`]), else as a node for the general path.
#[allow(
    clippy::large_enum_variant,
    reason = "the large variant is the common one: boxing it would allocate once more per row"
)]
pub(super) enum Row {
    Plain(Entitlement),
    General(Node),
}

thread_local! {
    /// Each thread's CSV state machine, reset per batch: building one (its DFA) costs more
    /// than reading an identity's rows with it.
    static CSV: std::cell::RefCell<csv_core::Reader> = std::cell::RefCell::new(csv_core::Reader::new());
}

/// Records read one after another from CSV text in memory, as `csv::Reader` reads them
/// (the same `csv_core` machine with the same defaults; a `ByteRecord` with flexible
/// lengths cannot fail, so neither can this).
struct CsvRecords<'a> {
    input: &'a [u8],
    fields: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
}

impl<'a> CsvRecords<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            fields: vec![0; 1024],
            ends: vec![0; 32],
            len: 0,
        }
    }

    /// Reads the next record with `core`; at the end of the text, an empty record.
    fn advance(&mut self, core: &mut csv_core::Reader) {
        use csv_core::ReadRecordResult as R;
        let (mut out, mut end) = (0, 0);
        loop {
            let (res, nin, nout, nend) = core.read_record(
                self.input,
                self.fields.get_mut(out..).unwrap_or_default(),
                self.ends.get_mut(end..).unwrap_or_default(),
            );
            self.input = self.input.get(nin..).unwrap_or_default();
            out += nout;
            end += nend;
            match res {
                R::InputEmpty => {}
                R::OutputFull => self.fields.resize(self.fields.len() * 2, 0),
                R::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                R::Record => break,
                R::End => {
                    end = 0;
                    break;
                }
            }
        }
        self.len = end;
    }

    /// The fields of the record last read.
    fn cells(&self) -> impl Iterator<Item = &[u8]> {
        let ends = self.ends.get(..self.len).unwrap_or_default();
        let starts = std::iter::once(0).chain(ends.iter().copied());
        starts
            .zip(ends)
            .map(|(a, b)| self.fields.get(a..*b).unwrap_or_default())
    }
}

pub(super) fn csv_rows(
    name: &Arc<str>,
    all: &[u8],
    rows: &[(&Slot, std::ops::Range<usize>)],
    headers: &[(String, Loc)],
    strings: &mut Interner,
) -> Vec<Result<Row, Problem>> {
    CSV.with(|core| {
        let mut core = core.borrow_mut();
        core.reset();
        let core = &mut *core;
        let mut records = CsvRecords::new(all);
        rows.iter()
            .map(|(slot, range)| {
                let (skip, line) = crlf_start(all.get(range.clone()).unwrap_or_default(), u64::from(slot.line));
                let bytes = all.get(range.start + skip..range.end).unwrap_or_default();
                records.advance(core);
                let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
                    let src = Source::window(name, String::from_utf8_lossy(bytes).into_owned(), line);
                    Problem::error(
                        Code::Syntax,
                        Some(src.loc(e.utf8_error().valid_up_to(), 1)),
                        "invalid CSV: row is not valid UTF-8",
                    )
                    .with_help("save the file as UTF-8")
                })?;
                let src = Source::window(name, text, line);
                if let Some(e) = direct::csv_entitlement(headers, records.cells(), &src.loc_to_eol(0), strings) {
                    return Ok(Row::Plain(e));
                }
                let cells: Vec<String> = records
                    .cells()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                let mut row = csv_row(&src, 0, headers, &cells);
                if let Value::Map(entries) = &mut row.value {
                    entries.retain(|(k, _, _)| !k.is_empty());
                }
                Ok(Row::General(row))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::CsvRecords;

    #[test]
    fn csv_records_read_as_the_csv_crate_reads_them() {
        let text: &[u8] = b"a,b,c\n\"q,1\",\"line\nbreak\",\"say \"\"hi\"\"\"\r\n,,\nonly\n\nx,y,z,extra,more,and,many,more,fields,than,thirty,two,to,grow,the,ends,a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n\"\xc3\xa9t\xc3\xa9\",last-without-newline";
        let mut expected = Vec::new();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).expect("a slice cannot fail") {
            expected.push(record.iter().map(<[u8]>::to_vec).collect::<Vec<_>>());
        }
        let mut core = csv_core::Reader::new();
        let mut records = CsvRecords::new(text);
        let mut got = Vec::new();
        for _ in 0..expected.len() {
            records.advance(&mut core);
            got.push(records.cells().map(<[u8]>::to_vec).collect::<Vec<_>>());
        }
        assert_eq!(got, expected);
        assert!(expected.len() >= 6, "{} records", expected.len());
        records.advance(&mut core);
        assert_eq!(records.cells().count(), 0, "past the end, an empty record");
        let long = vec![b'x'; 5000];
        let mut records = CsvRecords::new(&long);
        records.advance(&mut core);
        assert!(records.cells().eq([long.as_slice()]), "a field longer than the buffer");
    }
}
