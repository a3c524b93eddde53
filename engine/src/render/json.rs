//! The findings-contract JSON, written in pieces: findings are serialised as they come
//! (to memory, spilling to an unnamed temporary file past a few tens of MiB) and the
//! document — `as_of`, `summary`, then the findings — is written once the summary is
//! known. A report held in memory goes through the same writer, so both give the same
//! bytes.

use std::io::{self, Write};

use chrono::SecondsFormat;

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
    baseline: Option<serde_json::Value>,
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
            finding(&mut bytes, f, 2)?;
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

    /// Names the baseline the findings were compared with (written after `as_of`).
    pub fn baseline(&mut self, about: serde_json::Value) {
        self.baseline = Some(about);
    }

    /// Writes the whole document: `as_of`, the baseline if any, the summary of `tally`, and
    /// the findings.
    pub fn finish(self, tally: &Tally, mut out: impl Write) -> io::Result<()> {
        out.write_all(b"{\n  \"as_of\": ")?;
        serde_json::to_writer(&mut out, &tally.as_of.to_rfc3339_opts(SecondsFormat::Secs, true))?;
        if let Some(b) = &self.baseline {
            out.write_all(b",\n  \"baseline\": ")?;
            let mut text = Vec::new();
            value(&mut text, b, 1)?;
            out.write_all(&text)?;
        }
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

/// A line break followed by the indentation of `depth` levels (two spaces each).
fn newline(out: &mut Vec<u8>, depth: usize) {
    const SPACES: &[u8; 64] = &[b' '; 64];
    out.push(b'\n');
    let mut n = depth * 2;
    while n > 0 {
        let k = n.min(SPACES.len());
        out.extend_from_slice(SPACES.get(..k).unwrap_or_default());
        n -= k;
    }
}

/// `s` as a JSON string. Most strings need no escape and are copied whole.
fn string(out: &mut Vec<u8>, s: &str) -> io::Result<()> {
    // Checked without stopping at the first hit, so that the loop is vectorised.
    let needs_escape = s
        .bytes()
        .fold(false, |seen, b| seen | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if !needs_escape {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        Ok(serde_json::to_writer(out, s)?)
    }
}

/// `"key": ` at the start of an object's entry, after its line break.
fn key(out: &mut Vec<u8>, first: bool, key: &str, depth: usize) -> io::Result<()> {
    if !first {
        out.push(b',');
    }
    newline(out, depth);
    string(out, key)?;
    out.extend_from_slice(b": ");
    Ok(())
}

/// A list of strings, pretty-printed at `depth`.
fn strings<'a>(out: &mut Vec<u8>, items: impl ExactSizeIterator<Item = &'a str>, depth: usize) -> io::Result<()> {
    if items.len() == 0 {
        out.extend_from_slice(b"[]");
        return Ok(());
    }
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        newline(out, depth + 1);
        string(out, item)?;
    }
    newline(out, depth);
    out.push(b']');
    Ok(())
}

/// Any JSON value, pretty-printed at `depth` as `serde_json::to_writer_pretty` prints it
/// at the top (so its inner lines are indented `depth` levels more).
fn value(out: &mut Vec<u8>, v: &serde_json::Value, depth: usize) -> io::Result<()> {
    use serde_json::Value as Json;
    match v {
        Json::String(s) => string(out, s),
        Json::Array(items) if !items.is_empty() => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, depth + 1);
                value(out, item, depth + 1)?;
            }
            newline(out, depth);
            out.push(b']');
            Ok(())
        }
        Json::Object(map) if !map.is_empty() => {
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                key(out, i == 0, k, depth + 1)?;
                value(out, item, depth + 1)?;
            }
            newline(out, depth);
            out.push(b'}');
            Ok(())
        }
        // Numbers, booleans, null and empty containers print the same compact or pretty.
        other => Ok(serde_json::to_writer(out, other)?),
    }
}

