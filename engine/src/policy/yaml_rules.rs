//! Rules written in YAML by compliance teams, compiled to Cedar's structured form.
//!
//! ```yaml
//! rules:
//!   - id: SOC-STALE-001
//!     title: Entitlement unused for more than 90 days
//!     track: soc
//!     category: stale
//!     severity: medium
//!     controls: [CC6.2, PR.AA-05]
//!     applies_to: entitlement
//!     when:
//!       - entitlement.days_idle: { gt: 90 }
//!     remediation: Revoke the entitlement or record why it is still needed.
//! ```
//!
//! A condition is a list (all must hold), `all:`, `any:`, `not:`, or `path: test` where the
//! test is a literal (equality) or a map of `eq`, `ne`, `gt`, `ge`, `lt`, `le`, `in`,
//! `not_in`, `contains`, `missing`, `present`. A comparison on an absent attribute is false;
//! `missing: true` tests for absence.

use cedar_policy::{Policy, PolicyId};
use serde_json::Value as Json;
use std::str::FromStr;

use crate::diag::{suggest, Code, Problem, Problems};
use crate::model::{AttrType, Model};
use crate::node::{Fields, Node, Value};
use crate::source::Loc;

use super::{est, Category, Involves, Origin, Rule, Severity, Subject, Track};

/// Fields of a YAML rule.
pub const RULE_FIELDS: &[&str] = &[
    "id",
    "title",
    "track",
    "category",
    "severity",
    "controls",
    "nhi_controls",
    "applies_to",
    "involves",
    "when",
    "message",
    "remediation",
    "description",
];

/// Comparison operators a condition may use.
pub const OPERATORS: &[&str] = &[
    "eq", "ne", "gt", "ge", "lt", "le", "in", "not_in", "contains", "missing", "present",
];

const MAX_DEPTH: usize = 32;

/// Compiles every rule of a `rules:` file.
pub fn compile_file(root: &Node, model: &Model, sink: &mut Problems) -> Vec<Rule> {
    let Some(file) = Fields::new(root, "rules file", &["rules"], sink) else {
        return Vec::new();
    };
    let Some(list) = file.get("rules") else {
        return Vec::new();
    };
    let items = match list.as_seq("`rules`") {
        Ok(i) => i,
        Err(p) => {
            sink.push(p);
            return Vec::new();
        }
    };
    items
        .iter()
        .filter_map(|node| compile_rule(node, model, sink))
        .collect()
}

