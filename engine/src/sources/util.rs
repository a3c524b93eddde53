//! Small readers the importers share: lenient field access on export JSON (exports carry
//! many fields dualtrack does not use), export date styles, and the base64 and
//! URL-encoding that AWS wraps its documents in.

use chrono::{DateTime, Utc};

use crate::diag::{Code, Problem, Problems};
use crate::node::{Node, Value};

/// The value of `key` in the map `node`, unless absent or `null`.
pub fn get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, n, _)| n)
            .filter(|n| !matches!(n.value, Value::Null)),
        _ => None,
    }
}

/// The text of the scalar at `key`, trimmed; `None` when absent or empty.
pub fn text(node: &Node, key: &str) -> Option<String> {
    get(node, key)
        .and_then(Node::scalar_text)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The boolean at `key` (`true`/`false`, also as strings).
pub fn boolean(node: &Node, key: &str) -> Option<bool> {
    match &get(node, key)?.value {
        Value::Bool(b) => Some(*b),
        Value::Str(s) | Value::Cell(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The items of the list at `key` (empty when absent or not a list).
pub fn items<'a>(node: &'a Node, key: &str) -> &'a [Node] {
    match get(node, key).map(|n| &n.value) {
        Some(Value::Seq(items)) => items,
        _ => &[],
    }
}

/// Values exports write where they have no date: AWS `N/A`, `no_information` and
/// `not_supported`, Microsoft's `0001-01-01T00:00:00Z`, and an empty string.
pub fn is_absent(text: &str) -> bool {
    let t = text.trim();
    t.is_empty()
        || t.eq_ignore_ascii_case("N/A")
        || t.eq_ignore_ascii_case("no_information")
        || t.eq_ignore_ascii_case("not_supported")
        || t.starts_with("0001-01-01")
}

/// An export date: `YYYY-MM-DD`, RFC 3339 with `T` or a space between date and time,
/// `Z` or an offset, and any number of fractional digits; `None` for an absent value.
pub fn date(text: &str) -> Option<DateTime<Utc>> {
    if is_absent(text) {
        return None;
    }
    let t = text.trim();
    if let Some(d) = crate::node::parse_date(t) {
        return Some(d);
    }
    // `2019-12-18 19:10:08+00:00` (the AWS CLI's style): a space for the `T`.
    let fixed: String = t
        .char_indices()
        .map(|(i, c)| if i == 10 && c == ' ' { 'T' } else { c })
        .collect();
    crate::node::parse_date(&fixed)
}

/// The date at `key` of a JSON record: absent values are `None`, and a value that is not
/// a date is a DT107 problem (never read as "no date").
pub fn date_at(node: &Node, key: &str, sink: &mut Problems) -> Option<DateTime<Utc>> {
    let n = get(node, key)?;
    let t = n.scalar_text()?;
    date_text(&t, n, key, sink)
}

/// Parses `t` read from `node` (a CSV cell or JSON value) at `key`.
pub fn date_text(t: &str, node: &Node, key: &str, sink: &mut Problems) -> Option<DateTime<Utc>> {
    if is_absent(t) {
        return None;
    }
    let d = date(t);
    if d.is_none() {
        sink.push(
            Problem::error(
                Code::BadDate,
                Some(node.loc.clone()),
                format!("`{key}` is not a date: `{}`", t.trim()),
            )
            .with_label("not a date")
            .with_help("exports write RFC 3339 (`2026-10-01T09:30:00Z`), `2026-10-01 09:30:00+00:00` or `N/A`"),
        );
    }
    d
}

/// Decodes standard base64 (whitespace ignored, padding optional); `None` when invalid.
pub fn base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap_or(0));
        }
    }
    Some(out)
}

/// Decodes `%XX` escapes (AWS returns policy documents URL-encoded); `+` stays `+`.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|h| (*h as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The header and rows of an export CSV: every column is kept (an export has columns
/// dualtrack does not use), each row a located map of cells.
pub fn csv(src: &std::sync::Arc<crate::source::Source>, sink: &mut Problems) -> (Vec<String>, Vec<Node>) {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(src.text().as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_owned()).collect(),
        Err(e) => {
            sink.push(crate::inventory::load::csv_error(src, &e));
            return (Vec::new(), Vec::new());
        }
    };
    let allowed: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows = crate::inventory::load::csv_rows(src, "export", &allowed, sink);
    (headers, rows)
}

/// The AWS account id in an ARN (`arn:aws:iam::123456789012:user/alice`).
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_dates_in_every_style_and_absent_markers() {
        let d = |s: &str| date(s).map(|d| d.to_rfc3339());
        let want = Some("2019-12-18T19:10:08+00:00".to_owned());
        assert_eq!(d("2019-12-18 19:10:08+00:00"), want);
        assert_eq!(d("2019-12-18T19:10:08+00:00"), want);
        assert_eq!(d("2019-12-18T19:10:08Z"), want);
        assert_eq!(
            d("2024-03-01T10:00:00.1234567Z").as_deref(),
            Some("2024-03-01T10:00:00.123456700+00:00")
        );
        for absent in ["N/A", "no_information", "not_supported", "", "0001-01-01T00:00:00Z"] {
            assert_eq!(d(absent), None, "{absent}");
        }
        assert_eq!(d("last tuesday"), None);
    }

    #[test]
    fn base64_and_percent_decoding() {
        assert_eq!(base64("dXNlcixhcm4K").as_deref(), Some(&b"user,arn\n"[..]));
        assert_eq!(base64("dXNlcg=="), Some(b"user".to_vec()));
        assert_eq!(base64("not base64!"), None);
        assert_eq!(percent_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
