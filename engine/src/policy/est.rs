//! Builders for Cedar's structured (JSON) policy form. YAML rules and the SoD matrix are
//! compiled through these, so a YAML value is always a literal and can never change a
//! policy's meaning; Cedar text is only ever produced by Cedar from this form.

use serde_json::{json, Value as Json};

/// `principal`, `resource` or `context`.
pub fn var(name: &str) -> Json {
    json!({ "Var": name })
}

/// A literal string, number or boolean.
pub fn lit(v: impl Into<Json>) -> Json {
    node("Value", v.into())
}

/// A literal set.
pub fn set(items: Vec<Json>) -> Json {
    node("Set", Json::Array(items))
}

/// `left.attr`.
pub fn get(left: Json, attr: &str) -> Json {
    node(".", fields([("left", left), ("attr", Json::from(attr))]))
}

/// `left has attr`.
pub fn has(left: Json, attr: &str) -> Json {
    node("has", fields([("left", left), ("attr", Json::from(attr))]))
}

/// `left.hasTag(tag)`.
pub fn has_tag(left: Json, tag: &str) -> Json {
    bin("hasTag", left, lit(tag))
}

/// `left.getTag(tag)`.
pub fn get_tag(left: Json, tag: &str) -> Json {
    bin("getTag", left, lit(tag))
}

/// A binary operator: `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||`, `contains`.
pub fn bin(op: &str, left: Json, right: Json) -> Json {
    node(op, fields([("left", left), ("right", right)]))
}

/// `!arg`.
pub fn not(arg: Json) -> Json {
    node("!", fields([("arg", arg)]))
}

/// `{ key: value }`. Built by moving `value` in: `json!` would copy it (it serialises
/// embedded values), which made compiling a long condition quadratic.
fn node(key: &str, value: Json) -> Json {
    fields([(key, value)])
}

fn fields<const N: usize>(entries: [(&str, Json); N]) -> Json {
    Json::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Operands chained left to right (`a && b && c`) before chains are grouped: every
/// condition of a hand-written rule fits, and its Cedar reads as written.
const CHAIN: usize = 16;

/// All of `parts` (`true` when empty).
pub fn and_all(parts: Vec<Json>) -> Json {
    chain("&&", parts).unwrap_or_else(|| lit(true))
}

/// Any of `parts` (`false` when empty).
pub fn or_any(parts: Vec<Json>) -> Json {
    chain("||", parts).unwrap_or_else(|| lit(false))
}

/// `parts` joined by the associative `op`. A left-nested chain is as deep as it is long,
/// and Cedar (parsing, validating, evaluating, printing) recurses once per level: a rule
/// with thousands of conditions overflowed the stack. Past [`CHAIN`] operands the chain is
/// cut into groups of [`CHAIN`] joined the same way, so depth grows with the logarithm of
/// the length. Evaluation order (and so short-circuiting) is unchanged.
fn chain(op: &str, parts: Vec<Json>) -> Option<Json> {
    if parts.len() <= CHAIN {
        return parts.into_iter().reduce(|a, b| bin(op, a, b));
    }
    let mut groups = Vec::with_capacity(parts.len().div_ceil(CHAIN));
    let mut rest = parts.into_iter().peekable();
    while rest.peek().is_some() {
        let group: Vec<Json> = rest.by_ref().take(CHAIN).collect();
        groups.extend(group.into_iter().reduce(|a, b| bin(op, a, b)));
    }
    chain(op, groups)
}

/// A whole `forbid` policy on one dualtrack action with a `when` body and annotations.
pub fn forbid(action: &str, body: Json, annotations: &[(&str, String)]) -> Json {
    let ann: serde_json::Map<String, Json> = annotations
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Json::String(v.clone())))
        .collect();
    let when = fields([("kind", Json::from("when")), ("body", body)]);
    fields([
        ("effect", Json::from("forbid")),
        ("principal", json!({ "op": "All" })),
        (
            "action",
            json!({ "op": "==", "entity": { "type": "Dualtrack::Action", "id": action } }),
        ),
        ("resource", json!({ "op": "All" })),
        ("conditions", Json::Array(vec![when])),
        ("annotations", Json::Object(ann)),
    ])
}

/// The attribute paths a policy reads, as dualtrack names them (`identity.days_since_seen`,
/// `entitlement.privileged`, `system.sox_in_scope`, `identity.tags.shared`), sorted and
/// unique. `subject_is_identity` tells whether `resource` is the identity itself.
pub fn read_paths(policy: &Json, subject_is_identity: bool) -> Vec<String> {
    let mut out = Vec::new();
    walk(policy, subject_is_identity, &mut out);
    out.sort();
    out.dedup();
    out
}

fn base(e: &Json, subject_is_identity: bool) -> Option<String> {
    if let Some(v) = e.get("Var").and_then(Json::as_str) {
        return match v {
            "principal" => Some("identity".to_owned()),
            "resource" if subject_is_identity => Some("identity".to_owned()),
            "resource" => Some("entitlement".to_owned()),
            _ => None,
        };
    }
    let inner = e.get(".")?;
    let left = base(inner.get("left")?, subject_is_identity)?;
    let attr = inner.get("attr")?.as_str()?;
    (left == "entitlement" && attr == "system").then(|| "system".to_owned())
}

fn walk(e: &Json, subject_is_identity: bool, out: &mut Vec<String>) {
    match e {
        Json::Object(map) => {
            for (k, v) in map {
                if k == "." || k == "has" {
                    if let (Some(left), Some(attr)) = (v.get("left"), v.get("attr").and_then(Json::as_str)) {
                        if let Some(b) = base(left, subject_is_identity) {
                            if !(b == "entitlement" && attr == "system") {
                                out.push(format!("{b}.{attr}"));
                            }
                        }
                    }
                }
                if k == "getTag" || k == "hasTag" {
                    if let (Some(left), Some(tag)) = (
                        v.get("left"),
                        v.get("right").and_then(|r| r.get("Value")).and_then(Json::as_str),
                    ) {
                        if let Some(b) = base(left, subject_is_identity) {
                            out.push(format!("{b}.tags.{tag}"));
                        }
                    }
                }
                if k != "annotations" {
                    walk(v, subject_is_identity, out);
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|i| walk(i, subject_is_identity, out)),
        _ => {}
    }
}