fn compile_rule(node: &Node, model: &Model, sink: &mut Problems) -> Option<Rule> {
    let f = Fields::new(node, "rule", RULE_FIELDS, sink)?;
    let id = f.req_str("id", sink);
    let title = f.req_str("title", sink);
    let track = required_enum(&f, "track", Track::CHOICES, sink);
    let category = required_enum(&f, "category", Category::CHOICES, sink);
    let severity = required_enum(&f, "severity", Severity::CHOICES, sink);
    let controls = f.opt_list("controls", sink);
    if controls.is_empty() {
        sink.push(
            Problem::error(Code::MissingField, Some(f.loc().clone()), "rule cites no `controls`")
                .with_help("list the control ids this rule tests, e.g. `controls: [CC6.3, PR.AA-05]`"),
        );
    }
    let nhi_controls = f.opt_list("nhi_controls", sink);
    let subject = required_enum(&f, "applies_to", Subject::CHOICES, sink);
    let involves = f.opt_enum("involves", Involves::CHOICES, sink).unwrap_or(Involves::All);
    let remediation = f.req_str("remediation", sink);
    let message = f.opt_str("message", sink).map(|s| s.value);
    let description = f.opt_str("description", sink).map(|s| s.value).unwrap_or_default();
    let when = f.get("when");
    if when.is_none() {
        sink.push(
            Problem::error(
                Code::MissingField,
                Some(f.loc().clone()),
                "rule has no `when` condition",
            )
            .with_help("add `when:` with the conditions under which access is a finding"),
        );
    }
    let (id, subject, when) = (id?, subject?, when?);
    let body = condition(when, subject, model, 0, sink)?;
    let (title, track, category, severity, remediation) = (title?, track?, category?, severity?, remediation?);
    let annotations = [
        ("id", id.value.clone()),
        ("track", track.as_str().to_owned()),
        ("category", category.as_str().to_owned()),
        ("severity", severity.as_str().to_owned()),
        (
            "controls",
            controls.iter().map(|c| c.value.as_str()).collect::<Vec<_>>().join(", "),
        ),
        ("title", title.value.clone()),
        ("remediation", remediation.value.clone()),
    ];
    let json = est::forbid(subject.action(), body, &annotations);
    let reads = est::read_paths(&json, subject == Subject::Identity);
    let pid = PolicyId::from_str(&id.value).ok();
    let policy = match Policy::from_json(pid, json) {
        Ok(p) => p,
        Err(e) => {
            sink.push(Problem::error(
                Code::CedarValidation,
                Some(id.loc.clone()),
                format!("rule `{}` does not compile to Cedar: {e}", id.value),
            ));
            return None;
        }
    };
    Some(Rule {
        id: id.value,
        title: title.value,
        track,
        category,
        severity,
        controls: controls.into_iter().map(|c| c.value).collect(),
        nhi_controls: nhi_controls.into_iter().map(|c| c.value).collect(),
        subject,
        involves,
        functions: Vec::new(),
        message,
        remediation: remediation.value,
        description,
        policy,
        reads,
        loc: f.loc().clone(),
        origin: Origin::Yaml,
    })
}

fn required_enum<T: Copy>(f: &Fields<'_>, key: &str, choices: &[(&str, T)], sink: &mut Problems) -> Option<T> {
    if f.get(key).is_none() {
        f.req_str(key, sink);
        return None;
    }
    f.opt_enum(key, choices, sink)
}

fn condition(node: &Node, subject: Subject, model: &Model, depth: usize, sink: &mut Problems) -> Option<Json> {
    if depth > MAX_DEPTH {
        sink.push(Problem::error(
            Code::Shape,
            Some(node.loc.clone()),
            "condition is nested too deeply",
        ));
        return None;
    }
    match &node.value {
        Value::Seq(items) => {
            let parts: Vec<Option<Json>> = items
                .iter()
                .map(|i| condition(i, subject, model, depth + 1, sink))
                .collect();
            parts.into_iter().collect::<Option<Vec<_>>>().map(est::and_all)
        }
        Value::Map(entries) => {
            let mut parts = Vec::new();
            for (key, value, key_loc) in entries {
                parts.push(match key.as_str() {
                    "all" | "any" => {
                        let items = match value.as_seq(&format!("`{key}`")) {
                            Ok(i) => i,
                            Err(p) => {
                                sink.push(p);
                                return None;
                            }
                        };
                        let sub: Option<Vec<Json>> = items
                            .iter()
                            .map(|i| condition(i, subject, model, depth + 1, sink))
                            .collect();
                        sub.map(if key == "all" { est::and_all } else { est::or_any })
                    }
                    "not" => condition(value, subject, model, depth + 1, sink).map(est::not),
                    path => leaf(path, key_loc, value, subject, model, sink),
                });
            }
            parts.into_iter().collect::<Option<Vec<_>>>().map(est::and_all)
        }
        _ => {
            sink.push(
                Problem::error(
                    Code::Shape,
                    Some(node.loc.clone()),
                    format!("a condition must be a map or a list, found {}", node.kind()),
                )
                .with_help("write `attribute.path: value` or `attribute.path: { gt: 90 }`"),
            );
            None
        }
    }
}

/// An attribute reference: the Cedar expression, the guard that it is present, its type.
struct Target {
    expr: Json,
    guard: Option<Json>,
    ty: AttrType,
}

