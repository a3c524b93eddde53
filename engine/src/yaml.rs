//! YAML reading, kept in this one module. Records and rules are read with `yaml-rust2`'s
//! event parser into a [`Node`] tree that keeps every value's line (serde_yaml reports
//! locations only for syntax errors); small catalogs without per-record diagnostics are
//! read with `serde_yaml` into typed structs.

use std::collections::HashMap;
use std::sync::Arc;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diag::{Code, Problem};
use crate::limits::{size, MAX_ALIAS_NODES, MAX_DEPTH, MAX_SCALAR_BYTES};
use crate::node::{Node, Value};
use crate::source::{Loc, Source};

/// Parses one YAML document into a located tree. An empty document is `Null`.
///
/// The parser is driven event by event (its recursive loader would overflow the stack on a
/// deeply nested file), and reading stops at the first problem: a syntax error, a second
/// document, or a limit of [`crate::limits`] crossed (alias expansion, nesting depth,
/// scalar size).
pub fn parse(src: &Arc<Source>) -> Result<Node, Problem> {
    parse_streamed(src, "", &mut |_| {})
}

/// [`parse`], except that each item of the list under the top-level key `key` goes to
/// `on_item` as soon as it is complete and that list stays empty in the tree: a large
/// inventory's entitlements are then never all held as nodes at once. Items are handed
/// over in file order, even when reading stops at a later problem.
pub fn parse_streamed(src: &Arc<Source>, key: &str, on_item: &mut dyn FnMut(Node)) -> Result<Node, Problem> {
    let builder = build(src, key, on_item)?;
    Ok(builder.root.unwrap_or(Node {
        loc: src.whole(),
        value: Value::Null,
    }))
}

/// Runs the parser over `src`, event by event, into a [`Builder`].
fn build<'a>(src: &Arc<Source>, key: &'a str, on_item: &'a mut dyn FnMut(Node)) -> Result<Builder<'a>, Problem> {
    let mut builder = Builder {
        streamed: (key, on_item),
        src: Arc::clone(src),
        stack: Vec::new(),
        root: None,
        anchors: HashMap::new(),
        alias_nodes: 0,
        documents: 0,
        cursor: None,
        walked: 0,
    };
    let mut parser = Parser::new_from_str(src.text());
    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            let m = e.marker();
            let offset = src.offset_of(m.line(), m.col() + 1);
            if e.info().contains("recursion limit") {
                // The scanner's own guard against deep flow nesting.
                return limit(
                    src.loc(offset, 1),
                    format!("nesting is deeper than {MAX_DEPTH} levels"),
                    "inventories and rules are a few levels deep; flatten this value",
                );
            }
            Problem::error(
                Code::Syntax,
                Some(src.loc(offset, 1)),
                format!("invalid YAML: {}", e.info()),
            )
            .with_label("here")
            .with_help("fix the YAML syntax at this position (indentation, quotes, a missing `:`)")
        })?;
        if event == Event::StreamEnd {
            break;
        }
        builder.event(event, mark)?;
    }
    Ok(builder)
}

enum Frame {
    Seq(Loc, usize, Vec<Node>),
    Map(Loc, usize, Vec<(String, Node, Loc)>, Option<(String, Loc)>),
}

impl Frame {
    fn anchor(&self) -> usize {
        match self {
            Frame::Seq(_, a, _) | Frame::Map(_, a, _, _) => *a,
        }
    }
}

/// An anchored value, with its node count and nesting height (what an alias to it costs).
struct Anchored {
    node: Node,
    nodes: usize,
    height: usize,
}

struct Builder<'a> {
    /// The top-level key whose list items go to the callback instead of the tree.
    streamed: (&'a str, &'a mut dyn FnMut(Node)),
    src: Arc<Source>,
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: HashMap<usize, Anchored>,
    /// Nodes added by aliases so far.
    alias_nodes: usize,
    documents: usize,
    /// Line, column and byte offset of the last mark located.
    cursor: Option<(usize, usize, usize)>,
    /// Characters walked to locate marks (a test bounds it by the text's length).
    walked: usize,
}

/// Nodes in `node` and its nesting height (a scalar is 1 and 0).
fn measure(node: &Node) -> (usize, usize) {
    match &node.value {
        Value::Seq(items) => items.iter().fold((1, 1), |(n, h), i| {
            let (ni, hi) = measure(i);
            (n + ni, h.max(hi + 1))
        }),
        Value::Map(entries) => entries.iter().fold((1, 1), |(n, h), (_, v, _)| {
            let (nv, hv) = measure(v);
            (n + nv, h.max(hv + 1))
        }),
        _ => (1, 0),
    }
}

fn limit(loc: Loc, message: String, help: &str) -> Problem {
    Problem::error(Code::Limit, Some(loc), message)
        .with_label("limit crossed here")
        .with_help(help.to_owned())
}

