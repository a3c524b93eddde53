//! Small readers the importers share: lenient field access on export JSON (exports carry
//! many fields dualtrack does not use), export date styles, and the base64 and
//! URL-encoding that AWS wraps its documents in.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::diag::{Code, Problem, Problems};
use crate::node::{Node, Value};

/// The value of `key` in the map `node`, unless absent or `null`. The key is matched as
/// written, else in any case (Microsoft Graph PowerShell writes `PasswordCredentials` for
/// Graph's `passwordCredentials`), else inside the map's `AdditionalProperties` bag, where
/// the PowerShell SDK keeps what its model lacks (`@odata.type`, a member's
/// `userPrincipalName`).
pub fn get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    own(node, key).or_else(|| own(own(node, "AdditionalProperties")?, key))
}

/// `key` in the map `node` itself, as written or else in any case, unless `null`.
fn own<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    let Value::Map(entries) = &node.value else {
        return None;
    };
    entries
        .iter()
        .find(|(k, _, _)| k == key)
        .or_else(|| entries.iter().find(|(k, _, _)| k.eq_ignore_ascii_case(key)))
        .map(|(_, n, _)| n)
        .filter(|n| !matches!(n.value, Value::Null))
}

/// The value at `key` when ConvertTo-Json cut it off: past its `-Depth` (2 by default in
/// Windows PowerShell 5.1) a nested object is written as its .NET type name
/// (`Microsoft.Graph.PowerShell.Models.MicrosoftGraphPasswordCredential`) or as
/// `System.Collections…`, so what it held is lost.
pub fn cut_by_depth<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    let n = get(node, key)?;
    let looks_cut = |s: &str| {
        let s = s.trim();
        s.starts_with("Microsoft.Graph.") || s.starts_with("System.Collections") || s.starts_with("System.Object[]")
    };
    match &n.value {
        Value::Str(s) if looks_cut(s) => Some(n),
        Value::Seq(items) if items.iter().any(|i| matches!(&i.value, Value::Str(s) if looks_cut(s))) => Some(n),
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

/// The items of the list at `key` (empty when absent or not a list). An object where a
/// list belongs is a list of one: ConvertTo-Json writes a one-item list that way.
pub fn items<'a>(node: &'a Node, key: &str) -> &'a [Node] {
    match get(node, key) {
        Some(Node {
            value: Value::Seq(items),
            ..
        }) => items,
        Some(
            one @ Node {
                value: Value::Map(_), ..
            },
        ) => std::slice::from_ref(one),
        _ => &[],
    }
}

/// Values exports write where they have no date: AWS `N/A`, `no_information` and
/// `not_supported`, Microsoft's `0001-01-01T00:00:00Z`, SAP's `00000000`, an empty string,
/// and the "no end" markers `9999-12-31` and `99991231` (an end date that never comes is
/// no end date, not a real one).
pub fn is_absent(text: &str) -> bool {
    let t = text.trim();
    t.is_empty()
        || t.eq_ignore_ascii_case("N/A")
        || t.eq_ignore_ascii_case("no_information")
        || t.eq_ignore_ascii_case("not_supported")
        || t.starts_with("0001-01-01")
        || t == "00000000"
        || t.starts_with("9999-12-31")
        || t == "99991231"
}

/// An export date: `YYYY-MM-DD`, RFC 3339 with `T` or a space between date and time,
/// `Z` or an offset, and any number of fractional digits; Microsoft's JSON date
/// `/Date(ms)/` (as Windows PowerShell 5.1 writes it); `YYYYMMDD`; `None` for an absent
/// value or another form.
pub fn date(text: &str) -> Option<DateTime<Utc>> {
    if is_absent(text) {
        return None;
    }
    let t = text.trim();
    if let Some(d) = crate::node::parse_date(t) {
        return Some(d);
    }
    if let Some(d) = microsoft_json_date(t) {
        return Some(d);
    }
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(t, "%Y%m%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|dt| dt.and_utc());
    }
    // `2019-12-18 19:10:08+00:00` (the AWS CLI's style): a space for the `T`.
    let fixed: String = t
        .char_indices()
        .map(|(i, c)| if i == 10 && c == ' ' { 'T' } else { c })
        .collect();
    crate::node::parse_date(&fixed)
}

/// `/Date(1733343742000)/`, `/Date(1733343742000+0100)/` or `/Date(-2208988800000)/`:
/// milliseconds since 1970 UTC (an offset only says where it was written). The slashes may
/// carry the backslashes of an extra round of escaping (`\/Date(…)\/`).
fn microsoft_json_date(t: &str) -> Option<DateTime<Utc>> {
    let plain: String = t.chars().filter(|c| *c != '\\').collect();
    let inner = plain.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let digits_end = inner
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || (*i == 0 && *c == '-')))
        .map_or(inner.len(), |(i, _)| i);
    let (ms, offset) = inner.split_at(digits_end);
    let offset_ok = offset.is_empty()
        || (offset.len() == 5 && offset.starts_with(['+', '-']) && offset.bytes().skip(1).all(|b| b.is_ascii_digit()));
    if !offset_ok {
        return None;
    }
    DateTime::from_timestamp_millis(ms.parse().ok()?)
}

