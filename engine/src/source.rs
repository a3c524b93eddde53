//! Source files and locations: every record and rule remembers where it came from.

use std::fmt;
use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Most bytes of source text a diagnostic shows. A snippet of longer lines (a 1 MiB string,
/// a 16 MiB record, 100,000 brackets or a minified file on one line) is left out, keeping
/// the `[file:line:col]` header, so one hostile file cannot flood a CI log.
const MAX_SNIPPET_BYTES: usize = 2048;

/// Widest snippet of one line a diagnostic shows: a label on a longer line (a 400-character
/// row of an HR export) shows this much of the line around the label, not the whole line
/// and its neighbours.
const LINE_WINDOW_BYTES: usize = 160;

/// The text of one input file, shared by every location that points into it.
#[derive(Debug)]
pub struct Source {
    name: Arc<str>,
    text: String,
    line_starts: Vec<usize>,
    /// The text was released after loading; locations keep their file and line only.
    released: bool,
    /// Line number of the text's first line: 1 for a whole file, more for a window onto
    /// part of one (a record read back from a large file).
    first_line: u32,
    /// Bytes of that line in the file before the text (a record in the middle of a line;
    /// the text starts there instead of being padded, so a window costs what its record
    /// does, even on a one-line file).
    first_col: u32,
}

impl Source {
    /// Wraps `text` read from the file called `name` (a path, or `builtin:…` for the pack).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Arc::new(Self {
            name: Arc::from(name.into()),
            text,
            line_starts,
            released: false,
            first_line: 1,
            first_col: 0,
        })
    }

    /// A window onto part of the file `name`: `text` is what the file holds from the start
    /// of line `first_line` on, so lines in diagnostics are the file's own.
    pub fn window(name: &Arc<str>, text: String, first_line: u32) -> Arc<Self> {
        Self::window_at(name, text, first_line, 0)
    }

    /// A window onto part of the file `name`: `text` is what the file holds from byte
    /// `first_col` of line `first_line` on, so lines and columns in diagnostics are the
    /// file's own while the snippet holds only `text`.
    pub fn window_at(name: &Arc<str>, text: String, first_line: u32, first_col: u32) -> Arc<Self> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Arc::new(Self {
            name: Arc::clone(name),
            text,
            line_starts,
            released: false,
            first_line: first_line.max(1),
            first_col,
        })
    }

    /// A stand-in with this file's name and no text, for records that outlive the text
    /// (a large inventory's text is released once it is loaded and validated).
    pub fn released(name: &str) -> Arc<Self> {
        Arc::new(Self {
            name: Arc::from(name),
            text: String::new(),
            line_starts: vec![0],
            released: true,
            first_line: 1,
            first_col: 0,
        })
    }

    /// True when the text was released: diagnostics show file and line, no snippet.
    pub fn is_released(&self) -> bool {
        self.released
    }

    /// The file name as the user gave it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file name, shared (findings of a large run all point at a few files).
    pub fn name_shared(&self) -> Arc<str> {
        Arc::clone(&self.name)
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Line number in the file of the text's first line (1 unless this is a window).
    pub fn first_line(&self) -> u32 {
        self.first_line
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> u32 {
        let idx = self.line_starts.partition_point(|&s| s <= offset);
        u32::try_from(idx.max(1))
            .unwrap_or(u32::MAX)
            .saturating_add(self.first_line - 1)
    }

    /// Byte offset of a 1-based line and a 1-based column counted in characters.
    pub fn offset_of(&self, line: usize, col: usize) -> usize {
        let line = line.saturating_sub(self.first_line as usize - 1);
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len());
        let rest = self.text.get(start..).unwrap_or_default();
        let within = rest
            .char_indices()
            .nth(col.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i);
        start + within
    }

    /// A location covering `len` bytes at `offset`.
    pub fn loc(self: &Arc<Self>, offset: usize, len: usize) -> Loc {
        let offset = offset.min(self.text.len());
        let len = len.min(self.text.len() - offset);
        Loc {
            line: self.line_of(offset),
            src: Arc::clone(self),
            offset,
            len,
        }
    }

    /// A location covering the rest of the line that starts at `offset`'s line, from `offset`.
    pub fn loc_to_eol(self: &Arc<Self>, offset: usize) -> Loc {
        let rest = self.text.get(offset..).unwrap_or_default();
        let len = rest.find(['\n', '\r']).unwrap_or(rest.len());
        self.loc(offset, len)
    }

    /// A location for a whole file (used when nothing finer is known).
    pub fn whole(self: &Arc<Self>) -> Loc {
        self.loc(0, 0)
    }
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        if let Some(window) = self.line_window(span) {
            return Ok(window);
        }
        let inner = self.text.read_span(span, context_lines_before, context_lines_after)?;
        // On the text's first line, columns count from where the text starts in the file.
        let column = match inner.line() {
            0 => inner.column() + self.first_col as usize,
            _ => inner.column(),
        };
        let (data, span) = if inner.data().len() > MAX_SNIPPET_BYTES {
            (&[][..], SourceSpan::new(inner.span().offset().into(), 0))
        } else {
            (inner.data(), *inner.span())
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            data,
            span,
            inner.line() + (self.first_line as usize - 1),
            column,
            inner.line_count(),
        )))
    }
}

impl Source {
    /// For a short span on a line longer than [`LINE_WINDOW_BYTES`]: that line cut to a
    /// window of about that many bytes around the span, without context lines.
    fn line_window(&self, span: &SourceSpan) -> Option<Box<dyn SpanContents<'_> + '_>> {
        let (offset, len) = (span.offset(), span.len());
        let bytes = self.text.as_bytes();
        if len > LINE_WINDOW_BYTES || offset > bytes.len() {
            return None;
        }
        let line_start = bytes
            .get(..offset)?
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line_end = bytes
            .get(offset..)?
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map_or(bytes.len(), |i| offset + i);
        if line_end - line_start <= LINE_WINDOW_BYTES || offset + len > line_end {
            return None;
        }
        let margin = (LINE_WINDOW_BYTES - len) / 2;
        let mut start = offset.saturating_sub(margin).max(line_start);
        let mut end = (start + LINE_WINDOW_BYTES).min(line_end);
        start = end.saturating_sub(LINE_WINDOW_BYTES).max(line_start);
        while !self.text.is_char_boundary(start) {
            start += 1;
        }
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let data = bytes.get(start..end)?;
        let line = self.line_of(start) as usize - 1;
        // As for a whole line: the column of the span's start (the header's `line:col`).
        let mut column = offset - line_start;
        if line + 1 == self.first_line as usize {
            column += self.first_col as usize;
        }
        Some(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            data,
            SourceSpan::new(start.into(), end - start),
            line,
            column,
            1,
        )))
    }
}

/// Where something is: a file, a 1-based line and a byte span within the file.
#[derive(Clone)]
pub struct Loc {
    /// The file.
    pub src: Arc<Source>,
    /// 1-based line of the start of the span.
    pub line: u32,
    /// Byte offset of the start.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
}

impl Loc {
    /// The file name.
    pub fn file(&self) -> &str {
        self.src.name()
    }

    /// The span for miette labels.
    pub fn span(&self) -> SourceSpan {
        SourceSpan::new(self.offset.into(), self.len)
    }
}

impl fmt::Debug for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.src.name(), self.line)
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.src.name(), self.line)
    }
}
