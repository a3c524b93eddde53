//! A small document tree in which every value keeps its location, built from YAML, JSON or
//! CSV, and the strict field-by-field decoding helpers records and rules are read with.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::diag::{suggest, Code, Problem, Problems};
use crate::source::{Loc, Source};

/// A value with its location.
#[derive(Debug, Clone)]
pub struct Node {
    /// Where the value starts.
    pub loc: Loc,
    /// The value.
    pub value: Value,
}

/// The value of a node.
#[derive(Debug, Clone)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer, with its text as written (ids keep it: `007` stays `007`).
    Int(i64, Box<str>),
    /// A non-integer number.
    Float(f64),
    /// A string (quoted, or plain and not a number/bool/null).
    Str(String),
    /// A CSV cell: text whose type is decided by the field that reads it.
    Cell(String),
    /// A list.
    Seq(Vec<Node>),
    /// A map, in file order. Keys are strings.
    Map(Vec<(String, Node, Loc)>),
}

impl Node {
    /// What kind of value this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(..) | Value::Float(_) => "a number",
            Value::Str(_) | Value::Cell(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// The map entries, or a shape problem.
    pub fn as_map(&self, what: &str) -> Result<&[(String, Node, Loc)], Problem> {
        match &self.value {
            Value::Map(m) => Ok(m),
            _ => Err(shape(self, &format!("{what} must be a map"))),
        }
    }

    /// The list items, or a shape problem.
    pub fn as_seq(&self, what: &str) -> Result<&[Node], Problem> {
        match &self.value {
            Value::Seq(s) => Ok(s),
            _ => Err(shape(self, &format!("{what} must be a list"))),
        }
    }

    /// The text of a scalar (numbers and booleans as written), or `None` for lists and maps.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) | Value::Cell(s) => Some(s.clone()),
            Value::Int(_, text) => Some(text.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }
}

/// The text of a value where text (an id, a reference, a name) is expected: a string,
/// trimmed; an integer as written. A number with a fraction or exponent, or one beyond
/// 64 bits, is refused rather than rounded into an id; so are booleans, lists and maps.
/// `what` names the field in the message, e.g. `` `identity` ``.
pub fn text_of(node: &Node, what: &str) -> Result<String, Problem> {
    match &node.value {
        Value::Str(s) | Value::Cell(s) => Ok(s.trim().to_owned()),
        Value::Int(_, text) => Ok(text.to_string()),
        Value::Float(_) => Err(Problem::error(
            Code::Shape,
            Some(node.loc.clone()),
            format!("{what} must be a string, found a number that is not a 64-bit integer"),
        )
        .with_label("fraction, exponent or out of range")
        .with_help("quote the value to keep it as text, e.g. `\"1.5e3\"`")),
        Value::Bool(_) => Err(shape(node, &format!("{what} must be a string"))
            .with_help("quote the value to keep it as text, e.g. `\"true\"`")),
        Value::Null | Value::Seq(_) | Value::Map(_) => Err(shape(node, &format!("{what} must be a string"))),
    }
}

fn shape(node: &Node, message: &str) -> Problem {
    Problem::error(
        Code::Shape,
        Some(node.loc.clone()),
        format!("{message}, found {}", node.kind()),
    )
}

/// Reads the fields of one map strictly: unknown keys are reported with a suggestion,
/// required ones when absent, and typed accessors report bad values. Problems go to the
/// shared sink so one record can report several.
pub struct Fields<'a> {
    node: &'a Node,
    entries: &'a [(String, Node, Loc)],
    what: &'a str,
}

impl<'a> Fields<'a> {
    /// Starts reading `node` as a `what` with the `allowed` field names.
    pub fn new(node: &'a Node, what: &'a str, allowed: &[&str], sink: &mut Problems) -> Option<Self> {
        let entries = match node.as_map(what) {
            Ok(e) => e,
            Err(p) => {
                sink.push(p);
                return None;
            }
        };
        for (key, _, key_loc) in entries {
            if !allowed.contains(&key.as_str()) {
                sink.push(
                    Problem::error(
                        Code::UnknownField,
                        Some(key_loc.clone()),
                        format!("unknown field `{key}` in {what}"),
                    )
                    .with_label("not a field of this record")
                    .with_help(suggest(key, allowed)),
                );
            }
        }
        Some(Self { node, entries, what })
    }