fn resolve(path: &str, loc: &Loc, subject: Subject, model: &Model, sink: &mut Problems) -> Option<Target> {
    let mut parts = path.splitn(3, '.');
    let (root, attr, rest) = (parts.next().unwrap_or_default(), parts.next(), parts.next());
    let roots: &[&str] = match subject {
        Subject::Entitlement => &["identity", "entitlement", "system"],
        Subject::Identity => &["identity"],
    };
    let unknown = |sink: &mut Problems, msg: String, help: String| {
        sink.push(
            Problem::error(Code::UnknownAttribute, Some(loc.clone()), msg)
                .with_label("unknown attribute path")
                .with_help(help),
        );
    };
    if !roots.contains(&root) {
        let help = if root == "entitlement" || root == "system" {
            "identity rules (`applies_to: identity`) can only read `identity.*`".to_owned()
        } else {
            format!(
                "{}; conditions, `all`, `any` and `not` are the other keys",
                suggest(root, roots)
            )
        };
        unknown(sink, format!("unknown attribute path `{path}`"), help);
        return None;
    }
    let base = match root {
        "identity" => est::var("principal"),
        "entitlement" => est::var("resource"),
        _ => est::get(est::var("resource"), "system"),
    };
    let Some(attr) = attr else {
        unknown(
            sink,
            format!("`{path}` names a record, not an attribute"),
            format!("write `{root}.<attribute>`"),
        );
        return None;
    };
    if attr == "tags" && root != "entitlement" {
        let Some(tag) = rest else {
            unknown(
                sink,
                format!("`{path}` needs a tag name"),
                format!("write `{root}.tags.<name>`"),
            );
            return None;
        };
        return Some(Target {
            expr: est::get_tag(base.clone(), tag),
            guard: Some(est::has_tag(base, tag)),
            ty: AttrType::String,
        });
    }
    let entity = root;
    let Some(a) = model.attr(entity, attr).filter(|a| a.ty != AttrType::Entity) else {
        let names: Vec<&str> = model
            .attr_names(entity)
            .into_iter()
            .filter(|n| *n != "system")
            .collect();
        unknown(
            sink,
            format!("unknown attribute `{attr}` of {entity} in `{path}`"),
            suggest(attr, &names),
        );
        return None;
    };
    if rest.is_some() {
        unknown(
            sink,
            format!("`{path}` goes past attribute `{attr}`"),
            format!("write `{root}.{attr}`"),
        );
        return None;
    }
    let guard = (!a.required).then(|| est::has(base.clone(), attr));
    Some(Target {
        expr: est::get(base, attr),
        guard,
        ty: a.ty,
    })
}

fn literal(node: &Node, ty: AttrType, op: &str, path: &str, sink: &mut Problems) -> Option<Json> {
    let ok = match (&node.value, ty) {
        (Value::Bool(b), AttrType::Bool) => Some(Json::Bool(*b)),
        (Value::Int(i, _), AttrType::Long) => Some(Json::from(*i)),
        (Value::Str(s), AttrType::String | AttrType::Set) => Some(Json::String(s.clone())),
        // An integer compares as written, as it does in an inventory id; a float would be
        // rounded text, so it is refused (quote it).
        (Value::Int(..) | Value::Bool(_), AttrType::String | AttrType::Set) => node.scalar_text().map(Json::String),
        _ => None,
    };
    if ok.is_none() {
        let want = match ty {
            AttrType::Bool => "`true` or `false`",
            AttrType::Long => "a whole number",
            AttrType::String | AttrType::Set => "a string",
            AttrType::Entity => "nothing",
        };
        sink.push(
            Problem::error(
                Code::BadValue,
                Some(node.loc.clone()),
                format!("`{op}` on `{path}` needs {want}, found {}", node.kind()),
            )
            .with_label("wrong type of value"),
        );
    }
    ok.map(est::lit)
}

