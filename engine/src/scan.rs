//! A chunked JSON reader for inventory files: it checks the outer structure (an object of
//! section lists, or a bare list), and hands each record's bytes to a callback with its
//! byte offset and line, reading the file a few megabytes at a time. The record itself is
//! parsed later by [`crate::json::value`], so a file is never held whole in memory and a
//! record can be read back on its own (see [`crate::inventory::Indexed`]).

use std::borrow::Cow;
use std::io::Read;
use std::sync::Arc;

use crate::diag::{suggest, Code, Problem, Problems};
use crate::source::{Loc, Source};

/// Bytes read per refill.
const CHUNK: usize = 4 << 20;

use crate::limits::{MAX_DEPTH, MAX_RECORD_BYTES};

/// Bytes of a line shown either side of a structural problem.
const SNIPPET: usize = 256;

/// Where a record is in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the record's first byte.
    pub offset: u64,
    /// Length in bytes.
    pub len: u32,
    /// 1-based line of the first byte.
    pub line: u32,
    /// Bytes between the start of that line and the record.
    pub col: u32,
}

impl Span {
    /// A window source holding `bytes` (the record) that starts at column `col` of line
    /// `line`: it costs the record's size whatever precedes the record on its line.
    pub fn window(&self, name: &Arc<str>, bytes: &[u8]) -> Result<Arc<Source>, Problem> {
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Source::window_at(name, s.to_owned(), self.line, self.col)),
            Err(e) => {
                let text = String::from_utf8_lossy(bytes).into_owned();
                let src = Source::window_at(name, text, self.line, self.col);
                Err(crate::text::invalid_utf8(
                    &src,
                    e.valid_up_to(),
                    self.offset + e.valid_up_to() as u64,
                ))
            }
        }
    }
}

/// Reads `reader` (the file `name`), calling `on_record(section, bytes, span)` for every
/// record of the sections in `expected`. With `only`, the file holds that one section: a
/// bare list, or an object whose one key is the section. Returns every structural problem
/// found; a syntax error stops the reading there.
pub fn scan(
    reader: impl Read,
    name: &Arc<str>,
    only: Option<&str>,
    sections: &[&str],
    mut on_record: impl FnMut(&str, &[u8], Span),
) -> Problems {
    let mut s = Scanner {
        reader,
        name: Arc::clone(name),
        buf: Vec::with_capacity(CHUNK),
        scratch: None,
        pos: 0,
        base: 0,
        eof: false,
        keep: None,
        line: 1,
        line_start: 0,
        started: false,
    };
    let mut sink = Problems::default();
    if let Err(p) = s
        .start()
        .and_then(|()| s.document(only, sections, &mut on_record, &mut sink))
    {
        sink.push(p);
    }
    sink
}

struct Scanner<R> {
    reader: R,
    name: Arc<str>,
    buf: Vec<u8>,
    /// Where a refill reads to (allocated on the first).
    scratch: Option<Vec<u8>>,
    /// Index of the next byte in `buf`.
    pos: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
    /// Index in `buf` from which bytes must survive a refill (a record being read).
    keep: Option<usize>,
    /// Line of `pos`, and the file offset where that line starts.
    line: u32,
    line_start: u64,
    /// The encoding was checked: from then on every refill is checked for NUL bytes.
    started: bool,
}

impl<R: Read> Scanner<R> {
    /// Checks the encoding from the first bytes and moves past a UTF-8 byte-order mark.
    fn start(&mut self) -> Result<(), Problem> {
        while self.buf.len() < 4 && self.refill()? {}
        match crate::text::sniff(&self.buf) {
            sniffed @ (crate::text::Sniffed::Other(_) | crate::text::Sniffed::Utf16 { .. }) => {
                Err(crate::text::refused(&self.name, sniffed.name()))
            }
            crate::text::Sniffed::Utf8 { bom } => {
                self.pos = bom.min(self.buf.len());
                self.line_start = self.pos as u64;
                self.started = true;
                match memchr::memchr(0, &self.buf) {
                    Some(at) => Err(self.nul_at(at)),
                    None => Ok(()),
                }
            }
        }
    }