    /// Location of the whole map.
    pub fn loc(&self) -> &Loc {
        &self.node.loc
    }

    /// The node of `key`, if present and not null (an empty CSV cell counts as absent).
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, n, _)| n)
            .filter(|n| match &n.value {
                Value::Null => false,
                Value::Cell(s) => !s.trim().is_empty(),
                _ => true,
            })
    }

    fn missing(&self, key: &str) -> Problem {
        Problem::error(
            Code::MissingField,
            Some(self.node.loc.clone()),
            format!("{} is missing required field `{key}`", self.what),
        )
        .with_help(format!("add `{key}:` to this {}", self.what))
    }

    /// A required string.
    pub fn req_str(&self, key: &str, sink: &mut Problems) -> Option<Spanned<String>> {
        match self.get(key) {
            None => {
                sink.push(self.missing(key));
                None
            }
            Some(_) => self.opt_str(key, sink),
        }
    }

    /// An optional string. An integer is read as its text as written (ids like `1001`);
    /// any other number, a boolean, a list or a map is a DT102 problem (see [`text_of`]).
    pub fn opt_str(&self, key: &str, sink: &mut Problems) -> Option<Spanned<String>> {
        let node = self.get(key)?;
        match text_of(node, &format!("`{key}`")) {
            Ok(s) => Some(Spanned::new(s, node.loc.clone())),
            Err(p) => {
                sink.push(p);
                None
            }
        }
    }

    /// An optional boolean; CSV cells accept `true`/`false` in any case.
    pub fn opt_bool(&self, key: &str, sink: &mut Problems) -> Option<bool> {
        let node = self.get(key)?;
        match &node.value {
            Value::Bool(b) => Some(*b),
            Value::Cell(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                other => {
                    sink.push(
                        Problem::error(
                            Code::BadValue,
                            Some(node.loc.clone()),
                            format!("`{key}` must be `true` or `false`, found `{other}`"),
                        )
                        .with_help("write `true` or `false`"),
                    );
                    None
                }
            },
            _ => {
                sink.push(
                    shape(node, &format!("`{key}` must be `true` or `false`"))
                        .with_help("write `true` or `false` without quotes"),
                );
                None
            }
        }
    }

    /// A required date.
    pub fn req_date(&self, key: &str, sink: &mut Problems) -> Option<DateTime<Utc>> {
        if self.get(key).is_none() {
            sink.push(self.missing(key));
            return None;
        }
        self.opt_date(key, sink)
    }

    /// An optional date: `YYYY-MM-DD` (midnight UTC) or RFC 3339.
    pub fn opt_date(&self, key: &str, sink: &mut Problems) -> Option<DateTime<Utc>> {
        let node = self.get(key)?;
        let Some(text) = node.scalar_text() else {
            sink.push(shape(node, &format!("`{key}` must be a date")));
            return None;
        };
        match parse_date(&text) {
            Some(d) => Some(d),
            None => {
                sink.push(
                    Problem::error(
                        Code::BadDate,
                        Some(node.loc.clone()),
                        format!("`{key}` is not a valid date: `{text}`"),
                    )
                    .with_label("not a date")
                    .with_help("write `YYYY-MM-DD` or an RFC 3339 timestamp such as `2026-10-01T00:00:00Z`"),
                );
                None
            }
        }
    }

    /// An optional list of strings; a CSV cell is split on `;`.
    pub fn opt_list(&self, key: &str, sink: &mut Problems) -> Vec<Spanned<String>> {
        let Some(node) = self.get(key) else {
            return Vec::new();
        };
        match &node.value {
            Value::Cell(s) => s
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Spanned::new(s.to_owned(), node.loc.clone()))
                .collect(),
            Value::Str(s) => vec![Spanned::new(s.trim().to_owned(), node.loc.clone())],
            Value::Seq(items) => items
                .iter()
                .filter(|item| !matches!(item.value, Value::Null))
                .filter_map(|item| match text_of(item, &format!("items of `{key}`")) {
                    Ok(s) => Some(Spanned::new(s, item.loc.clone())),
                    Err(p) => {
                        sink.push(p);
                        None
                    }
                })
                .collect(),
            _ => {
                sink.push(shape(node, &format!("`{key}` must be a list of strings")));
                Vec::new()
            }
        }
    }

    /// An optional string-to-string map; a CSV cell reads `k=v;k2=v2`.
    pub fn opt_map(&self, key: &str, sink: &mut Problems) -> Vec<(String, String)> {
        let Some(node) = self.get(key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match &node.value {
            Value::Cell(s) => {
                for pair in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                    match pair.split_once('=') {
                        Some((k, v)) => out.push((k.trim().to_owned(), v.trim().to_owned())),
                        None => sink.push(
                            Problem::error(
                                Code::BadValue,
                                Some(node.loc.clone()),
                                format!("`{key}` entry `{pair}` is not `key=value`"),
                            )
                            .with_help("write tags in CSV as `key=value;key2=value2`"),
                        ),
                    }
                }
            }
            Value::Map(entries) => {
                for (k, v, _) in entries {
                    match v.scalar_text() {
                        Some(t) => out.push((k.clone(), t)),
                        None => sink.push(shape(v, &format!("values of `{key}` must be strings"))),
                    }
                }
            }
            _ => sink.push(shape(node, &format!("`{key}` must be a map of strings"))),
        }
        out.sort();
        out
    }

    /// An optional value out of a fixed set.
    pub fn opt_enum<T: Copy>(&self, key: &str, choices: &[(&str, T)], sink: &mut Problems) -> Option<T> {
        let s = self.opt_str(key, sink)?;
        if let Some((_, v)) = choices.iter().find(|(name, _)| *name == s.value) {
            return Some(*v);
        }
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        sink.push(
            Problem::error(
                Code::BadValue,
                Some(s.loc.clone()),
                format!("unknown {key} `{}` in {}", s.value, self.what),
            )
            .with_label("not an allowed value")
            .with_help(suggest(&s.value, &names)),
        );
        None
    }
}