/// `f` pretty-printed at `depth`, in the findings contract's field order: the bytes of
/// `serde_json::to_writer_pretty` on [`Finding`]'s `Serialize`, with every line after the
/// first indented `depth` levels more (a test compares the two).
fn finding(out: &mut Vec<u8>, f: &Finding, depth: usize) -> io::Result<()> {
    let d = depth + 1;
    out.push(b'{');
    key(out, true, "id", d)?;
    string(out, &f.id)?;
    key(out, false, "rule", d)?;
    string(out, &f.rule)?;
    key(out, false, "track", d)?;
    string(out, f.track.as_str())?;
    key(out, false, "category", d)?;
    string(out, f.category.as_str())?;
    key(out, false, "severity", d)?;
    string(out, f.severity.as_str())?;
    key(out, false, "controls", d)?;
    strings(out, f.controls.iter().map(String::as_str), d)?;
    key(out, false, "identity", d)?;
    string(out, &f.identity)?;
    key(out, false, "entitlements", d)?;
    strings(out, f.entitlements.iter().map(String::as_str), d)?;
    key(out, false, "message", d)?;
    string(out, &f.message)?;
    key(out, false, "evidence", d)?;
    let mut evidence = f.evidence.iter().peekable();
    if evidence.peek().is_none() {
        out.extend_from_slice(b"{}");
    } else {
        out.push(b'{');
        for (i, (k, v)) in evidence.enumerate() {
            key(out, i == 0, k, d + 1)?;
            value(out, v, d + 1)?;
        }
        newline(out, d);
        out.push(b'}');
    }
    key(out, false, "remediation", d)?;
    string(out, &f.remediation)?;
    key(out, false, "status", d)?;
    string(out, f.status.as_str())?;
    if let Some(c) = f.change {
        key(out, false, "change", d)?;
        string(out, c.as_str())?;
    }
    key(out, false, "location", d)?;
    out.push(b'{');
    key(out, true, "file", d + 1)?;
    string(out, &f.file)?;
    key(out, false, "line", d + 1)?;
    write!(out, "{}", f.line)?;
    newline(out, d);
    out.push(b'}');
    newline(out, depth);
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::finding::{Evidence, FindingStatus};
    use crate::policy::{Category, Severity, Track};

    /// What serde_json's pretty printer makes of `f`, with the lines after the first
    /// indented two levels, as the encoder claims to write it.
    fn reference(f: &Finding) -> Vec<u8> {
        let pretty = serde_json::to_vec_pretty(f).expect("a finding serialises");
        let mut out = Vec::new();
        indent(&pretty, b"\n    ", &mut out);
        out
    }

    fn finding(text: &str, evidence: Vec<(&str, serde_json::Value)>, lists: (usize, usize)) -> Finding {
        let mut ev = Evidence::default();
        for (k, v) in evidence {
            ev.insert(Arc::from(k), v);
        }
        Finding {
            id: "0123456789abcdef".to_owned(),
            rule: Arc::from(format!("R-{text}")),
            track: Track::Sox,
            category: Category::Excessive,
            severity: Severity::High,
            controls: Arc::from(vec!["CC6.3".to_owned(), text.to_owned()][..lists.0].to_vec()),
            identity: text.to_owned(),
            entitlements: (0..lists.1).map(|i| format!("{text}{i}")).collect(),
            message: format!("`{text}` on `erp`"),
            evidence: ev,
            remediation: Arc::from(text),
            status: FindingStatus::Excepted,
            file: Arc::from(format!("dir/{text}.json")),
            line: 4_000_000_000,
            change: None,
        }
    }

    #[test]
    fn findings_are_written_as_the_pretty_printer_writes_them() {
        let texts = [
            "plain",
            "",
            "quote \" and back\\slash",
            "C:\\back\\slash only",
            "tab\tnew\nline\r\u{0}\u{1f}\u{7f}",
            "ünïcödé ✓ 𝄞 \u{2028}",
            "</script>&<>'",
        ];
        let values = [
            json!(null),
            json!(true),
            json!(-9_223_372_036_854_775_808_i64),
            json!(18_446_744_073_709_551_615_u64),
            json!(1.5e-7),
            json!([]),
            json!({}),
            json!(["a\"b", ["nested", []], {"k\n": {"deep": [1, null]}}]),
            json!({"z": 1, "a": "x"}),
        ];
        for text in texts {
            for lists in [(0, 0), (1, 1), (2, 3)] {
                let mut cases = vec![finding(text, Vec::new(), lists)];
                cases.push(finding(
                    text,
                    values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (["identity.x", "entitlement.y", text][i % 3], v.clone()))
                        .collect(),
                    lists,
                ));
                for (i, v) in values.iter().enumerate() {
                    cases.push(finding(text, vec![(["system.tags.t", text][i % 2], v.clone())], lists));
                }
                for f in &cases {
                    let mut mine = Vec::new();
                    super::finding(&mut mine, f, 2).expect("writing to memory");
                    assert_eq!(
                        String::from_utf8_lossy(&mine),
                        String::from_utf8_lossy(&reference(f)),
                        "{f:?}"
                    );
                }
            }
        }
    }
}