    /// The next byte, refilling the buffer as needed; `None` at the end of the file.
    fn peek(&mut self) -> Result<Option<u8>, Problem> {
        if self.pos >= self.buf.len() && !self.refill()? {
            return Ok(None);
        }
        Ok(self.buf.get(self.pos).copied())
    }

    fn refill(&mut self) -> Result<bool, Problem> {
        if self.eof {
            return Ok(false);
        }
        let drop_to = self.keep.unwrap_or(self.pos).min(self.buf.len());
        self.buf.drain(..drop_to);
        self.base += drop_to as u64;
        self.pos -= drop_to;
        self.keep = self.keep.map(|_| 0);
        let have = self.buf.len();
        // Read into a buffer zeroed once, then append what came: growing `buf` by a zeroed
        // chunk on every refill costs a chunk's worth of writes for however little a read gives.
        let scratch = self.scratch.get_or_insert_with(|| vec![0; CHUNK]);
        let read = loop {
            match self.reader.read(scratch) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Problem::error(
                        Code::Io,
                        None,
                        format!("cannot read `{}`: {}", self.name, e.to_string().to_lowercase()),
                    ));
                }
            }
        };
        self.buf.extend_from_slice(scratch.get(..read).unwrap_or_default());
        self.eof = read == 0;
        let fresh = if self.started { self.buf.get(have..) } else { None };
        if let Some(at) = fresh.and_then(|new| memchr::memchr(0, new)) {
            return Err(self.nul_at(have + at));
        }
        if let Some(kept) = self.keep {
            if self.buf.len() - kept > MAX_RECORD_BYTES {
                return Err(Problem::error(
                    Code::Limit,
                    Some(self.loc_at(kept, 1)),
                    format!("record is larger than {}", crate::limits::size(MAX_RECORD_BYTES)),
                )
                .with_label("this record")
                .with_help("split the record, or shorten its longest values"));
            }
        }
        Ok(read > 0)
    }

    /// The problem for a NUL byte at buffer index `at` (after `pos`, lines counted here).
    fn nul_at(&self, at: usize) -> Problem {
        let before = self.buf.get(self.pos.min(at)..at).unwrap_or_default();
        let newlines = before.iter().filter(|&&b| b == b'\n').count();
        let line = self.line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
        let line_begin = before.iter().rposition(|&b| b == b'\n').map_or_else(
            || usize::try_from(self.line_start.saturating_sub(self.base)).unwrap_or(0),
            |i| self.pos + i + 1,
        );
        let text = String::from_utf8_lossy(self.buf.get(line_begin..at).unwrap_or_default()).into_owned();
        let src = Source::window(&self.name, text + " ", line);
        crate::text::nul_byte(&src, at - line_begin, self.base + at as u64)
    }

    /// Moves past the byte at `pos`, counting lines.
    fn bump(&mut self, b: u8) {
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
            self.line_start = self.base + self.pos as u64;
        }
    }

    fn ws(&mut self) -> Result<(), Problem> {
        while let Some(b) = self.peek()? {
            if !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                break;
            }
            self.bump(b);
        }
        Ok(())
    }

    /// A location `len` bytes long at buffer index `at`, which is on the current line. Its
    /// snippet is the line around `at`, at most [`SNIPPET`] bytes either side (a one-line
    /// file is one line).
    fn loc_at(&self, at: usize, len: usize) -> Loc {
        let line_begin = usize::try_from(self.line_start.saturating_sub(self.base)).unwrap_or(0);
        let mut from = line_begin.max(at.saturating_sub(SNIPPET)).min(self.buf.len());
        // Start on a character, so offsets in the lossy text are the file's.
        while from < at && self.buf.get(from).is_some_and(|b| b & 0xC0 == 0x80) {
            from += 1;
        }
        let rest = self.buf.get(from..).unwrap_or_default();
        let rest = rest
            .get(..rest.len().min(at.saturating_sub(from) + len + SNIPPET))
            .unwrap_or(rest);
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let text = String::from_utf8_lossy(rest.get(..end).unwrap_or_default()).into_owned();
        let col = (self.base + from as u64).saturating_sub(self.line_start);
        let src = Source::window_at(&self.name, text, self.line, u32::try_from(col).unwrap_or(u32::MAX));
        src.loc(at.saturating_sub(from), len)
    }

    fn err(&self, msg: &str) -> Problem {
        Problem::error(
            Code::Syntax,
            Some(self.loc_at(self.pos, 1)),
            format!("invalid JSON: {msg}"),
        )
        .with_label("here")
        .with_help("fix the JSON syntax at this position")
    }

    fn expect(&mut self, want: u8) -> Result<(), Problem> {
        match self.peek()? {
            Some(b) if b == want => {
                self.bump(b);
                Ok(())
            }
            _ => Err(self.err(&format!("expected `{}`", want as char))),
        }
    }

    fn document(
        &mut self,
        only: Option<&str>,
        sections: &[&str],
        on_record: &mut impl FnMut(&str, &[u8], Span),
        sink: &mut Problems,
    ) -> Result<(), Problem> {
        let expected: Vec<&str> = only.map_or_else(|| sections.to_vec(), |o| vec![o]);
        self.ws()?;
        let whole = self.loc_at(self.pos, 0);
        match self.peek()? {
            Some(b'{') => {
                self.bump(b'{');
                let keys = self.object(&expected, on_record, sink)?;
                for section in &expected {
                    if !keys.iter().any(|k| k == section) {
                        sink.push(
                            Problem::error(
                                Code::MissingField,
                                Some(whole.clone()),
                                format!("inventory has no `{section}` section"),
                            )
                            .with_help(format!("add `\"{section}\": []`")),
                        );
                    }
                }
            }
            Some(b'[') if only.is_some() => {
                let section = only.unwrap_or_default();
                self.records(section, on_record)?;
            }
            Some(_) => {
                return Err(
                    Problem::error(Code::Shape, Some(whole), "an inventory file must be a JSON object")
                        .with_help("an inventory file holds the keys `systems`, `identities` and `entitlements`"),
                );
            }
            None => return Err(self.err("unexpected end of input")),
        }
        self.ws()?;
        if self.peek()?.is_some() {
            return Err(self.err("unexpected text after the JSON value"));
        }
        Ok(())
    }

    /// The top-level object (after its `{`); returns the keys seen.
    fn object(
        &mut self,
        expected: &[&str],
        on_record: &mut impl FnMut(&str, &[u8], Span),
        sink: &mut Problems,
    ) -> Result<Vec<String>, Problem> {
        let mut keys: Vec<String> = Vec::new();
        self.ws()?;
        if self.peek()? == Some(b'}') {
            self.bump(b'}');
            return Ok(keys);
        }
        loop {
            self.ws()?;
            let (key, key_loc) = self.key()?;
            if keys.contains(&key) {
                return Err(
                    Problem::error(Code::DuplicateKey, Some(key_loc), format!("duplicate key `{key}`"))
                        .with_label("second occurrence")
                        .with_help("each key may appear once in an object; remove or rename one"),
                );
            }
            self.ws()?;
            self.expect(b':')?;
            self.ws()?;
            let value_loc = self.loc_at(self.pos, 1);
            let first = self.peek()?;
            if !expected.contains(&key.as_str()) {
                sink.push(
                    Problem::error(
                        Code::UnknownField,
                        Some(key_loc),
                        format!("unknown section `{key}` in inventory"),
                    )
                    .with_help(suggest(&key, expected)),
                );
                self.skip_value()?;
            } else if first == Some(b'[') {
                self.records(&key, on_record)?;
            } else {
                self.skip_value()?;
                let kind = match first {
                    Some(b'n') => None,
                    Some(b'{') => Some("a map"),
                    Some(b'"') => Some("a string"),
                    Some(b't' | b'f') => Some("a boolean"),
                    _ => Some("a number"),
                };
                if let Some(kind) = kind {
                    sink.push(Problem::error(
                        Code::Shape,
                        Some(value_loc),
                        format!("`{key}` must be a list, found {kind}"),
                    ));
                }
            }
            keys.push(key);
            self.ws()?;
            match self.peek()? {
                Some(b',') => self.bump(b','),
                Some(b'}') => {
                    self.bump(b'}');
                    return Ok(keys);
                }
                _ => return Err(self.err("expected `,` or `}`")),
            }
        }
    }

    /// A string key at the top level, unescaped.
    fn key(&mut self) -> Result<(String, Loc), Problem> {
        if self.peek()? != Some(b'"') {
            return Err(self.err("expected a string key"));
        }
        let start = self.pos;
        self.keep = Some(start);
        let skipped = self.skip_string();
        let start = self.keep.take().unwrap_or(0);
        skipped?;
        let raw = self.buf.get(start..self.pos).unwrap_or_default();
        let key: String = serde_json::from_slice(raw).map_err(|_| self.err("invalid string"))?;
        Ok((key, self.loc_at(start, self.pos - start)))
    }

    /// A list of records (at `[`), each handed to `on_record`.
    fn records(&mut self, section: &str, on_record: &mut impl FnMut(&str, &[u8], Span)) -> Result<(), Problem> {
        self.expect(b'[')?;
        self.ws()?;
        if self.peek()? == Some(b']') {
            self.bump(b']');
            return Ok(());
        }
        loop {
            self.ws()?;
            let span_start = (self.base + self.pos as u64, self.line, self.line_start);
            self.keep = Some(self.pos);
            let skipped = self.skip_value();
            let start = self.keep.take().unwrap_or(0);
            skipped?;
            let bytes = self.buf.get(start..self.pos).unwrap_or_default();
            let (offset, line, line_start) = span_start;
            let span = Span {
                offset,
                len: u32::try_from(bytes.len()).map_err(|_| self.err("record is larger than 4 GiB"))?,
                line,
                col: u32::try_from(offset - line_start).unwrap_or(u32::MAX),
            };
            on_record(section, bytes, span);
            self.ws()?;
            match self.peek()? {
                Some(b',') => self.bump(b','),
                Some(b']') => {
                    self.bump(b']');
                    return Ok(());
                }
                _ => return Err(self.err("expected `,` or `]`")),
            }
        }
    }

    /// Moves past one string (at its `"`); escapes are checked when the record is parsed.
    fn skip_string(&mut self) -> Result<(), Problem> {
        self.bump(b'"');
        loop {
            let run = self.buf.get(self.pos..).unwrap_or_default();
            match run.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20) {
                Some(i) => self.pos += i,
                None => {
                    self.pos = self.buf.len();
                    if !self.refill()? {
                        return Err(self.err("unterminated string"));
                    }
                    continue;
                }
            }
            match self.peek()? {
                Some(b'"') => {
                    self.bump(b'"');
                    return Ok(());
                }
                Some(b'\\') => {
                    self.bump(b'\\');
                    match self.peek()? {
                        Some(b) if b >= 0x20 => self.bump(b),
                        _ => return Err(self.err("invalid escape in string")),
                    }
                }
                Some(_) => return Err(self.err("control character in string")),
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    /// Moves past one value, checking that brackets pair up (scalars are checked when the
    /// record is parsed).
    fn skip_value(&mut self) -> Result<(), Problem> {
        match self.peek()? {
            None => Err(self.err("unexpected end of input")),
            Some(b'"') => self.skip_string(),
            Some(b'{' | b'[') => self.skip_container(),
            Some(_) => {
                let mut any = false;
                while let Some(b) = self.peek()? {
                    if matches!(
                        b,
                        b',' | b'}' | b']' | b'{' | b'[' | b'"' | b' ' | b'\t' | b'\r' | b'\n'
                    ) {
                        break;
                    }
                    any = true;
                    self.bump(b);
                }
                if any {
                    Ok(())
                } else {
                    Err(self.err("expected a value"))
                }
            }
        }
    }

    /// Moves past an object or list (at its bracket): the hot loop of a large file, so
    /// it walks the buffered bytes directly, a run of ordinary bytes at a time, and keeps
    /// its string state across refills.
    fn skip_container(&mut self) -> Result<(), Problem> {
        let mut open: Vec<u8> = Vec::new();
        let (mut in_string, mut escaped) = (false, false);
        loop {
            if self.pos >= self.buf.len() && !self.refill()? {
                return Err(self.err(if in_string {
                    "unterminated string"
                } else {
                    "unexpected end of input"
                }));
            }
            let bytes = self.buf.as_slice();
            let mut i = self.pos;
            let mut outcome: Option<Result<(), &'static str>> = None;
            while i < bytes.len() {
                if in_string {
                    if escaped {
                        let Some(&b) = bytes.get(i) else { break };
                        escaped = false;
                        if b < 0x20 {
                            outcome = Some(Err("invalid escape in string"));
                            break;
                        }
                        i += 1;
                    }
                    // The run of bytes with no meaning inside a string.
                    while bytes.get(i).is_some_and(|&b| !ends_string_run(b)) {
                        i += 1;
                    }
                    match bytes.get(i) {
                        None => break,
                        Some(b'"') => in_string = false,
                        Some(b'\\') => escaped = true,
                        Some(_) => {
                            outcome = Some(Err("control character in string"));
                            break;
                        }
                    }
                    i += 1;
                    continue;
                }
                // The run of bytes with no meaning between tokens (scalars are checked
                // when the record is parsed).
                while bytes.get(i).is_some_and(|&b| !ends_token_run(b)) {
                    i += 1;
                }
                let Some(&b) = bytes.get(i) else { break };
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' if open.len() >= MAX_DEPTH => {
                        self.pos = i;
                        return Err(too_deep(self.loc_at(i, 1)));
                    }
                    b'{' => open.push(b'}'),
                    b'[' => open.push(b']'),
                    b'}' | b']' => {
                        if open.pop() != Some(b) {
                            outcome = Some(Err("brackets do not match"));
                            break;
                        }
                        if open.is_empty() {
                            i += 1;
                            outcome = Some(Ok(()));
                            break;
                        }
                    }
                    b'\n' => {
                        self.line += 1;
                        self.line_start = self.base + i as u64 + 1;
                    }
                    // Nothing else ends a run between tokens.
                    _ => {}
                }
                i += 1;
            }
            self.pos = i;
            match outcome {
                Some(Ok(())) => return Ok(()),
                Some(Err(msg)) => return Err(self.err(msg)),
                None => {}
            }
        }
    }
}

