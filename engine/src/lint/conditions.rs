//! A YAML rule's `when:` read the way the compiler reads it (see `policy/yaml_rules.rs`),
//! flattened into the tests that must all hold: list items, map entries and `all:` parts.
//! `any:` and `not:` are left out, so whatever lint concludes from the flat list is true of
//! the rule whatever those hold. Only rules that compiled are read, so shapes are valid.

use crate::node::{Node, Value};
use crate::source::Loc;

const MAX_DEPTH: usize = 32;

/// A comparison operator, with `missing`/`present` folded into absence or presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `eq` or a bare literal.
    Eq,
    /// `ne`.
    Ne,
    /// `gt`.
    Gt,
    /// `ge`.
    Ge,
    /// `lt`.
    Lt,
    /// `le`.
    Le,
    /// `in`.
    In,
    /// `not_in`.
    NotIn,
    /// `contains`.
    Contains,
    /// `missing: true` or `present: false`.
    Absent,
    /// `present: true` or `missing: false`.
    Present,
}

/// One test on one attribute path.
#[derive(Debug)]
pub struct Test<'a> {
    /// The attribute path, e.g. `entitlement.days_idle`.
    pub path: &'a str,
    /// The operator.
    pub op: Op,
    /// The compared values (one, or the items of an `in`/`not_in` list).
    pub values: Vec<&'a Node>,
    /// Where the test is written: the operator key, or the path for a bare literal.
    pub loc: Loc,
}

impl Test<'_> {
    /// The test in words, e.g. `greater than 90` or `` one of `a`, `b` ``.
    pub fn describe(&self) -> String {
        let texts: Vec<String> = self.values.iter().filter_map(|v| v.scalar_text()).collect();
        let first = texts.first().cloned().unwrap_or_default();
        let list = texts.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ");
        match self.op {
            Op::Eq => format!("`{first}`"),
            Op::Ne => format!("other than `{first}`"),
            Op::Gt => format!("greater than {first}"),
            Op::Ge => format!("at least {first}"),
            Op::Lt => format!("less than {first}"),
            Op::Le => format!("at most {first}"),
            Op::In if list.is_empty() => "one of an empty list".to_owned(),
            Op::In => format!("one of {list}"),
            Op::NotIn => format!("none of {list}"),
            Op::Contains => format!("containing `{first}`"),
            Op::Absent => "missing".to_owned(),
            Op::Present => "present".to_owned(),
        }
    }
}

/// The tests of `when` that must all hold, in file order.
pub fn flatten(when: &Node) -> Vec<Test<'_>> {
    let mut out = Vec::new();
    collect(when, 0, &mut out);
    out
}

fn collect<'a>(node: &'a Node, depth: usize, out: &mut Vec<Test<'a>>) {
    if depth > MAX_DEPTH {
        return;
    }
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|i| collect(i, depth + 1, out)),
        Value::Map(entries) => {
            for (key, value, key_loc) in entries {
                match key.as_str() {
                    "all" => {
                        if let Value::Seq(items) = &value.value {
                            items.iter().for_each(|i| collect(i, depth + 1, out));
                        }
                    }
                    "any" | "not" => {}
                    path => leaf(path, key_loc, value, out),
                }
            }
        }
        _ => {}
    }
}

fn leaf<'a>(path: &'a str, key_loc: &Loc, test: &'a Node, out: &mut Vec<Test<'a>>) {
    let entries = match &test.value {
        Value::Map(entries) => entries,
        Value::Seq(_) => return,
        _ => {
            out.push(Test {
                path,
                op: Op::Eq,
                values: vec![test],
                loc: key_loc.clone(),
            });
            return;
        }
    };
    for (op, value, op_loc) in entries {
        let flag = matches!(value.value, Value::Bool(true));
        let (op, values) = match op.as_str() {
            "eq" => (Op::Eq, vec![value]),
            "ne" => (Op::Ne, vec![value]),
            "gt" => (Op::Gt, vec![value]),
            "ge" => (Op::Ge, vec![value]),
            "lt" => (Op::Lt, vec![value]),
            "le" => (Op::Le, vec![value]),
            "contains" => (Op::Contains, vec![value]),
            "in" | "not_in" => {
                let Value::Seq(items) = &value.value else {
                    continue;
                };
                let op = if op == "in" { Op::In } else { Op::NotIn };
                (op, items.iter().collect())
            }
            "missing" => (if flag { Op::Absent } else { Op::Present }, Vec::new()),
            "present" => (if flag { Op::Present } else { Op::Absent }, Vec::new()),
            _ => continue,
        };
        out.push(Test {
            path,
            op,
            values,
            loc: op_loc.clone(),
        });
    }
}