fn leaf(path: &str, key_loc: &Loc, test: &Node, subject: Subject, model: &Model, sink: &mut Problems) -> Option<Json> {
    let target = resolve(path, key_loc, subject, model, sink)?;
    let guarded = |e: Json| match &target.guard {
        Some(g) => est::bin("&&", g.clone(), e),
        None => e,
    };
    let ops: Vec<(String, &Node, Loc)> = match &test.value {
        Value::Map(entries) => entries.iter().map(|(k, v, l)| (k.clone(), v, l.clone())).collect(),
        Value::Seq(_) => {
            sink.push(
                Problem::error(
                    Code::Shape,
                    Some(test.loc.clone()),
                    format!("`{path}` is compared with a list"),
                )
                .with_help("to test membership write `{ in: [a, b] }`"),
            );
            return None;
        }
        _ => vec![("eq".to_owned(), test, test.loc.clone())],
    };
    let mut parts = Vec::new();
    for (op, value, op_loc) in ops {
        let cmp = |sym: &str, sink: &mut Problems| -> Option<Json> {
            if matches!(sym, "<" | "<=" | ">" | ">=") && target.ty != AttrType::Long {
                sink.push(
                    Problem::error(
                        Code::BadValue,
                        Some(op_loc.clone()),
                        format!("`{op}` needs a number attribute, `{path}` is not one"),
                    )
                    .with_help("use `eq`, `ne` or `in`"),
                );
                return None;
            }
            if target.ty == AttrType::Set {
                sink.push(
                    Problem::error(Code::BadValue, Some(op_loc.clone()), format!("`{path}` is a set"))
                        .with_help("test a set with `contains`"),
                );
                return None;
            }
            Some(guarded(est::bin(
                sym,
                target.expr.clone(),
                literal(value, target.ty, &op, path, sink)?,
            )))
        };
        let part = match op.as_str() {
            "eq" => cmp("==", sink),
            "ne" => cmp("!=", sink),
            "gt" => cmp(">", sink),
            "ge" => cmp(">=", sink),
            "lt" => cmp("<", sink),
            "le" => cmp("<=", sink),
            "in" | "not_in" => {
                let items = match value.as_seq(&format!("`{op}`")) {
                    Ok(i) => i,
                    Err(p) => {
                        sink.push(p);
                        return None;
                    }
                };
                let lits: Option<Vec<Json>> = items.iter().map(|i| literal(i, target.ty, &op, path, sink)).collect();
                let member = est::bin("contains", est::set(lits?), target.expr.clone());
                Some(guarded(if op == "in" { member } else { est::not(member) }))
            }
            "contains" => {
                if target.ty != AttrType::Set {
                    sink.push(
                        Problem::error(
                            Code::BadValue,
                            Some(op_loc.clone()),
                            format!("`contains` needs a set attribute, `{path}` is not one"),
                        )
                        .with_help("use `eq` or `in`"),
                    );
                    return None;
                }
                Some(est::bin(
                    "contains",
                    target.expr.clone(),
                    literal(value, AttrType::Set, &op, path, sink)?,
                ))
            }
            "missing" | "present" => {
                let Value::Bool(flag) = value.value else {
                    sink.push(Problem::error(
                        Code::BadValue,
                        Some(value.loc.clone()),
                        format!("`{op}` takes `true` or `false`"),
                    ));
                    return None;
                };
                let present = target.guard.clone().unwrap_or_else(|| est::lit(true));
                Some(if (op == "present") == flag {
                    present
                } else {
                    est::not(present)
                })
            }
            other => {
                sink.push(
                    Problem::error(
                        Code::UnknownField,
                        Some(op_loc.clone()),
                        format!("unknown operator `{other}` on `{path}`"),
                    )
                    .with_help(suggest(other, OPERATORS)),
                );
                None
            }
        };
        parts.push(part?);
    }
    Some(est::and_all(parts))
}
