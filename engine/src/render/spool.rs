//! Output held back until a run has succeeded: kept in memory up to a few tens of MiB,
//! then in an unnamed temporary file, and copied to the real output at the end (a run that
//! fails writes nothing, yet never holds a large output in memory).

use std::io::{self, Read, Seek, Write};

/// Bytes kept in memory up to this size before spilling to disk.
const SPILL_AT: usize = 32 << 20;

/// Bytes written so far.
#[derive(Default)]
pub(crate) struct Spool {
    buf: Vec<u8>,
    file: Option<std::fs::File>,
}

impl Spool {
    /// Appends `bytes`.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(bytes);
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

    /// Writes everything appended, in order, to `out`.
    pub(crate) fn copy_to(mut self, out: &mut impl Write) -> io::Result<()> {
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
        out.write_all(&self.buf)
    }
}
