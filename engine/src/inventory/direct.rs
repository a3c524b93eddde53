//! Decoding a plain JSON entitlement straight from its text, without building a [`Node`]
//! tree first: the read-back of a large inventory spends most of its time there.
//!
//! "Plain" means every key is a known field written once, every value has the type the
//! field wants (strings without escapes, surrounding spaces or emptiness, `true`/`false`,
//! a list of such strings, dates that parse), and the three required fields are present.
//! Anything else returns `None` and the record takes the general path
//! ([`crate::json::value`] then [`super::decode::entitlement`]), which reports what is
//! wrong. On a plain record both paths give the same entitlement, locations included
//! (tests compare them on generated and hand-written records).
//!
//! [`Node`]: crate::node::Node

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::limits::MAX_SCALAR_BYTES;
use crate::node::{parse_date, Spanned};
use crate::source::{Loc, Source};

use super::decode::{Interner, Parts, ENTITLEMENT_FIELDS};
use super::Entitlement;

struct Reader<'a> {
    src: &'a Arc<Source>,
    text: &'a str,
    pos: usize,
    line: u32,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        crate::json::skip_ws(self.text.as_bytes(), &mut self.pos, &mut self.line);
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek() == Some(b)).then(|| self.pos += 1)
    }

    fn loc(&self, offset: usize, line: u32) -> Loc {
        Loc {
            src: Arc::clone(self.src),
            line,
            offset,
            len: self.pos - offset,
        }
    }

    /// A string without escapes or control characters, as written.
    fn raw_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let len = bytes
            .get(start..)?
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        self.pos = start + len;
        self.eat(b'"')?;
        self.text.get(start..start + len)
    }

    /// A field's string: also not empty, not longer than the limit, no surrounding space
    /// (the general path trims, and drops or rejects what is empty).
    fn text(&mut self) -> Option<(&'a str, Loc)> {
        let (start, line) = (self.pos, self.line);
        let s = self.raw_string()?;
        let plain = !s.is_empty() && s.len() <= MAX_SCALAR_BYTES && s.trim().len() == s.len();
        plain.then(|| (s, self.loc(start, line)))
    }

    fn bool(&mut self) -> Option<bool> {
        for (word, value) in [("true", true), ("false", false)] {
            if self.text.as_bytes().get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
                self.pos += word.len();
                return Some(value);
            }
        }
        None
    }

    fn date(&mut self) -> Option<DateTime<Utc>> {
        parse_date(self.text()?.0)
    }

    fn list(&mut self) -> Option<Vec<Spanned<String>>> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        self.ws();
        if self.eat(b']').is_some() {
            return Some(items);
        }
        loop {
            self.ws();
            let (s, loc) = self.text()?;
            items.push(Spanned::new(s.to_owned(), loc));
            self.ws();
            if self.eat(b']').is_some() {
                return Some(items);
            }
            self.eat(b',')?;
        }
    }
}

