//! The bytes of an entitlement file being indexed: held in memory or read back from disk,
//! and checked to be text.

use std::fs::File;
use std::sync::Arc;

use crate::diag::Problem;
use crate::source::Source;

/// Largest entitlement file kept in memory from the indexing read (see `Body`).
pub const HOLD_AT_MOST: u64 = 256 << 20;

/// The bytes of an indexed entitlement file. A file of at most [`HOLD_AT_MOST`] bytes
/// keeps the bytes the indexing read, and records are sliced from them: an export sorted
/// by system scatters each identity's records over the file, and reading them back one
/// system call each costs more than the evaluation. A larger file is read back from disk.
pub(super) enum Body {
    File(File),
    Held(Vec<u8>),
}

/// A reader that keeps a copy of what it reads from `inner`, when asked to.
pub(super) struct Tee<R> {
    inner: R,
    copy: Option<Vec<u8>>,
}

impl<'f> Tee<&'f File> {
    /// Reads `file`, keeping a copy when it is at most `hold_at_most` bytes long.
    pub(super) fn of(file: &'f File, hold_at_most: u64) -> Self {
        let len = file.metadata().map_or(u64::MAX, |m| m.len());
        Self {
            inner: file,
            copy: (len <= hold_at_most).then(|| Vec::with_capacity(usize::try_from(len).unwrap_or(0))),
        }
    }

    /// The copy, if one was kept.
    pub(super) fn into_copy(self) -> Option<Vec<u8>> {
        self.copy
    }
}

impl Body {
    /// The bytes the indexing read kept, else `file`.
    pub(super) fn of(copy: Option<Vec<u8>>, file: File) -> Self {
        match copy {
            Some(bytes) => Body::Held(bytes),
            None => Body::File(file),
        }
    }
}

impl<R: std::io::Read> std::io::Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(copy) = &mut self.copy {
            copy.extend_from_slice(buf.get(..n).unwrap_or_default());
        }
        Ok(n)
    }
}

/// The problem [`crate::text::decode`] reports for this file read whole (a NUL byte
/// anywhere first, else the first invalid UTF-8), found in one pass of a few megabytes at
/// a time, so the streamed CSV path refuses exactly what the held one does. Blocks end at
/// a newline, which never splits a UTF-8 sequence.
pub(super) fn not_text(file: &File, name: &Arc<str>) -> Option<Problem> {
    let (mut at, mut line, mut want) = (0u64, 1u32, 4usize << 20);
    let mut invalid = None;
    loop {
        let buf = reader_bytes(file, at, want as u64);
        if buf.is_empty() {
            break;
        }
        let end = if buf.len() < want {
            buf.len()
        } else if let Some(i) = memchr::memrchr(b'\n', &buf) {
            i + 1
        } else {
            want = want.saturating_mul(2);
            continue;
        };
        let block = buf.get(..end).unwrap_or_default();
        let locate = |i: usize| {
            let before = block.get(..i).unwrap_or_default();
            let begin = before.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
            let rest = block.get(begin..).unwrap_or_default();
            let stop = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let newlines = before.iter().filter(|&&b| b == b'\n').count();
            let text = String::from_utf8_lossy(rest.get(..stop).unwrap_or_default()).into_owned() + " ";
            let src = Source::window(name, text, line.saturating_add(line_u32(newlines as u64)));
            (src, i - begin, at + i as u64)
        };
        if let Some(i) = memchr::memchr(0, block) {
            let (src, offset, file_offset) = locate(i);
            return Some(crate::text::nul_byte(&src, offset, file_offset));
        }
        let skip = if at == 0 && block.starts_with(crate::text::UTF8_BOM) {
            3
        } else {
            0
        };
        if invalid.is_none() {
            if let Err(e) = std::str::from_utf8(block.get(skip..).unwrap_or_default()) {
                let (src, offset, file_offset) = locate(skip + e.valid_up_to());
                invalid = Some(crate::text::invalid_utf8(&src, offset, file_offset));
            }
        }
        line = line.saturating_add(line_u32(block.iter().filter(|&&b| b == b'\n').count() as u64));
        at += end as u64;
    }
    invalid
}

pub(super) fn line_u32(line: u64) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

/// Up to `len` bytes of `file` at `offset` (fewer at its end; none on a read error, which
/// the record's own read reports).
pub(super) fn reader_bytes(file: &File, offset: u64, len: u64) -> Vec<u8> {
    let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
    let n = read_at(file, &mut buf, offset).unwrap_or(0);
    buf.truncate(n);
    buf
}

/// Reads as much of `buf` as the file holds at `offset`.
pub(super) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    #[cfg(unix)]
    use std::os::unix::fs::FileExt;
    #[cfg(windows)]
    use std::os::windows::fs::FileExt;
    let mut done = 0;
    while done < buf.len() {
        let rest = buf.get_mut(done..).unwrap_or_default();
        let at = offset + done as u64;
        #[cfg(unix)]
        let read = file.read_at(rest, at);
        #[cfg(windows)]
        let read = file.seek_read(rest, at);
        match read {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
