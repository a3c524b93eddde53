//! YAML reading, kept in this one module. Records and rules are read with `yaml-rust2`'s
//! event parser into a [`Node`] tree that keeps every value's line (serde_yaml reports
//! locations only for syntax errors); small catalogs without per-record diagnostics are
//! read with `serde_yaml` into typed structs.

use std::collections::HashMap;
use std::sync::Arc;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diag::{Code, Problem};
use crate::node::{Node, Value};
use crate::source::{Loc, Source};

/// Upper bound on nodes built from one document, so alias expansion cannot blow up memory.
const MAX_NODES: usize = 5_000_000;

/// Parses one YAML document into a located tree. An empty document is `Null`.
pub fn parse(src: &Arc<Source>) -> Result<Node, Problem> {
    let mut builder = Builder {
        src: Arc::clone(src),
        stack: Vec::new(),
        root: None,
        anchors: HashMap::new(),
        nodes: 0,
        error: None,
    };
    let mut parser = Parser::new_from_str(src.text());
    if let Err(e) = parser.load(&mut builder, false) {
        let m = e.marker();
        let offset = src.offset_of(m.line(), m.col() + 1);
        return Err(Problem::error(
            Code::Syntax,
            Some(src.loc(offset, 1)),
            format!("invalid YAML: {}", e.info()),
        )
        .with_label("here")
        .with_help("fix the YAML syntax at this position (indentation, quotes, a missing `:`)"));
    }
    if let Some(p) = builder.error {
        return Err(p);
    }
    Ok(builder.root.unwrap_or(Node {
        loc: src.whole(),
        value: Value::Null,
    }))
}

enum Frame {
    Seq(Loc, usize, Vec<Node>),
    Map(Loc, usize, Vec<(String, Node, Loc)>, Option<(String, Loc)>),
}

struct Builder {
    src: Arc<Source>,
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    error: Option<Problem>,
}

impl Builder {
    fn loc(&self, mark: Marker, len: usize) -> Loc {
        let offset = self.src.offset_of(mark.line(), mark.col() + 1);
        self.src.loc(offset, len)
    }

    fn fail(&mut self, p: Problem) {
        if self.error.is_none() {
            self.error = Some(p);
        }
    }

    fn push_value(&mut self, node: Node, anchor: usize) {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            let loc = node.loc.clone();
            self.fail(
                Problem::error(Code::Syntax, Some(loc), "document is too large after expanding aliases")
                    .with_help("avoid deeply nested YAML aliases"),
            );
            return;
        }
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let mut problem = None;
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, entries, pending)) => match pending.take() {
                None => {
                    let key_loc = node.loc.clone();
                    match node.scalar_text() {
                        Some(k) => {
                            if entries.iter().any(|(e, _, _)| *e == k) {
                                problem = Some(
                                    Problem::error(
                                        Code::DuplicateKey,
                                        Some(key_loc.clone()),
                                        format!("duplicate key `{k}`"),
                                    )
                                    .with_label("second occurrence")
                                    .with_help("each key may appear once in a map; remove or rename one"),
                                );
                            }
                            *pending = Some((k, key_loc));
                        }
                        None => {
                            problem = Some(
                                Problem::error(Code::Shape, Some(key_loc.clone()), "map keys must be plain strings")
                                    .with_help("use a string key"),
                            );
                            *pending = Some((String::new(), key_loc));
                        }
                    }
                }
                Some((k, key_loc)) => entries.push((k, node, key_loc)),
            },
        }
        if let Some(p) = problem {
            self.fail(p);
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
                Value::Int(i)
            } else if t.parse::<f64>().is_ok()
                && t.chars().any(|c| c.is_ascii_digit())
                && !t.contains(char::is_alphabetic)
            {
                t.parse::<f64>().map_or(Value::Str(text.clone()), Value::Float)
            } else {
                Value::Str(text)
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, _) => {
                let len = match style {
                    TScalarStyle::Plain => text.len(),
                    TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => text.len() + 2,
                    _ => 1,
                };
                let loc = self.loc(mark, len.max(1));
                let value = scalar(text, style);
                self.push_value(Node { loc, value }, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                let loc = self.loc(mark, 1);
                self.stack.push(Frame::Seq(loc, anchor, Vec::new()));
            }
            Event::MappingStart(anchor, _) => {
                let loc = self.loc(mark, 1);
                self.stack.push(Frame::Map(loc, anchor, Vec::new(), None));
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq(loc, anchor, items)) = self.stack.pop() {
                    self.push_value(
                        Node {
                            loc,
                            value: Value::Seq(items),
                        },
                        anchor,
                    );
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(loc, anchor, entries, _)) = self.stack.pop() {
                    let loc = entries.first().map_or(loc, |(_, _, k)| k.clone());
                    self.push_value(
                        Node {
                            loc,
                            value: Value::Map(entries),
                        },
                        anchor,
                    );
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => self.push_value(node, 0),
                None => {
                    let loc = self.loc(mark, 1);
                    self.fail(
                        Problem::error(Code::Syntax, Some(loc), "unknown YAML alias")
                            .with_help("define the anchor before using it"),
                    );
                }
            },
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd => {}
        }
    }
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
