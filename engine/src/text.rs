//! Reading user files as text. The encoding is decided once, here, where a file is opened:
//! a byte-order mark decides (UTF-8, or UTF-16 as Windows PowerShell 5.1 writes it); a file
//! without one is UTF-8 unless its source declares another encoding (`utf-16le`,
//! `utf-16be`, `windows-1252`, `latin1`: Excel's "CSV" on Windows writes the ANSI code
//! page). UTF-32, and UTF-16 without a mark or a declaration, are refused with a diagnostic
//! that says what to do; a NUL byte means the file is not text; text invalid in its
//! encoding is reported with its line and byte offset. Line numbers are those of the file.
//! Every error is DT113 (`encoding`).

use std::path::Path;
use std::sync::Arc;

use crate::diag::{Code, Problem};
use crate::source::Source;

/// The UTF-8 byte-order mark that Windows tools (PowerShell, Excel's "CSV UTF-8") write.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// An encoding a source can declare for files without a byte-order mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (the default).
    Utf8,
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// Windows code page 1252 (Western European "ANSI").
    Windows1252,
    /// ISO 8859-1.
    Latin1,
}

crate::names!(Encoding {
    Utf8 = "utf-8",
    Utf16Le = "utf-16le",
    Utf16Be = "utf-16be",
    Windows1252 = "windows-1252",
    Latin1 = "latin1",
});

impl Encoding {
    /// The encoding named `name`, in any case, with or without `-`/`_` (`UTF8`, `cp1252`,
    /// `ISO-8859-1` too).
    pub fn parse(name: &str) -> Option<Encoding> {
        let key: String = name
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect::<String>()
            .to_ascii_lowercase();
        match key.as_str() {
            "utf8" => Some(Encoding::Utf8),
            "utf16le" | "utf16" | "unicode" => Some(Encoding::Utf16Le),
            "utf16be" | "bigendianunicode" => Some(Encoding::Utf16Be),
            "windows1252" | "cp1252" | "ansi" => Some(Encoding::Windows1252),
            "latin1" | "iso88591" => Some(Encoding::Latin1),
            _ => None,
        }
    }
}

/// What a file's first bytes say about its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// UTF-8 (or ASCII); `bom` bytes of byte-order mark to skip (0 or 3).
    Utf8 {
        /// Length of the byte-order mark.
        bom: usize,
    },
    /// UTF-16 with a byte-order mark: read whole by [`decode`], never streamed.
    Utf16 {
        /// Big-endian (`FE FF`) rather than little-endian (`FF FE`).
        big_endian: bool,
    },
    /// An encoding dualtrack does not read without a declaration, by name.
    Other(&'static str),
}

impl Sniffed {
    /// True when the streaming readers can take the file as it is: UTF-8, or an encoding
    /// they refuse with the same diagnostic [`decode`] gives.
    pub fn streamable(self) -> bool {
        !matches!(self, Sniffed::Utf16 { .. })
    }

    /// The name of the encoding, for a refusal.
    pub fn name(self) -> &'static str {
        match self {
            Sniffed::Utf8 { .. } => "UTF-8",
            Sniffed::Utf16 { big_endian: false } => "UTF-16LE",
            Sniffed::Utf16 { big_endian: true } => "UTF-16BE",
            Sniffed::Other(name) => name,
        }
    }
}

/// Decides the encoding from the first bytes of a file (up to 64 are looked at).
pub fn sniff(head: &[u8]) -> Sniffed {
    match head {
        [0x00, 0x00, 0xFE, 0xFF, ..] => Sniffed::Other("UTF-32BE"),
        [0xFF, 0xFE, 0x00, 0x00, ..] => Sniffed::Other("UTF-32LE"),
        [0xFE, 0xFF, ..] => Sniffed::Utf16 { big_endian: true },
        [0xFF, 0xFE, ..] => Sniffed::Utf16 { big_endian: false },
        [0xEF, 0xBB, 0xBF, ..] => Sniffed::Utf8 { bom: 3 },
        _ => utf16_without_bom(head).map_or(Sniffed::Utf8 { bom: 0 }, Sniffed::Other),
    }
}

/// [`sniff`] of the first bytes of the file at `path`; UTF-8 when it cannot be read (the
/// reader that opens it then reports why).
pub fn sniff_file(path: &Path) -> Sniffed {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(64);
    let read = std::fs::File::open(path).and_then(|f| f.take(64).read_to_end(&mut head));
    match read {
        Ok(_) => sniff(&head),
        Err(_) => Sniffed::Utf8 { bom: 0 },
    }
}