impl Builder<'_> {
    fn loc(&mut self, mark: Marker, len: usize) -> Loc {
        let offset = self.offset(mark);
        self.src.loc(offset, len)
    }

    /// The byte offset of `mark`, as [`Source::offset_of`] gives it, but walking on from
    /// the last mark when this one is further along the same line: a long line (a whole
    /// document in flow style) is walked once, not once per value on it.
    fn offset(&mut self, mark: Marker) -> usize {
        let (line, col) = (mark.line(), mark.col());
        let offset = match self.cursor {
            Some((l, c, at)) if l == line && c <= col => {
                let rest = self.src.text().get(at..).unwrap_or_default();
                self.walked += col - c;
                at + rest.char_indices().nth(col - c).map_or(rest.len(), |(i, _)| i)
            }
            _ => {
                self.walked += col;
                self.src.offset_of(line, col + 1)
            }
        };
        self.cursor = Some((line, col, offset));
        offset
    }

    fn push_value(&mut self, node: Node, anchor: usize) -> Result<(), Problem> {
        if anchor > 0 {
            let (nodes, height) = measure(&node);
            self.anchors.insert(
                anchor,
                Anchored {
                    node: node.clone(),
                    nodes,
                    height,
                },
            );
        }
        if self.streams_next() {
            (self.streamed.1)(node);
            return Ok(());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, entries, pending)) => match pending.take() {
                None => {
                    let key_loc = node.loc.clone();
                    let Some(k) = node.scalar_text() else {
                        return Err(
                            Problem::error(Code::Shape, Some(key_loc), "map keys must be plain strings")
                                .with_help("use a string key"),
                        );
                    };
                    if entries.iter().any(|(e, _, _)| *e == k) {
                        return Err(
                            Problem::error(Code::DuplicateKey, Some(key_loc), format!("duplicate key `{k}`"))
                                .with_label("second occurrence")
                                .with_help("each key may appear once in a map; remove or rename one"),
                        );
                    }
                    *pending = Some((k, key_loc));
                }
                Some((k, key_loc)) => entries.push((k, node, key_loc)),
            },
        }
        Ok(())
    }

    /// True when the next complete value is an item of the list under the streamed key.
    fn streams_next(&self) -> bool {
        match self.stack.as_slice() {
            [Frame::Map(_, _, _, Some((k, _))), Frame::Seq(..)] => !k.is_empty() && *k == self.streamed.0,
            _ => false,
        }
    }

    fn open(&mut self, frame: Frame, mark: Marker) -> Result<(), Problem> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(limit(
                self.loc(mark, 1),
                format!("nesting is deeper than {MAX_DEPTH} levels"),
                "inventories and rules are a few levels deep; flatten this value",
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn alias(&mut self, id: usize, mark: Marker) -> Result<(), Problem> {
        let loc = self.loc(mark, 1);
        if self.stack.iter().any(|f| f.anchor() == id) {
            return Err(Problem::error(Code::Limit, Some(loc), "recursive YAML alias")
                .with_label("refers to a value that contains it")
                .with_help("an alias may only repeat a value that is complete before it"));
        }
        let Some(anchored) = self.anchors.get(&id) else {
            return Err(Problem::error(Code::Syntax, Some(loc), "unknown YAML alias")
                .with_help("define the anchor before using it"));
        };
        if self.stack.len() + anchored.height > MAX_DEPTH {
            return Err(limit(
                loc,
                format!("this alias makes nesting deeper than {MAX_DEPTH} levels"),
                "inventories and rules are a few levels deep; flatten this value",
            ));
        }
        self.alias_nodes = self.alias_nodes.saturating_add(anchored.nodes);
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(limit(
                loc,
                format!("YAML aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                "write the values out, or use fewer nested aliases",
            ));
        }
        let node = anchored.node.clone();
        self.push_value(node, 0)
    }

    fn event(&mut self, ev: Event, mark: Marker) -> Result<(), Problem> {
        match ev {
            Event::Scalar(text, style, anchor, _) => {
                if text.len() > MAX_SCALAR_BYTES {
                    return Err(limit(
                        self.loc(mark, 1),
                        format!("value is larger than {}", size(MAX_SCALAR_BYTES)),
                        "shorten this value; dualtrack fields hold ids, dates and short text",
                    ));
                }
                let len = match style {
                    TScalarStyle::Plain => text.len(),
                    TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => text.len() + 2,
                    _ => 1,
                };
                let loc = self.loc(mark, len.max(1));
                let value = scalar(text, style);
                self.push_value(Node { loc, value }, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let loc = self.loc(mark, 1);
                self.open(Frame::Seq(loc, anchor, Vec::new()), mark)
            }
            Event::MappingStart(anchor, _) => {
                let loc = self.loc(mark, 1);
                self.open(Frame::Map(loc, anchor, Vec::new(), None), mark)
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq(loc, anchor, items)) => self.push_value(
                    Node {
                        loc,
                        value: Value::Seq(items),
                    },
                    anchor,
                ),
                _ => Ok(()),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map(loc, anchor, entries, _)) => {
                    let loc = entries.first().map_or(loc, |(_, _, k)| k.clone());
                    self.push_value(
                        Node {
                            loc,
                            value: Value::Map(entries),
                        },
                        anchor,
                    )
                }
                _ => Ok(()),
            },
            Event::Alias(id) => self.alias(id, mark),
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Problem::error(
                        Code::Syntax,
                        Some(self.loc(mark, 3)),
                        "a second YAML document in one file",
                    )
                    .with_label("second document")
                    .with_help("a file holds one YAML document; remove the `---` or split the file"));
                }
                self.anchors.clear();
                Ok(())
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
        }
    }
}