/// Whether `b` ends a run inside a string: its closing quote, an escape, a control character.
const fn ends_string_run(b: u8) -> bool {
    matches!(b, 0..=0x1f | b'"' | b'\\')
}

/// Whether `b` ends a run between tokens: a string's opening quote, a bracket, a line break.
const fn ends_token_run(b: u8) -> bool {
    matches!(b, b'"' | b'{' | b'}' | b'[' | b']' | b'\n')
}

/// The DT112 problem for nesting deeper than [`MAX_DEPTH`] at `loc`.
pub fn too_deep(loc: Loc) -> Problem {
    Problem::error(
        Code::Limit,
        Some(loc),
        format!("nesting is deeper than {MAX_DEPTH} levels"),
    )
    .with_label("too deep")
    .with_help("inventories and rules are a few levels deep; flatten this value")
}

/// The text of the field `key` at the top level of the JSON object `record`, read as the
/// full reader reads an id: a string (unescaped, trimmed) or a 64-bit integer as written.
/// `None` when the record is not an object or the field is absent or anything else. A
/// light scan (records are fully parsed later).
pub fn string_field<'a>(record: &'a [u8], key: &str) -> Option<Cow<'a, str>> {
    let mut i = 0;
    let mut depth = 0usize;
    let mut expect_key = false;
    while let Some(&b) = record.get(i) {
        match b {
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1 && b == b'{';
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            b',' => {
                expect_key = depth == 1;
                i += 1;
            }
            b'"' => {
                let end = string_end(record, i)?;
                if depth == 1 && expect_key {
                    expect_key = false;
                    let k = record.get(i + 1..end)?;
                    let matches = k == key.as_bytes()
                        || (k.contains(&b'\\') && serde_json::from_slice::<String>(record.get(i..=end)?).ok()? == key);
                    if matches {
                        let mut j = end + 1;
                        while matches!(record.get(j), Some(b' ' | b'\t' | b'\r' | b'\n' | b':')) {
                            j += 1;
                        }
                        if record.get(j) != Some(&b'"') {
                            return integer_at(record, j).map(Cow::Borrowed);
                        }
                        let vend = string_end(record, j)?;
                        let raw = record.get(j + 1..vend)?;
                        // As the full reader does: text is trimmed.
                        return Some(if raw.contains(&b'\\') {
                            let text: String = serde_json::from_slice(record.get(j..=vend)?).ok()?;
                            match text.trim() {
                                t if t.len() == text.len() => Cow::Owned(text),
                                t => Cow::Owned(t.to_owned()),
                            }
                        } else {
                            Cow::Borrowed(std::str::from_utf8(raw).ok()?.trim())
                        });
                    }
                }
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// The text of a JSON integer within 64 bits at `at` (an id written as a number keeps its
/// text, as [`crate::json`] reads it); `None` for anything else.
fn integer_at(record: &[u8], at: usize) -> Option<&str> {
    let rest = record.get(at..)?;
    let end = rest
        .iter()
        .position(|b| !matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
        .unwrap_or(rest.len());
    let text = std::str::from_utf8(rest.get(..end)?).ok()?;
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() == 1 || !digits.starts_with('0'));
    (canonical && text.parse::<i64>().is_ok()).then_some(text)
}

/// Index of the `"` closing the string that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        match bytes.get(i)? {
            b'"' => return Some(i),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, only: Option<&str>) -> (Vec<(String, String, Span)>, Vec<String>) {
        let name: Arc<str> = Arc::from("inv.json");
        let mut seen = Vec::new();
        let problems = scan(
            text.as_bytes(),
            &name,
            only,
            &["systems", "identities", "entitlements"],
            |s, b, span| seen.push((s.to_owned(), String::from_utf8_lossy(b).into_owned(), span)),
        );
        let problems = problems
            .0
            .iter()
            .map(|p| format!("{}: {}", p.at(), p.message))
            .collect();
        (seen, problems)
    }

    #[test]
    fn records_come_with_offset_line_and_column() {
        let text = "{\"systems\": [],\n \"identities\": [ {\"id\": \"a\"},\n   {\"id\": \"b\", \"x\": [1, {\"y\": \"}\"}]}\n ],\n\"entitlements\": null}";
        let (seen, problems) = run(text, None);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(seen.len(), 2);
        let (section, bytes, span) = &seen[1];
        assert_eq!(section, "identities");
        assert_eq!(bytes, "{\"id\": \"b\", \"x\": [1, {\"y\": \"}\"}]}");
        assert_eq!((span.line, span.col), (3, 3));
        assert_eq!(
            &text[span.offset as usize..span.offset as usize + span.len as usize],
            bytes
        );
    }

    #[test]
    fn a_record_split_across_refills_stays_whole() {
        let big = "x".repeat(CHUNK + 10);
        let text = format!("[{{\"id\": \"{big}\"}}, {{\"id\": \"b\"}}]");
        let (seen, problems) = run(&text, Some("identities"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].1.len(), big.len() + 10);
        assert_eq!(seen[1].1, "{\"id\": \"b\"}");
    }

    /// A reader that hands out at most `step` bytes per read, so that every state of the
    /// record walk (inside a string, after a backslash, between tokens) meets a refill.
    struct Trickle<'a> {
        rest: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.rest.len());
            out[..n].copy_from_slice(&self.rest[..n]);
            self.rest = &self.rest[n..];
            Ok(n)
        }
    }

    #[test]
    fn records_and_problems_do_not_depend_on_where_reads_end() {
        let cases = [
            "{\"identities\": [{\"id\": \"a\\\"]}\\\\\", \"t\": [\"{\", \"[\"]},\n {\"id\": \"b\"}]}",
            "[{\"a\": \"x\\\ny\"}]",
            "[{\"a\": \"x\ny\"}]",
            "[{\"a\": [1, 2}]",
            "[{\"a\": \"never closed}]",
            "[\n{\"a\":\n [\n1\n]\n}\n,\n{}\n]",
        ];
        let deep = format!("[{}{}]", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let name: Arc<str> = Arc::from("inv.json");
        let scan_with = |text: &str, step: usize| {
            let mut seen = Vec::new();
            let problems = scan(
                Trickle {
                    rest: text.as_bytes(),
                    step,
                },
                &name,
                Some("identities"),
                &["identities"],
                |_, b, span| seen.push((b.to_vec(), span)),
            );
            let problems: Vec<String> = problems
                .0
                .iter()
                .map(|p| format!("{}: {}", p.at(), p.message))
                .collect();
            (seen, problems)
        };
        for text in cases.iter().copied().chain([deep.as_str()]) {
            let whole = scan_with(text, usize::MAX);
            for step in 1..=4 {
                assert_eq!(scan_with(text, step), whole, "{text:?} read {step} bytes at a time");
            }
        }
        let problems = |text: &str| scan_with(text, usize::MAX).1;
        assert!(problems(cases[0]).is_empty(), "{:?}", problems(cases[0]));
        assert_eq!(scan_with(cases[0], 1).0.len(), 2);
        assert_eq!(
            problems(cases[1]),
            ["inv.json:1: invalid JSON: invalid escape in string"]
        );
        assert_eq!(
            problems(cases[2]),
            ["inv.json:1: invalid JSON: control character in string"]
        );
        assert_eq!(problems(cases[3]), ["inv.json:1: invalid JSON: brackets do not match"]);
        assert_eq!(problems(cases[4]), ["inv.json:1: invalid JSON: unterminated string"]);
        assert!(problems(cases[5]).is_empty());
        assert_eq!(scan_with(cases[5], 1).0[1].1.line, 8);
        assert_eq!(
            problems(&deep),
            [format!("inv.json:1: nesting is deeper than {MAX_DEPTH} levels")]
        );
    }

    #[test]
    fn structure_problems_are_reported_with_lines() {
        let (_, problems) = run("{\"systems\": [],\n\"identites\": [],\n\"entitlements\": 3}", None);
        assert_eq!(
            problems,
            [
                "inv.json:2: unknown section `identites` in inventory",
                "inv.json:3: `entitlements` must be a list, found a number",
                "inv.json:1: inventory has no `identities` section",
            ]
        );
        let (_, problems) = run("{\"systems\": [\n {\"id\": \"a\"]\n]}", None);
        assert_eq!(problems, ["inv.json:2: invalid JSON: brackets do not match"]);
        let (_, problems) = run("[{\"a\": 1}", Some("systems"));
        assert_eq!(problems, ["inv.json:1: invalid JSON: expected `,` or `]`"]);
        let (_, problems) = run("[1, 2]", None);
        assert_eq!(problems, ["inv.json:1: an inventory file must be a JSON object"]);
    }

    #[test]
    fn string_field_reads_top_level_strings_only() {
        let rec = br#"{"x": {"identity": "inner"}, "identity" : "a\"b", "system": "s"}"#;
        assert_eq!(string_field(rec, "identity").as_deref(), Some("a\"b"));
        assert_eq!(string_field(rec, "system").as_deref(), Some("s"));
        // An integer id keeps its text, as the full reader keeps it; other numbers do not
        // name an identity (the full reader reports them).
        assert_eq!(string_field(br#"{"identity": 3}"#, "identity").as_deref(), Some("3"));
        assert_eq!(string_field(br#"{"identity": 1.5}"#, "identity"), None);
        assert_eq!(string_field(br#"{"identity": 007}"#, "identity"), None);
        assert_eq!(
            string_field(br#"{"identity": " a "}"#, "identity").as_deref(),
            Some("a")
        );
        assert_eq!(string_field(br#"["identity", "a"]"#, "identity"), None);
        assert_eq!(
            string_field(br#"{"ident\u0069ty": "z"}"#, "identity").as_deref(),
            Some("z")
        );
    }
}