/// UTF-16 text without a byte-order mark: ASCII characters alternate with NUL bytes.
fn utf16_without_bom(head: &[u8]) -> Option<&'static str> {
    let pairs: Vec<&[u8]> = head.chunks_exact(2).take(32).collect();
    if pairs.len() < 2 {
        return None;
    }
    let all = |f: fn(u8, u8) -> bool| pairs.iter().all(|p| matches!(p, [a, b] if f(*a, *b)));
    if all(|a, b| a != 0 && a < 0x80 && b == 0) {
        Some("UTF-16LE")
    } else if all(|a, b| a == 0 && b != 0 && b < 0x80) {
        Some("UTF-16BE")
    } else {
        None
    }
}

/// The refusal of a file in `encoding`, at its first line.
pub fn refused(name: &str, encoding: &str) -> Problem {
    let src = Source::new(name, "");
    Problem::error(
        Code::Encoding,
        Some(src.whole()),
        format!("file is {encoding}, not UTF-8"),
    )
    .with_help(format!(
        "save it as UTF-8 (`iconv -f {encoding} -t UTF-8 FILE > FILE.utf8`), or for an export \
         listed in a sources file declare it: `encoding: {}`",
        encoding.to_ascii_lowercase()
    ))
}

/// A NUL byte at `offset` of `src` (a byte offset in the file is `file_offset`).
pub fn nul_byte(src: &Arc<Source>, offset: usize, file_offset: u64) -> Problem {
    Problem::error(
        Code::Encoding,
        Some(src.loc(offset, 1)),
        format!("file is not text: NUL byte at byte offset {file_offset}"),
    )
    .with_label("NUL byte")
    .with_help("dualtrack reads UTF-8 text files; check that this is the file you meant")
}

/// Invalid UTF-8 at `offset` of `src` (`file_offset` in the file).
pub fn invalid_utf8(src: &Arc<Source>, offset: usize, file_offset: u64) -> Problem {
    Problem::error(
        Code::Encoding,
        Some(src.loc(offset, 1)),
        format!("file is not valid UTF-8 at byte offset {file_offset}"),
    )
    .with_label("not UTF-8")
    .with_help("save the file as UTF-8 (in Excel: \"CSV UTF-8\")")
}

/// Decodes the bytes of the file `name`: UTF-8 or UTF-16 by its byte-order mark (which is
/// removed), else UTF-8; or the DT113 problem that says why it is not read.
pub fn decode(name: impl Into<String>, bytes: Vec<u8>) -> Result<Arc<Source>, Problem> {
    decode_as(name, bytes, None)
}

/// [`decode`], reading a file without a byte-order mark as `declared` when given.
pub fn decode_as(
    name: impl Into<String>,
    mut bytes: Vec<u8>,
    declared: Option<Encoding>,
) -> Result<Arc<Source>, Problem> {
    let name = name.into();
    let sniffed = sniff(bytes.get(..64).unwrap_or(&bytes));
    let encoding = match (sniffed, declared) {
        (Sniffed::Utf8 { bom: 3 }, _) => Encoding::Utf8,
        (Sniffed::Utf16 { big_endian }, _) => {
            bytes.drain(..2);
            return utf16(name, &bytes, big_endian, 2);
        }
        (Sniffed::Other(encoding), None) => return Err(refused(&name, encoding)),
        (_, Some(declared)) => declared,
        (Sniffed::Utf8 { .. }, None) => Encoding::Utf8,
    };
    match encoding {
        Encoding::Utf8 => utf8(name, bytes),
        Encoding::Utf16Le => utf16(name, &bytes, false, 0),
        Encoding::Utf16Be => utf16(name, &bytes, true, 0),
        Encoding::Windows1252 => single_byte(name, &bytes, Encoding::Windows1252),
        Encoding::Latin1 => single_byte(name, &bytes, Encoding::Latin1),
    }
}

/// UTF-8 text, its byte-order mark (if any) removed.
fn utf8(name: String, mut bytes: Vec<u8>) -> Result<Arc<Source>, Problem> {
    let bom = if bytes.starts_with(UTF8_BOM) { 3 } else { 0 };
    bytes.drain(..bom);
    let file_offset = |at: usize| (at + bom) as u64;
    if let Some(at) = memchr::memchr(0, &bytes) {
        let src = Source::new(name, String::from_utf8_lossy(&bytes).into_owned());
        return Err(nul_byte(&src, at, file_offset(at)));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source::new(name, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let src = Source::new(name, String::from_utf8_lossy(e.as_bytes()).into_owned());
            Err(invalid_utf8(&src, at, file_offset(at)))
        }
    }
}

