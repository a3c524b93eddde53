//! The findings-contract JSON, written in pieces: findings are serialised as they come
//! (to memory, spilling to an unnamed temporary file past a few tens of MiB) and the
//! document — `as_of`, `summary`, then the findings — is written once the summary is
//! known. A report held in memory goes through the same writer, so both give the same
//! bytes.

use std::io::{self, Read, Seek, Write};

use chrono::SecondsFormat;

use crate::finding::{Finding, Tally};

/// Serialised findings kept in memory up to this size before spilling to disk.
const SPILL_AT: usize = 32 << 20;

/// Findings serialised by [`JsonFindings::encode`], not yet placed in the document.
pub struct Encoded {
    bytes: Vec<u8>,
    count: usize,
}

/// Findings serialised so far.
#[derive(Default)]
pub struct JsonFindings {
    buf: Vec<u8>,
    file: Option<std::fs::File>,
    count: usize,
}

impl JsonFindings {
    /// Serialises findings for [`JsonFindings::push_encoded`]; safe to call from many
    /// threads at once, so the serialising happens where the findings are made.
    pub fn encode(findings: &[Finding]) -> io::Result<Encoded> {
        let mut bytes = Vec::with_capacity(findings.len() * 900);
        let mut one = Vec::with_capacity(1024);
        for f in findings {
            one.clear();
            serde_json::to_writer_pretty(&mut one, f)?;
            bytes.extend_from_slice(b",\n    ");
            indent(&one, b"\n    ", &mut bytes);
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
        self.buf
            .extend_from_slice(encoded.bytes.get(skip..).unwrap_or_default());
        self.count += encoded.count;
        if self.buf.len() >= SPILL_AT {
            let file = match &mut self.file {
                Some(f) => f,
                None => self.file.insert(tempfile::tempfile()?),
            };
            file.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes the whole document: `as_of`, the summary of `tally`, and the findings.
    pub fn finish(mut self, tally: &Tally, mut out: impl Write) -> io::Result<()> {
        out.write_all(b"{\n  \"as_of\": ")?;
        serde_json::to_writer(&mut out, &tally.as_of.to_rfc3339_opts(SecondsFormat::Secs, true))?;
        out.write_all(b",\n  \"summary\": ")?;
        let summary = serde_json::to_vec_pretty(&tally.summary_json())?;
        let mut indented = Vec::with_capacity(summary.len() + 256);
        indent(&summary, b"\n  ", &mut indented);
        out.write_all(&indented)?;
        out.write_all(b",\n  \"findings\": [")?;
        if let Some(mut file) = self.file.take() {
            file.rewind()?;
            let mut chunk = vec![0u8; 1 << 20];
            loop {
                let n = file.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                out.write_all(chunk.get(..n).unwrap_or_default())?;
            }
        }
        out.write_all(&self.buf)?;
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
