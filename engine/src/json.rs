//! A JSON reader that keeps the location of every value (serde_json does not), producing
//! the same [`Node`] records as the YAML reader. Large files are cut into records by
//! [`crate::scan`] first; this parses one record (or a small document) at a time.

use std::sync::Arc;

use crate::diag::{Code, Problem};
use crate::limits::{size, MAX_DEPTH, MAX_SCALAR_BYTES};
use crate::node::{Node, Value};
use crate::source::{Loc, Source};

/// Parses a document holding one value (a record read back on its own).
pub fn value(src: &Arc<Source>) -> Result<Node, Problem> {
    let mut p = JsonParser {
        src,
        bytes: src.text().as_bytes(),
        pos: 0,
        line: src.first_line(),
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.pos < p.bytes.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(v)
}

/// Moves `pos` past JSON whitespace in `bytes`, counting the newlines into `line`.
pub(crate) fn skip_ws(bytes: &[u8], pos: &mut usize, line: &mut u32) {
    while let Some(b) = bytes.get(*pos) {
        match b {
            b'\n' => *line += 1,
            b' ' | b'\t' | b'\r' => {}
            _ => return,
        }
        *pos += 1;
    }
}

struct JsonParser<'a> {
    src: &'a Arc<Source>,
    bytes: &'a [u8],
    pos: usize,
    /// 1-based line of `pos`; raw newlines only occur in whitespace, so `ws` counts them.
    line: u32,
}

impl JsonParser<'_> {
    fn err(&self, msg: &str) -> Problem {
        Problem::error(
            Code::Syntax,
            Some(self.src.loc(self.pos, 1)),
            format!("invalid JSON: {msg}"),
        )
        .with_label("here")
        .with_help("fix the JSON syntax at this position")
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn ws(&mut self) {
        skip_ws(self.bytes, &mut self.pos, &mut self.line);
    }

    /// A location starting at `start` on the current line (no newline since `start`).
    fn loc(&self, start: usize, len: usize) -> Loc {
        Loc {
            src: Arc::clone(self.src),
            line: self.line,
            offset: start,
            len,
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), Problem> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected `{}`", b as char)))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, Problem> {
        if depth >= MAX_DEPTH {
            return Err(crate::scan::too_deep(self.src.loc(self.pos, 1)));
        }
        let (start, line) = (self.pos, self.line);
        let value = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::Str(self.string()?),
            Some(b't') => self.word("true", Value::Bool(true))?,
            Some(b'f') => self.word("false", Value::Bool(false))?,
            Some(b'n') => self.word("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.err("expected a value")),
            None => return Err(self.err("unexpected end of input")),
        };
        let len = match value {
            Value::Map(_) | Value::Seq(_) => 1,
            _ => self.pos - start,
        };
        Ok(Node {
            loc: Loc {
                src: Arc::clone(self.src),
                line,
                offset: start,
                len,
            },
            value,
        })
    }

    fn word(&mut self, word: &str, v: Value) -> Result<Value, Problem> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.err("expected a value"))
        }
    }

    /// A number in JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`. An
    /// integer within 64 bits keeps its text; anything else is a float (`1e999` is infinite).
    fn number(&mut self) -> Result<Value, Problem> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos - from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let int_digits = digits(self);
        if int_digits == 0 || (int_digits > 1 && self.bytes.get(int_start) == Some(&b'0')) {
            self.pos = int_start;
            return Err(self.err("invalid number"));
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            integer = false;
            if digits(self) == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            integer = false;
            if matches!(self.peek(), Some(b'-' | b'+')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("invalid number"));
            }
        }
        let text = std::str::from_utf8(self.bytes.get(start..self.pos).unwrap_or_default()).unwrap_or_default();
        if integer {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Int(i, text.into()));
            }
        }
        Ok(Value::Float(text.parse::<f64>().unwrap_or(f64::INFINITY)))
    }

    fn string(&mut self) -> Result<String, Problem> {
        let start = self.pos;
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            let run = self.bytes.get(run_start..self.pos).unwrap_or_default();
            // The text is a `str` and runs end at ASCII bytes, so this cannot fail.
            out.push_str(std::str::from_utf8(run).map_err(|_| self.err("invalid UTF-8"))?);
            if out.len() > MAX_SCALAR_BYTES {
                return Err(Problem::error(
                    Code::Limit,
                    Some(self.loc(start, 1)),
                    format!("string is larger than {}", size(MAX_SCALAR_BYTES)),
                )
                .with_label("this string")
                .with_help("shorten this value; dualtrack fields hold ids, dates and short text"));
            }
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(self.err("unpaired surrogate in string escape"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("unpaired surrogate in string escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code).ok_or_else(|| self.err("invalid unicode escape"))?);
                            continue;
                        }
                        _ => return Err(self.err("invalid escape in string")),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => return Err(self.err("control character in string")),
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Problem> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("short unicode escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.err("invalid unicode escape"))?;
        let v = u32::from_str_radix(text, 16).map_err(|_| self.err("invalid unicode escape"))?;
        self.pos += 4;
        Ok(v)
    }

    /// Reads an object key, rejecting one already in `seen`.
    fn key<'k>(&mut self, mut seen: impl Iterator<Item = &'k str>) -> Result<(String, Loc), Problem> {
        let key_start = self.pos;
        if self.peek() != Some(b'"') {
            return Err(self.err("expected a string key"));
        }
        let key = self.string()?;
        let key_loc = self.loc(key_start, self.pos - key_start);
        if seen.any(|k| k == key) {
            return Err(
                Problem::error(Code::DuplicateKey, Some(key_loc), format!("duplicate key `{key}`"))
                    .with_label("second occurrence")
                    .with_help("each key may appear once in an object; remove or rename one"),
            );
        }
        Ok((key, key_loc))
    }

    fn array(&mut self, depth: usize) -> Result<Value, Problem> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Seq(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Seq(items));
                }
                _ => return Err(self.err("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, Problem> {
        self.expect(b'{')?;
        let mut entries: Vec<(String, Node, Loc)> = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Map(entries));
        }
        loop {
            self.ws();
            let (key, key_loc) = self.key(entries.iter().map(|(k, _, _)| k.as_str()))?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            let v = self.value(depth + 1)?;
            entries.push((key, v, key_loc));
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Map(entries));
                }
                _ => return Err(self.err("expected `,` or `}`")),
            }
        }
    }
}