/// UTF-16 code units (after a byte-order mark of `skipped` bytes): an unpaired surrogate,
/// an odd byte at the end or a NUL character is reported at its line.
fn utf16(name: String, bytes: &[u8], big_endian: bool, skipped: usize) -> Result<Arc<Source>, Problem> {
    let units = bytes.chunks_exact(2).map(|p| match p {
        [a, b] if big_endian => u16::from_be_bytes([*a, *b]),
        [a, b] => u16::from_le_bytes([*a, *b]),
        _ => 0,
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut bad = None;
    for (i, c) in char::decode_utf16(units).enumerate() {
        match c {
            Ok('\0') | Err(_) => {
                bad = Some((text.len(), i * 2 + skipped));
                break;
            }
            Ok(c) => text.push(c),
        }
    }
    let odd = bytes.len() % 2 == 1;
    let label = if big_endian { "UTF-16BE" } else { "UTF-16LE" };
    if bad.is_none() && odd {
        bad = Some((text.len(), bytes.len() - 1 + skipped));
    }
    match bad {
        None => Ok(Source::new(name, text)),
        Some((at, file_offset)) => {
            let src = Source::new(name, text);
            Err(Problem::error(
                Code::Encoding,
                Some(src.loc(at, 0)),
                format!("file is not valid {label} at byte offset {file_offset}"),
            )
            .with_label(format!("not {label}"))
            .with_help("check the file's encoding: declare it on the source with `encoding:`, or save it as UTF-8"))
        }
    }
}

/// Windows-1252 characters of bytes 0x80 to 0x9F (`None`: undefined in the code page).
const CP1252_HIGH: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

/// A single-byte code page: ISO 8859-1 maps every byte to the same code point; Windows-1252
/// differs from it in 0x80 to 0x9F, where five bytes are undefined (reported).
fn single_byte(name: String, bytes: &[u8], encoding: Encoding) -> Result<Arc<Source>, Problem> {
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    for (i, &b) in bytes.iter().enumerate() {
        let c = match (encoding, b) {
            (_, 0) => None,
            (Encoding::Windows1252, 0x80..=0x9F) => CP1252_HIGH.get(usize::from(b - 0x80)).copied().flatten(),
            _ => Some(char::from(b)),
        };
        match c {
            Some(c) => text.push(c),
            None => {
                let at = text.len();
                let mut shown = text;
                shown.push_str(&String::from_utf8_lossy(bytes.get(i + 1..).unwrap_or_default()));
                let src = Source::new(name, shown);
                let what = if b == 0 {
                    "a NUL byte".to_owned()
                } else {
                    format!("byte 0x{b:02X}")
                };
                return Err(Problem::error(
                    Code::Encoding,
                    Some(src.loc(at, 0)),
                    format!("{what} at byte offset {i} is not {} text", encoding.as_str()),
                )
                .with_label("not text in this encoding")
                .with_help("check the `encoding:` declared for this source"));
            }
        }
    }
    Ok(Source::new(name, text))
}

/// Reads and decodes the file at `path`; `flag` names the option that gave the path, for
/// the advice when it cannot be read.
pub fn read(path: &Path, flag: &str) -> Result<Arc<Source>, Problem> {
    read_as(path, flag, None)
}

/// [`read`], reading a file without a byte-order mark as `declared` when given.
pub fn read_as(path: &Path, flag: &str, declared: Option<Encoding>) -> Result<Arc<Source>, Problem> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| io_problem(&name, &e, flag))?;
    decode_as(name, bytes, declared)
}

/// The DT100 problem for a file that cannot be read.
pub fn io_problem(name: &str, e: &std::io::Error, flag: &str) -> Problem {
    Problem::error(
        Code::Io,
        None,
        format!("cannot read `{name}`: {}", e.to_string().to_lowercase()),
    )
    .with_help(format!("check the path given to `{flag}`"))
}

#[cfg(test)]
mod tests {
    use super::{decode, decode_as, sniff, Encoding, Sniffed};

    fn code_and_message(bytes: &[u8]) -> (String, String) {
        match decode("f.yaml", bytes.to_vec()) {
            Ok(src) => ("ok".to_owned(), src.text().to_owned()),
            Err(p) => (
                p.code.as_str().to_owned(),
                format!("{}:{}", p.message, p.loc.map_or(0, |l| l.line)),
            ),
        }
    }