/// The fields of one record as read, before the defaults and sharing of
/// [`super::decode::entitlement`].
#[derive(Default)]
struct Raw<'a> {
    id: Option<&'a str>,
    identity: Option<(&'a str, Loc)>,
    system: Option<(&'a str, Loc)>,
    permission: Option<&'a str>,
    privileged: Option<bool>,
    functions: Option<Vec<Spanned<String>>>,
    granted_at: Option<DateTime<Utc>>,
    last_used: Option<DateTime<Utc>>,
    justification: Option<&'a str>,
    ticket: Option<&'a str>,
    expires_at: Option<DateTime<Utc>>,
    source: Option<&'a str>,
}

/// Sets `slot` to `value`; `None` when the field was already written.
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// The entitlement in `src` (one record's text), when the record is plain; see the
/// module documentation.
pub fn entitlement(src: &Arc<Source>, strings: &mut Interner) -> Option<Entitlement> {
    let mut r = Reader {
        src,
        text: src.text(),
        pos: 0,
        line: src.first_line(),
    };
    r.ws();
    let (start, line) = (r.pos, r.line);
    r.eat(b'{')?;
    let record = Loc {
        src: Arc::clone(src),
        line,
        offset: start,
        len: 1,
    };
    let mut raw = Raw::default();
    r.ws();
    if r.eat(b'}').is_none() {
        loop {
            r.ws();
            let key = r.raw_string()?;
            r.ws();
            r.eat(b':')?;
            r.ws();
            match key {
                "id" => once(&mut raw.id, r.text()?.0)?,
                "identity" => once(&mut raw.identity, r.text()?)?,
                "system" => once(&mut raw.system, r.text()?)?,
                "permission" => once(&mut raw.permission, r.text()?.0)?,
                "privileged" => once(&mut raw.privileged, r.bool()?)?,
                "functions" => once(&mut raw.functions, r.list()?)?,
                "granted_at" => once(&mut raw.granted_at, r.date()?)?,
                "last_used" => once(&mut raw.last_used, r.date()?)?,
                "justification" => once(&mut raw.justification, r.text()?.0)?,
                "ticket" => once(&mut raw.ticket, r.text()?.0)?,
                "expires_at" => once(&mut raw.expires_at, r.date()?)?,
                "source" => once(&mut raw.source, r.text()?.0)?,
                _ => return None,
            }
            r.ws();
            if r.eat(b'}').is_some() {
                break;
            }
            r.eat(b',')?;
        }
    }
    r.ws();
    if r.pos != r.text.len() {
        return None;
    }
    debug_assert_eq!(ENTITLEMENT_FIELDS.len(), 12, "a new field needs a branch above");
    let parts = Parts {
        id: raw.id,
        identity: raw.identity?,
        system: raw.system?,
        permission: raw.permission?,
        privileged: raw.privileged.unwrap_or(false),
        functions: raw.functions.unwrap_or_default(),
        granted_at: raw.granted_at,
        last_used: raw.last_used,
        justification: raw.justification,
        ticket: raw.ticket,
        expires_at: raw.expires_at,
        source: raw.source,
        loc: record,
    };
    Some(parts.assemble(strings))
}

/// The entitlement in one CSV row, when the row is plain: every header a known field
/// named once (empty headers are ignored, as on the general path), `privileged` reading
/// `true` or `false` in any case, dates that parse, and the three required fields present.
/// Cells are trimmed and an empty one is absent, as on the general path; every location is
/// the row's `loc`.
pub fn csv_entitlement<'c>(
    headers: &[(String, Loc)],
    cells: impl Iterator<Item = &'c [u8]>,
    loc: &Loc,
    strings: &mut Interner,
) -> Option<Entitlement> {
    let mut raw: [Option<&str>; 12] = [None; 12];
    let mut seen = [false; 12];
    for ((header, _), cell) in headers.iter().zip(cells) {
        if header.is_empty() {
            continue;
        }
        let field = ENTITLEMENT_FIELDS.iter().position(|f| f == header)?;
        if std::mem::replace(seen.get_mut(field)?, true) {
            return None;
        }
        let cell = std::str::from_utf8(cell).ok()?.trim();
        if !cell.is_empty() {
            *raw.get_mut(field)? = Some(cell);
        }
    }
    let [id, identity, system, permission, privileged, functions, granted_at, last_used, justification, ticket, expires_at, source] =
        raw;
    let privileged = match privileged.map(str::to_ascii_lowercase).as_deref() {
        None => false,
        Some("true") => true,
        Some("false") => false,
        Some(_) => return None,
    };
    let date = |cell: Option<&str>| match cell {
        None => Some(None),
        Some(text) => parse_date(text).map(Some),
    };
    let (granted_at, last_used, expires_at) = (date(granted_at)?, date(last_used)?, date(expires_at)?);
    let functions = functions
        .map(|cell| {
            cell.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Spanned::new(s.to_owned(), loc.clone()))
                .collect()
        })
        .unwrap_or_default();
    let parts = Parts {
        id,
        identity: (identity?, loc.clone()),
        system: (system?, loc.clone()),
        permission: permission?,
        privileged,
        functions,
        granted_at,
        last_used,
        justification,
        ticket,
        expires_at,
        source,
        loc: loc.clone(),
    };
    Some(parts.assemble(strings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Problems;

    /// Every field of `e`, with every location in full (a `Loc`'s debug text shows only
    /// its file and line).
    fn spelled(e: &Entitlement) -> String {
        let at = |l: &Loc| format!("{}:{}+{}/{} in {:?}", l.file(), l.line, l.offset, l.len, l.src.text());
        let functions: Vec<String> = e
            .functions
            .iter()
            .map(|f| format!("{} @ {}", f.value, at(&f.loc)))
            .collect();
        format!(
            "{e:?} | identity @ {} | system @ {} | functions {functions:?} | record @ {}",
            at(&e.identity.loc),
            at(&e.system.loc),
            at(&e.loc)
        )
    }

    /// Both paths on one record: the general path's entitlement (with no problems), and the
    /// direct one's, spelled out.
    fn both(text: &str) -> (Option<String>, Option<String>) {
        let name: Arc<str> = Arc::from("inv.json");
        let src = Source::window_at(&name, text.to_owned(), 7, 3);
        let mut sink = Problems::default();
        let general = crate::json::value(&src)
            .ok()
            .and_then(|node| super::super::decode::entitlement(&node, &mut sink, &mut Interner::default()))
            .filter(|_| sink.0.is_empty())
            .map(|e| spelled(&e));
        let direct = entitlement(&src, &mut Interner::default()).map(|e| spelled(&e));
        (general, direct)
    }

    #[test]
    fn plain_records_decode_as_the_general_path_does() {
        for text in [
            r#"{"id": "e1", "identity": "u1", "system": "erp", "permission": "admin"}"#,
            r#"{"identity":"u1","system":"erp","permission":"AP_Clerk","privileged":true,"functions":["ap","gl"],"granted_at":"2025-01-02","last_used":"2026-09-30T10:00:00Z","justification":"month end","ticket":"CHG-1","expires_at":"2027-01-01","source":"okta"}"#,
            "{\n  \"id\": \"e2\",\n  \"identity\": \"u2\",\n  \"system\": \"crm\",\n  \"permission\": \"read\",\n  \"functions\": [ ],\n  \"privileged\": false\n}",
            r#"  {"id": "é-ü", "identity": "ü", "system": "erp", "permission": "x"}  "#,
            r#"{"id":"e3","identity":"u3","system":"erp","permission":"p","functions":["ap" , "gl"]}"#,
        ] {
            let (general, direct) = both(text);
            assert!(general.is_some(), "the general path reads {text}");
            assert_eq!(direct, general, "{text}");
        }
    }

    /// Both paths on one CSV row under `headers`, as [`both`] does for JSON.
    fn both_csv(headers: &[&str], cells: &[&str]) -> (Option<String>, Option<String>) {
        let name: Arc<str> = Arc::from("entitlements.csv");
        let src = Source::window(&name, format!("{}\n", cells.join(",")), 4);
        let headers: Vec<(String, Loc)> = headers.iter().map(|h| ((*h).to_owned(), src.loc(0, 1))).collect();
        let owned: Vec<String> = cells.iter().map(|c| (*c).to_owned()).collect();
        let mut row = crate::node::csv_row(&src, 0, &headers, &owned);
        if let crate::node::Value::Map(entries) = &mut row.value {
            entries.retain(|(k, _, _)| !k.is_empty());
        }
        let mut sink = Problems::default();
        let general = super::super::decode::entitlement(&row, &mut sink, &mut Interner::default())
            .filter(|_| sink.0.is_empty())
            .map(|e| spelled(&e));
        let bytes = cells.iter().map(|c| c.as_bytes());
        let direct =
            csv_entitlement(&headers, bytes, &src.loc_to_eol(0), &mut Interner::default()).map(|e| spelled(&e));
        (general, direct)
    }

    #[test]
    fn plain_csv_rows_decode_as_the_general_path_does() {
        let all = ENTITLEMENT_FIELDS;
        for (headers, cells) in [
            (
                &["id", "identity", "system", "permission"][..],
                &["e1", "u1", "erp", "admin"][..],
            ),
            (
                all,
                &[
                    "",
                    " u1 ",
                    "erp",
                    "AP",
                    "TRUE",
                    "ap; gl;;",
                    "2025-01-02",
                    " 2026-09-30 ",
                    "need",
                    "",
                    "2027-01-01T00:00:00Z",
                    "okta",
                ][..],
            ),
            (
                &["identity", "", "system", "permission", "privileged"][..],
                &["u1", "ignored", "erp", "p", " false "][..],
            ),
            (
                &["identity", "system", "permission", "ticket"][..],
                &["u1", "erp", "p"][..],
            ),
            (
                &["identity", "system", "permission"][..],
                &["u1", "erp", "p", "extra cell"][..],
            ),
        ] {
            let (general, direct) = both_csv(headers, cells);
            assert!(general.is_some(), "the general path reads {cells:?}");
            assert_eq!(direct, general, "{cells:?}");
        }
    }

    #[test]
    fn csv_rows_that_are_not_plain_are_left_to_the_general_path() {
        for (headers, cells) in [
            (&["identity", "system"][..], &["u1", "erp"][..]),
            (
                &["identity", "system", "permission", "colour"][..],
                &["u1", "erp", "p", "red"][..],
            ),
            (
                &["identity", "system", "permission", "identity"][..],
                &["u1", "erp", "p", "u2"][..],
            ),
            (
                &["identity", "system", "permission", "privileged"][..],
                &["u1", "erp", "p", "yes"][..],
            ),
            (
                &["identity", "system", "permission", "last_used"][..],
                &["u1", "erp", "p", "soon"][..],
            ),
            (&["identity", "system", "permission"][..], &["u1", "  ", "p"][..]),
        ] {
            assert_eq!(both_csv(headers, cells).1, None, "{cells:?}");
        }
    }

    #[test]
    fn anything_not_plain_is_left_to_the_general_path() {
        for text in [
            r#"{"id": "e1", "identity": "u1", "system": "erp"}"#,
            r#"{"id": "e1", "identity": "u1", "system": "erp", "permission": "p", "colour": "red"}"#,
            r#"{"id": "e1", "id": "e2", "identity": "u1", "system": "erp", "permission": "p"}"#,
            r#"{"id": "e\u0031", "identity": "u1", "system": "erp", "permission": "p"}"#,
            r#"{"id": " e1", "identity": "u1", "system": "erp", "permission": "p"}"#,
            r#"{"id": "", "identity": "u1", "system": "erp", "permission": "p"}"#,
            r#"{"id": 7, "identity": "u1", "system": "erp", "permission": "p"}"#,
            r#"{"id": "e1", "identity": "u1", "system": "erp", "permission": "p", "ticket": null}"#,
            r#"{"id": "e1", "identity": "u1", "system": "erp", "permission": "p", "privileged": "yes"}"#,
            r#"{"id": "e1", "identity": "u1", "system": "erp", "permission": "p", "last_used": "yesterday"}"#,
            r#"{"id": "e1", "identity": "u1", "system": "erp", "permission": "p", "functions": "ap"}"#,
            r#"{"id": "e1", "identity": "u1", "system": "erp", "permission": "p"} x"#,
            r#"{"id": "e1", "identity": "u1", "system": "erp", "permission": "p",}"#,
            r#"["e1"]"#,
            "",
        ] {
            assert_eq!(both(text).1, None, "{text}");
        }
    }
}
