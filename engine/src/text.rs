//! Reading user files as text. The encoding is decided once, here, where a file is opened:
//! UTF-8 with or without a byte-order mark is read; UTF-16 and UTF-32 are refused with a
//! diagnostic that says how to convert; a NUL byte means the file is not text; invalid
//! UTF-8 is reported with its line and byte offset. Every error is DT113 (`encoding`).

use std::path::Path;
use std::sync::Arc;

use crate::diag::{Code, Problem};
use crate::source::Source;

/// The UTF-8 byte-order mark that Windows tools (PowerShell, Excel's "CSV UTF-8") write.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// What a file's first bytes say about its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// UTF-8 (or ASCII); `bom` bytes of byte-order mark to skip (0 or 3).
    Utf8 {
        /// Length of the byte-order mark.
        bom: usize,
    },
    /// An encoding dualtrack does not read, by name.
    Other(&'static str),
}

/// Decides the encoding from the first bytes of a file (up to 64 are looked at).
pub fn sniff(head: &[u8]) -> Sniffed {
    match head {
        [0x00, 0x00, 0xFE, 0xFF, ..] => Sniffed::Other("UTF-32BE"),
        [0xFF, 0xFE, 0x00, 0x00, ..] => Sniffed::Other("UTF-32LE"),
        [0xFE, 0xFF, ..] => Sniffed::Other("UTF-16BE"),
        [0xFF, 0xFE, ..] => Sniffed::Other("UTF-16LE"),
        [0xEF, 0xBB, 0xBF, ..] => Sniffed::Utf8 { bom: 3 },
        _ => utf16_without_bom(head).map_or(Sniffed::Utf8 { bom: 0 }, Sniffed::Other),
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
        "save it as UTF-8: `iconv -f {encoding} -t UTF-8 FILE > FILE.utf8`, or in PowerShell \
         `Get-Content FILE | Set-Content -Encoding utf8 OUT`"
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

/// Decodes the bytes of the file `name`: UTF-8 with its byte-order mark removed, or the
/// DT113 problem that says why it is not read.
pub fn decode(name: impl Into<String>, mut bytes: Vec<u8>) -> Result<Arc<Source>, Problem> {
    let name = name.into();
    let bom = match sniff(bytes.get(..64).unwrap_or(&bytes)) {
        Sniffed::Other(encoding) => return Err(refused(&name, encoding)),
        Sniffed::Utf8 { bom } => bom,
    };
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

/// Reads and decodes the file at `path`; `flag` names the option that gave the path, for
/// the advice when it cannot be read.
pub fn read(path: &Path, flag: &str) -> Result<Arc<Source>, Problem> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| io_problem(&name, &e, flag))?;
    decode(name, bytes)
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
    use super::{decode, sniff, Sniffed};

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

    #[test]
    fn utf16_and_utf32_are_named() {
        assert_eq!(sniff(b"\xFF\xFEs\x00"), Sniffed::Other("UTF-16LE"));
        assert_eq!(sniff(b"\xFE\xFF\x00s"), Sniffed::Other("UTF-16BE"));
        assert_eq!(sniff(b"\xFF\xFE\x00\x00"), Sniffed::Other("UTF-32LE"));
        assert_eq!(sniff(b"\x00\x00\xFE\xFF"), Sniffed::Other("UTF-32BE"));
        assert_eq!(sniff(b"s\x00y\x00s\x00"), Sniffed::Other("UTF-16LE"));
        assert_eq!(sniff(b"\x00s\x00y"), Sniffed::Other("UTF-16BE"));
        let (code, msg) = code_and_message(b"\xFF\xFEs\x00y\x00");
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("DT113", "file is UTF-16LE, not UTF-8:1")
        );
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