fn scalar(text: String, style: TScalarStyle) -> Value {
    if style != TScalarStyle::Plain {
        return Value::Str(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        t => {
            if let Ok(i) = t.parse::<i64>() {
                Value::Int(i, text.into_boxed_str())
            } else if is_float(t) {
                // Fractions, exponents, `.inf`, `.nan`, and integers beyond 64 bits.
                Value::Float(t.parse::<f64>().unwrap_or(f64::NAN))
            } else {
                Value::Str(text)
            }
        }
    }
}

/// A float of YAML 1.2's core schema (`[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`,
/// `.inf`, `.nan`), which includes integers too large for 64 bits.
fn is_float(t: &str) -> bool {
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(t, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['-', '+']).unwrap_or(e))),
        None => (unsigned, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, frac)) => digits(whole) && digits(frac) && !(whole.is_empty() && frac.is_empty()),
        None => !mantissa.is_empty() && digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| !e.is_empty() && digits(e))
}

/// Reads a small catalog file into a typed struct with `serde_yaml` (strict, unknown fields
/// rejected). The error carries the position serde_yaml reports, else the file.
pub fn from_str_typed<T: serde::de::DeserializeOwned>(src: &Arc<Source>) -> Result<T, Problem> {
    serde_yaml::from_str(src.text()).map_err(|e| {
        let loc = e.location().map_or_else(|| src.whole(), |l| src.loc(l.index(), 1));
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        let code = if msg.contains("unknown field") {
            Code::UnknownField
        } else {
            Code::Shape
        };
        Problem::error(code, Some(loc), msg).with_help("see the catalog format in the README")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document on one line (flow style, as JSON saved as `.yaml` is) is walked once to
    /// locate its values, not once per value: locating stays linear in the line's length.
    #[test]
    fn values_on_one_long_line_are_located_in_linear_time() {
        let records: Vec<String> = (0..2000)
            .map(|i| format!("{{\"id\": \"e{i:05}\", \"identity\": \"u{i:05}\", \"tags\": [\"é\", 1]}}"))
            .collect();
        let text = format!("{{\"entitlements\": [{}]}}", records.join(", "));
        let src = Source::new("inv.yaml", text.clone());
        let mut ignore = |_: Node| {};
        let builder = build(&src, "", &mut ignore).unwrap();
        assert!(
            builder.walked <= text.len(),
            "walked {} for {}",
            builder.walked,
            text.len()
        );
        // Locations are the same as a lookup from the line's start gives.
        let root = builder.root.map(|r| r.value);
        let Some(Value::Map(entries)) = root else {
            panic!("not a map")
        };
        let Some((
            _,
            Node {
                value: Value::Seq(items),
                ..
            },
            _,
        )) = entries.first()
        else {
            panic!("no list")
        };
        let Some(Node {
            value: Value::Map(last),
            ..
        }) = items.last()
        else {
            panic!("no record")
        };
        let Some((_, id, _)) = last.first() else {
            panic!("no id")
        };
        assert_eq!(text.get(id.loc.offset..id.loc.offset + 8), Some("\"e01999\""));
    }

    #[test]
    fn core_schema_floats() {
        for t in [
            "1.5",
            "-0.5",
            ".5",
            "1.",
            "1e5",
            "1E-3",
            "+2.5e+10",
            ".inf",
            "-.inf",
            ".nan",
            "99999999999999999999",
        ] {
            assert!(is_float(t), "{t}");
        }
        for t in ["1.2.3", "e5", "1e", ".", "abc", "1_000", "0x1F", "2026-10-01", "1.5x"] {
            assert!(!is_float(t), "{t}");
        }
    }

    /// The streamed list's items come out in file order with their lines, and the tree
    /// keeps an empty list where they were; other lists stay in the tree.
    #[test]
    fn items_of_the_streamed_list_are_handed_over_with_their_lines() {
        let text = "systems:\n  - id: erp\nentitlements:\n  - id: a\n  - id: b\n    system: erp\n";
        let src = Source::new("inv.yaml", text.to_owned());
        let mut items = Vec::new();
        let root = parse_streamed(&src, "entitlements", &mut |n| items.push(n)).unwrap();
        let lines: Vec<u32> = items.iter().map(|n| n.loc.line).collect();
        assert_eq!(lines, [4, 5]);
        let Value::Map(entries) = &root.value else {
            panic!("root is a map")
        };
        let list = |key: &str| match entries.iter().find(|(k, _, _)| k == key).map(|(_, v, _)| &v.value) {
            Some(Value::Seq(items)) => items.len(),
            _ => usize::MAX,
        };
        assert_eq!((list("systems"), list("entitlements")), (1, 0));
    }
}