/// A value and where it was written.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Its location.
    pub loc: Loc,
}

impl<T> Spanned<T> {
    /// Pairs a value with a location.
    pub fn new(value: T, loc: Loc) -> Self {
        Self { value, loc }
    }
}

/// Parses `YYYY-MM-DD` (as midnight UTC) or an RFC 3339 timestamp.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    // The common `YYYY-MM-DD` without chrono's format-string parser (hot when loading
    // millions of records); anything else takes the general path below.
    if let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = text.as_bytes() {
        let (year, month, day) = ([*y1, *y2, *y3, *y4], [*m1, *m2], [*d1, *d2]);
        if year.iter().chain(&month).chain(&day).all(u8::is_ascii_digit) {
            let n = |ds: &[u8]| ds.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
            let (y, m, d) = (n(&year), n(&month), n(&day));
            let date = i32::try_from(y).ok().and_then(|y| NaiveDate::from_ymd_opt(y, m, d));
            return date.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|dt| dt.and_utc());
        }
    }
    // A longer text is never a bare date: RFC 3339 first (an evidence pack writes every
    // date so), without trying chrono's slower format-string parser on it.
    if text.len() > 10 {
        if let Ok(d) = DateTime::parse_from_rfc3339(text) {
            return Some(d.with_timezone(&Utc));
        }
    }
    // (RFC 3339 needs more than ten characters, so it has been tried when it could match.)
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc())
}

/// Builds a map node for one CSV row: each cell keeps the row's line.
pub fn csv_row(src: &Arc<Source>, offset: usize, headers: &[(String, Loc)], cells: &[String]) -> Node {
    let loc = src.loc_to_eol(offset);
    let entries = headers
        .iter()
        .zip(cells)
        .map(|((h, _), c)| {
            (
                h.clone(),
                Node {
                    loc: loc.clone(),
                    value: Value::Cell(c.clone()),
                },
                loc.clone(),
            )
        })
        .collect();
    Node {
        loc,
        value: Value::Map(entries),
    }
}