    #[test]
    fn a_utf8_bom_is_removed_and_nothing_else_changes() {
        assert_eq!(code_and_message(b"\xEF\xBB\xBFsystems: []\n").1, "systems: []\n");
        assert_eq!(code_and_message(b"a: 1\r\n").1, "a: 1\r\n");
    }

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend(if big_endian { [0xFE, 0xFF] } else { [0xFF, 0xFE] });
        }
        for u in text.encode_utf16() {
            out.extend(if big_endian { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        out
    }

    #[test]
    fn utf16_and_utf32_are_named() {
        assert_eq!(sniff(b"\xFF\xFEs\x00"), Sniffed::Utf16 { big_endian: false });
        assert_eq!(sniff(b"\xFE\xFF\x00s"), Sniffed::Utf16 { big_endian: true });
        assert_eq!(sniff(b"\xFF\xFE\x00\x00"), Sniffed::Other("UTF-32LE"));
        assert_eq!(sniff(b"\x00\x00\xFE\xFF"), Sniffed::Other("UTF-32BE"));
        assert_eq!(sniff(b"s\x00y\x00s\x00"), Sniffed::Other("UTF-16LE"));
        assert_eq!(sniff(b"\x00s\x00y"), Sniffed::Other("UTF-16BE"));
        let (code, msg) = code_and_message(b"s\x00y\x00s\x00");
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("DT113", "file is UTF-16LE, not UTF-8:1")
        );
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_read_with_its_lines() {
        let text = "[\r\n  {\"Name\": \"Müller ✓\"}\r\n]\r\n";
        for big_endian in [false, true] {
            assert_eq!(
                code_and_message(&utf16(text, big_endian, true)),
                ("ok".to_owned(), text.to_owned())
            );
        }
        // Without a mark, only when declared.
        let declared =
            decode_as("f.json", utf16(text, false, false), Some(Encoding::Utf16Le)).map(|s| s.text().to_owned());
        assert_eq!(declared.ok().as_deref(), Some(text));
        // An unpaired surrogate on line 3 is named there.
        let mut bad = utf16("a\nb\n", false, true);
        bad.extend([0x00, 0xD8, b'x', 0x00]);
        let (code, msg) = code_and_message(&bad);
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("DT113", "file is not valid UTF-16LE at byte offset 10:3")
        );
    }

    #[test]
    fn declared_single_byte_encodings() {
        let cp = |bytes: &[u8], e| decode_as("hr.csv", bytes.to_vec(), Some(e)).map(|s| s.text().to_owned());
        // Excel's "CSV" on a German Windows: `;`-separated windows-1252.
        let row = b"id;name\r\n7;M\xFCller \x80 \x93q\x94\r\n";
        assert_eq!(
            cp(row, Encoding::Windows1252).ok().as_deref(),
            Some("id;name\r\n7;Müller € “q”\r\n")
        );
        assert_eq!(
            cp(b"M\xFCller \x80", Encoding::Latin1).ok().as_deref(),
            Some("Müller \u{80}")
        );
        // 0x81 is undefined in windows-1252: reported at its line.
        let bad = decode_as("hr.csv", b"id\n1\nx\x81\n".to_vec(), Some(Encoding::Windows1252)).err();
        let got = bad.map(|p| (p.code.as_str().to_owned(), p.message, p.loc.map_or(0, |l| l.line)));
        assert_eq!(
            got,
            Some((
                "DT113".to_owned(),
                "byte 0x81 at byte offset 6 is not windows-1252 text".to_owned(),
                3
            ))
        );
        // A byte-order mark wins over the declaration.
        assert_eq!(
            cp(b"\xEF\xBB\xBFM\xC3\xBCller", Encoding::Windows1252).ok().as_deref(),
            Some("Müller")
        );
        assert_eq!(Encoding::parse("CP1252"), Some(Encoding::Windows1252));
        assert_eq!(Encoding::parse("UTF_16LE"), Some(Encoding::Utf16Le));
        assert_eq!(Encoding::parse("ebcdic"), None);
    }

    #[test]
    fn nul_bytes_and_bad_utf8_give_line_and_byte_offset() {
        let (code, msg) = code_and_message(b"a: 1\nb: \x00\n");
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("DT113", "file is not text: NUL byte at byte offset 8:2")
        );
        let (code, msg) = code_and_message(b"\xEF\xBB\xBFa: 1\nb: 2\nc: \xC3\x28\n");
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("DT113", "file is not valid UTF-8 at byte offset 16:3")
        );
    }
}
