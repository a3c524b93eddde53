//! The findings-contract JSON, written in pieces: findings are serialised as they come
//! (to memory, spilling to an unnamed temporary file past a few tens of MiB) and the
//! document — `as_of`, `summary`, then the findings — is written once the summary is
//! known. A report held in memory goes through the same writer, so both give the same
//! bytes.

use std::io::{self, Write};

use chrono::SecondsFormat;
use serde::Serialize;
use serde_json::ser::Formatter;

use super::spool::Spool;
use crate::finding::{Finding, Tally};

/// Findings serialised by [`JsonFindings::encode`], not yet placed in the document.
pub struct Encoded {
    bytes: Vec<u8>,
    count: usize,
}

/// Findings serialised so far.
#[derive(Default)]
pub struct JsonFindings {
    findings: Spool,
    count: usize,
}

impl JsonFindings {
    /// Serialises findings for [`JsonFindings::push_encoded`]; safe to call from many
    /// threads at once, so the serialising happens where the findings are made.
    pub fn encode(findings: &[Finding]) -> io::Result<Encoded> {
        let mut bytes = Vec::with_capacity(findings.len() * 900);
        for f in findings {
            bytes.extend_from_slice(b",\n    ");
            // Pretty-printed straight into place, two levels deep (inside the document's
            // `findings` list), rather than printed, then copied with its lines indented.
            let mut ser = serde_json::Serializer::with_formatter(&mut bytes, Nested::at(2));
            f.serialize(&mut ser)?;
        }
        Ok(Encoded {
            bytes,
            count: findings.len(),
        })
    }

    /// Appends findings (already in output order).
    pub fn push(&mut self, findings: &[Finding]) -> io::Result<()> {
        let encoded = Self::encode(findings)?;
        self.push_encoded(&encoded)
    }

    /// Appends findings serialised by [`JsonFindings::encode`] (in output order).
    pub fn push_encoded(&mut self, encoded: &Encoded) -> io::Result<()> {
        // Every finding is preceded by a comma, but the first of the document.
        let skip = usize::from(self.count == 0 && encoded.count > 0);
        self.count += encoded.count;
        self.findings.write(encoded.bytes.get(skip..).unwrap_or_default())
    }

    /// Writes the whole document: `as_of`, the summary of `tally`, and the findings.
    pub fn finish(self, tally: &Tally, mut out: impl Write) -> io::Result<()> {
        out.write_all(b"{\n  \"as_of\": ")?;
        serde_json::to_writer(&mut out, &tally.as_of.to_rfc3339_opts(SecondsFormat::Secs, true))?;
        out.write_all(b",\n  \"summary\": ")?;
        let summary = serde_json::to_vec_pretty(&tally.summary_json())?;
        let mut indented = Vec::with_capacity(summary.len() + 256);
        indent(&summary, b"\n  ", &mut indented);
        out.write_all(&indented)?;
        out.write_all(b",\n  \"findings\": [")?;
        self.findings.copy_to(&mut out)?;
        out.write_all(if self.count == 0 { b"]\n}\n" } else { b"\n  ]\n}\n" })
    }
}

/// Copies `text` to `out`, replacing every newline with `newline` (JSON strings never hold
/// a raw newline, so only line breaks between tokens are touched).
fn indent(text: &[u8], newline: &[u8], out: &mut Vec<u8>) {
    let mut rest = text;
    while let Some(i) = rest.iter().position(|&b| b == b'\n') {
        out.extend_from_slice(rest.get(..i).unwrap_or_default());
        out.extend_from_slice(newline);
        rest = rest.get(i + 1..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
}

/// serde_json's pretty printer (two spaces a level), starting `depth` levels deep: the
/// bytes are those of `to_writer_pretty` with every line break followed by `2 × depth`
/// more spaces.
struct Nested {
    depth: usize,
    has_value: bool,
}

impl Nested {
    fn at(depth: usize) -> Self {
        Self {
            depth,
            has_value: false,
        }
    }

    fn newline<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        spaces(w, self.depth * 2)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            spaces(w, self.depth * 2)?;
        }
        w.write_all(bracket)
    }
}

fn spaces<W: ?Sized + Write>(w: &mut W, mut n: usize) -> io::Result<()> {
    const SPACES: &[u8; 64] = &[b' '; 64];
    while n > 0 {
        let k = n.min(SPACES.len());
        w.write_all(SPACES.get(..k).unwrap_or_default())?;
        n -= k;
    }
    Ok(())
}

impl Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.newline(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.newline(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}