/// Patterns a date written with `/` or `.` may follow, for the help of DT107: which are
/// possible given the value (a part above 12 cannot be a month).
fn candidate_patterns(t: &str) -> Vec<String> {
    let sep = if t.contains('/') { '/' } else { '.' };
    let mut words = t.split_whitespace();
    let date_part = words.next().unwrap_or_default();
    // A time of day after the date: `9:30`, `9:30:00`, with `AM`/`PM` or not.
    let time = words.next().map(|clock| {
        let twelve = words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("AM") || w.eq_ignore_ascii_case("PM"));
        let hour = if twelve { "%I" } else { "%H" };
        let seconds = if clock.matches(':').count() >= 2 { ":%S" } else { "" };
        format!(" {hour}:%M{seconds}{}", if twelve { " %p" } else { "" })
    });
    let time = time.unwrap_or_default();
    let parts: Vec<&str> = date_part.split(sep).collect();
    let [a, b, c] = parts.as_slice() else {
        return Vec::new();
    };
    let num = |s: &str| s.parse::<u32>().ok();
    let year = |s: &str| if s.len() == 4 { "%Y" } else { "%y" };
    let mut out = Vec::new();
    if a.len() == 4 {
        out.push(format!("%Y{sep}%m{sep}%d{time}"));
    } else {
        let (na, nb) = (num(a).unwrap_or(0), num(b).unwrap_or(0));
        if na <= 12 && sep == '/' {
            out.push(format!("%m{sep}%d{sep}{}{time}", year(c)));
        }
        if nb <= 12 {
            out.push(format!("%d{sep}%m{sep}{}{time}", year(c)));
        }
        if na <= 12 && sep == '.' {
            out.push(format!("%m{sep}%d{sep}{}{time}", year(c)));
        }
    }
    out
}

/// A date in one of the source's `date_format` patterns (chrono's, as `%m/%d/%Y`), with or
/// without a time of day.
fn date_in(t: &str, formats: &[String]) -> Option<DateTime<Utc>> {
    formats.iter().find_map(|f| {
        NaiveDateTime::parse_from_str(t, f)
            .map(|dt| dt.and_utc())
            .or_else(|_| NaiveDate::parse_from_str(t, f).map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()))
            .ok()
    })
}

/// The date at `key` of a JSON record: absent values are `None`, and a value that is not
/// a date is a DT107 problem (never read as "no date").
pub fn date_at(node: &Node, key: &str, sink: &mut Problems) -> Option<DateTime<Utc>> {
    date_in_formats(node, key, &[], sink)
}

/// [`date_at`], also reading the source's `formats`.
pub fn date_in_formats(node: &Node, key: &str, formats: &[String], sink: &mut Problems) -> Option<DateTime<Utc>> {
    let n = get(node, key)?;
    let t = n.scalar_text()?;
    date_text(&t, n, key, formats, sink)
}

/// Parses `t` read from `node` (a CSV cell or JSON value) at `key`, in the forms [`date`]
/// reads or one of the source's `formats`.
pub fn date_text(t: &str, node: &Node, key: &str, formats: &[String], sink: &mut Problems) -> Option<DateTime<Utc>> {
    if is_absent(t) {
        return None;
    }
    let t = t.trim();
    let d = date(t).or_else(|| date_in(t, formats));
    if d.is_none() {
        let local = t.contains('/') || (t.contains('.') && !t.contains('-'));
        let candidates = if local { candidate_patterns(t) } else { Vec::new() };
        let help = if !formats.is_empty() {
            let given: Vec<String> = formats.iter().map(|f| format!("`{f}`")).collect();
            format!(
                "it matches none of the source's `date_format` patterns ({})",
                given.join(", ")
            )
        } else if candidates.is_empty() {
            "exports write RFC 3339 (`2026-10-01T09:30:00Z`), `2026-10-01 09:30:00+00:00` or `N/A`; \
             for another form, set the source's `date_format` (a chrono pattern such as `%m/%d/%Y`)"
                .to_owned()
        } else {
            let quoted: Vec<String> = candidates.iter().map(|c| format!("\"{c}\"")).collect();
            format!(
                "`{t}` is a local date form: say which it is with the source's `date_format`, e.g. \
                 `date_format: [{}]`",
                quoted.join(", ")
            )
        };
        sink.push(
            Problem::error(
                Code::BadDate,
                Some(node.loc.clone()),
                format!("`{key}` is not a date: `{t}`"),
            )
            .with_label("not a date")
            .with_help(help),
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
/// dualtrack does not use), each row a located map of cells. The fields are separated by
/// the source's `delimiter`, else by what the header uses most of `,`, `;` (Excel in
/// European locales), tab and `|`; a first line `#TYPE …` (Windows PowerShell 5.1's
/// `Export-Csv` without `-NoTypeInformation`) is not data.
pub fn csv(
    src: &std::sync::Arc<crate::source::Source>,
    delimiter: Option<u8>,
    sink: &mut Problems,
) -> (Vec<String>, Vec<Node>) {
    let text = src.text();
    let start = if text.starts_with("#TYPE") {
        text.find('\n').map_or(text.len(), |i| i + 1)
    } else {
        0
    };
    let body = text.get(start..).unwrap_or_default();
    let delimiter = delimiter.unwrap_or_else(|| crate::inventory::load::delimiter_of(body));
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .delimiter(delimiter)
        .from_reader(body.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
            .collect(),
        Err(e) => {
            sink.push(crate::inventory::load::csv_error(src, &e));
            return (Vec::new(), Vec::new());
        }
    };
    let allowed: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows = crate::inventory::load::csv_rows_from(src, start, delimiter, true, "export", &allowed, sink);
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