/// [`csv_row`] with each cell located at its own text (inside its quotes) rather than at
/// the row, so a diagnostic about one cell of a wide row points at that cell. The row is
/// the raw text at `offset`, its fields separated by `delimiter`.
pub fn csv_row_cells(
    src: &Arc<Source>,
    offset: usize,
    delimiter: u8,
    headers: &[(String, Loc)],
    cells: &[String],
) -> Node {
    let spans = field_spans(src.text().as_bytes(), offset, delimiter, cells.len());
    let mut row = csv_row(src, offset, headers, cells);
    if let Value::Map(entries) = &mut row.value {
        for ((_, node, _), (start, len)) in entries.iter_mut().zip(spans) {
            node.loc = src.loc(start, len);
        }
    }
    row
}

/// Byte spans of the first `n` fields of the CSV record at `from` (a quoted field's span is
/// its text inside the quotes); fewer when the record ends first.
fn field_spans(text: &[u8], from: usize, delimiter: u8, n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(n);
    let mut at = from;
    while out.len() < n {
        let quoted = text.get(at) == Some(&b'"');
        let (start, end, next) = if quoted {
            let mut i = at + 1;
            loop {
                match (text.get(i), text.get(i + 1)) {
                    (Some(b'"'), Some(b'"')) => i += 2,
                    (Some(b'"'), _) | (None, _) => break,
                    _ => i += 1,
                }
            }
            let close = i;
            let mut j = close + 1;
            while let Some(&b) = text.get(j) {
                if b == delimiter || b == b'\n' || b == b'\r' {
                    break;
                }
                j += 1;
            }
            (at + 1, close.min(text.len()), j)
        } else {
            let mut j = at;
            while let Some(&b) = text.get(j) {
                if b == delimiter || b == b'\n' || b == b'\r' {
                    break;
                }
                j += 1;
            }
            (at, j, j)
        };
        out.push((start, end.saturating_sub(start)));
        if text.get(next) != Some(&delimiter) {
            break;
        }
        at = next + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn csv_cells_are_located_at_their_own_text() {
        let text = "id;name;note\n7;\"M\u{fc}ller; \"\"Max\"\"\";x\n";
        let src = crate::source::Source::new("hr.csv", text);
        let headers: Vec<(String, crate::source::Loc)> = ["id", "name", "note"]
            .iter()
            .map(|h| ((*h).to_owned(), src.whole()))
            .collect();
        let cells = ["7".to_owned(), "M\u{fc}ller; \"Max\"".to_owned(), "x".to_owned()];
        let row = super::csv_row_cells(&src, 13, b';', &headers, &cells);
        let super::Value::Map(entries) = &row.value else {
            panic!("a row is a map");
        };
        let at: Vec<&str> = entries
            .iter()
            .map(|(_, n, _)| text.get(n.loc.offset..n.loc.offset + n.loc.len).unwrap_or("?"))
            .collect();
        assert_eq!(at, ["7", "M\u{fc}ller; \"\"Max\"\"", "x"]);
        assert!(entries.iter().all(|(_, n, _)| n.loc.line == 2));
    }

    #[test]
    fn dates_parse_in_both_forms_and_reject_nonsense() {
        let day = |s: &str| parse_date(s).map(|d| d.to_rfc3339());
        assert_eq!(day("2026-10-01").as_deref(), Some("2026-10-01T00:00:00+00:00"));
        assert_eq!(day(" 2024-02-29 ").as_deref(), Some("2024-02-29T00:00:00+00:00"));
        assert_eq!(
            day("2026-10-01T12:30:00+02:00").as_deref(),
            Some("2026-10-01T10:30:00+00:00")
        );
        assert_eq!(day("2025-02-29"), None);
        assert_eq!(day("2026-13-01"), None);
        assert_eq!(day("2026-1x-01"), None);
        assert_eq!(day("yesterday"), None);
    }
}
