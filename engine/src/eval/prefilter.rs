//! Static guards: the leading conjuncts of a policy's `when` that are plain comparisons of
//! a derived attribute with a literal (`principal.is_nhi`, `resource has days_idle`,
//! `resource.days_idle > 90` …). They are checked in Rust before a request reaches Cedar,
//! so each request carries only the policies that can still apply. A policy is skipped only
//! when a guard is definitely false and every guard before it was definitely true — exactly
//! when Cedar's left-to-right `&&` would stop there without an error — so answers never
//! change (the differential test runs both paths).

use serde_json::Value as Json;

use crate::derive::{Attr, Fact, Facts};

/// Which entity a guard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    Principal,
    Resource,
    System,
}

#[derive(Debug, Clone)]
enum Test {
    Present,
    Absent,
    Bool(bool),
    Cmp(&'static str, Json),
    In(Vec<Json>),
    SetHas(String),
}

#[derive(Debug, Clone)]
struct Guard {
    base: Base,
    /// `None` for a name that is no derived fact (never present).
    attr: Option<Attr>,
    test: Test,
}

/// The guards of one policy, in evaluation order, ending where the first conjunct that is
/// not a plain guard begins.
#[derive(Debug, Clone, Default)]
pub struct Guards(Vec<Guard>);

/// The facts a request can be judged on.
pub struct Subject<'a> {
    /// The principal (the identity).
    pub principal: &'a Facts,
    /// The resource: the entitlement, or the identity itself for identity rules.
    pub resource: &'a Facts,
    /// The entitlement's system, for entitlement rules.
    pub system: Option<&'a Facts>,
}

impl Guards {
    /// Reads the guards of a policy in Cedar's JSON form. Policies with scope constraints
    /// beyond the action, or with `unless` clauses, get no guards (always evaluated).
    pub fn of(policy: &Json) -> Self {
        let all = |k: &str| policy.get(k).and_then(|c| c.get("op")).and_then(Json::as_str) == Some("All");
        if !all("principal") || !all("resource") {
            return Self::default();
        }
        let mut conjuncts = Vec::new();
        for cond in policy.get("conditions").and_then(Json::as_array).into_iter().flatten() {
            if cond.get("kind").and_then(Json::as_str) != Some("when") {
                break;
            }
            if let Some(body) = cond.get("body") {
                flatten(body, &mut conjuncts);
            }
        }
        Self(conjuncts.iter().map_while(|c| guard(c)).collect())
    }

    /// False when the policy cannot be satisfied by this request (and cannot error).
    pub fn may_apply(&self, s: &Subject<'_>) -> bool {
        for g in &self.0 {
            let facts = match g.base {
                Base::Principal => Some(s.principal),
                Base::Resource => Some(s.resource),
                Base::System => s.system,
            };
            let Some(facts) = facts else { return true };
            match holds(g, facts) {
                Some(true) => continue,
                Some(false) => return false,
                None => return true,
            }
        }
        true
    }
}

/// Whether the policy may read an entity other than the principal and the resource (say
/// `resource.system.sox_in_scope`, or an entity literal's attribute): any attribute, tag or
/// `in` test on something that is not `principal` or `resource`. A request whose policies
/// all answer no needs only those two entities in its store. Errs on the side of yes: a
/// policy that is not in the expected form reads everything.
pub fn reads_other_entities(policy: &Json) -> bool {
    fn walk(e: &Json) -> bool {
        match e {
            Json::Array(items) => items.iter().any(walk),
            Json::Object(map) => map.iter().any(|(k, v)| {
                let looks_up = matches!(k.as_str(), "." | "has" | "getTag" | "hasTag" | "in");
                let on_own = v
                    .get("left")
                    .and_then(|l| l.get("Var"))
                    .and_then(Json::as_str)
                    .is_some_and(|var| matches!(var, "principal" | "resource") && k != "in");
                (looks_up && !on_own) || walk(v)
            }),
            _ => false,
        }
    }
    match policy.get("conditions") {
        Some(conditions) => walk(conditions),
        None => true,
    }
}

fn flatten<'a>(e: &'a Json, out: &mut Vec<&'a Json>) {
    if let Some(and) = e.get("&&") {
        if let (Some(l), Some(r)) = (and.get("left"), and.get("right")) {
            flatten(l, out);
            flatten(r, out);
            return;
        }
    }
    out.push(e);
}

fn base(e: &Json) -> Option<Base> {
    match e.get("Var").and_then(Json::as_str) {
        Some("principal") => return Some(Base::Principal),
        Some("resource") => return Some(Base::Resource),
        Some(_) => return None,
        None => {}
    }
    let get = e.get(".")?;
    (get.get("left")?.get("Var")?.as_str()? == "resource" && get.get("attr")?.as_str()? == "system")
        .then_some(Base::System)
}

/// `base.attr` as (base, attr).
fn access(e: &Json) -> Option<(Base, String)> {
    let get = e.get(".")?;
    Some((base(get.get("left")?)?, get.get("attr")?.as_str()?.to_owned()))
}

fn guard(e: &Json) -> Option<Guard> {
    let mk = |(base, attr): (Base, String), test| {
        Some(Guard {
            base,
            attr: Attr::of(&attr),
            test,
        })
    };
    if let Some(h) = e.get("has") {
        return mk(
            (base(h.get("left")?)?, h.get("attr")?.as_str()?.to_owned()),
            Test::Present,
        );
    }
    if let Some(a) = access(e) {
        return mk(a, Test::Bool(true));
    }
    if let Some(arg) = e.get("!").and_then(|n| n.get("arg")) {
        if let Some(h) = arg.get("has") {
            return mk(
                (base(h.get("left")?)?, h.get("attr")?.as_str()?.to_owned()),
                Test::Absent,
            );
        }
        return mk(access(arg)?, Test::Bool(false));
    }
    for op in ["==", "!=", "<", "<=", ">", ">="] {
        if let Some(b) = e.get(op) {
            let value = b.get("right")?.get("Value")?.clone();
            return mk(access(b.get("left")?)?, Test::Cmp(op, value));
        }
    }
    if let Some(c) = e.get("contains") {
        let (left, right) = (c.get("left")?, c.get("right")?);
        if let Some(items) = left.get("Set").and_then(Json::as_array) {
            let values = items
                .iter()
                .map(|i| i.get("Value").cloned())
                .collect::<Option<Vec<_>>>()?;
            return mk(access(right)?, Test::In(values));
        }
        let s = right.get("Value")?.as_str()?.to_owned();
        return mk(access(left)?, Test::SetHas(s));
    }
    None
}

/// `Some(outcome)` when the guard can be decided without error, else `None`.
fn holds(g: &Guard, facts: &Facts) -> Option<bool> {
    let fact = g.attr.and_then(|a| facts.attr(a));
    match (&g.test, fact) {
        (Test::Present, f) => Some(f.is_some()),
        (Test::Absent, f) => Some(f.is_none()),
        (_, None) => None,
        (Test::Bool(want), Some(Fact::Bool(b))) => Some(b == want),
        (Test::Cmp(op, v), Some(f)) => compare(op, f, v),
        (Test::In(values), Some(f)) => values
            .iter()
            .map(|v| compare("==", f, v))
            .try_fold(false, |acc, r| r.map(|b| acc || b)),
        (Test::SetHas(s), Some(Fact::Set(items))) => Some(items.iter().any(|i| i == s)),
        _ => None,
    }
}

fn compare(op: &str, f: &Fact, v: &Json) -> Option<bool> {
    use std::cmp::Ordering;
    let ord: Ordering = match (f, v) {
        (Fact::Long(a), Json::Number(n)) => a.cmp(&n.as_i64()?),
        (Fact::Str(a), Json::String(b)) if matches!(op, "==" | "!=") => a.as_str().cmp(b.as_str()),
        (Fact::Bool(a), Json::Bool(b)) if matches!(op, "==" | "!=") => a.cmp(b),
        _ => return None,
    };
    Some(match op {
        "==" => ord == Ordering::Equal,
        "!=" => ord != Ordering::Equal,
        "<" => ord == Ordering::Less,
        "<=" => ord != Ordering::Greater,
        ">" => ord == Ordering::Greater,
        ">=" => ord != Ordering::Less,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use cedar_policy::Policy;

    use super::reads_other_entities;

    fn reads(text: &str) -> bool {
        let policy = Policy::from_str(text).expect("the test policy parses");
        reads_other_entities(&policy.to_json().expect("the test policy has a JSON form"))
    }

    #[test]
    fn attributes_of_principal_and_resource_need_no_other_entity() {
        assert!(!reads(
            "forbid(principal, action, resource) when { principal.is_nhi && resource.days_idle > 90 };"
        ));
        assert!(!reads(
            r#"forbid(principal, action, resource) when { resource.system == Dualtrack::System::"erp" };"#
        ));
    }

    #[test]
    fn the_system_an_entity_literal_or_in_may_need_another_entity() {
        assert!(reads(
            "forbid(principal, action, resource) when { resource.privileged && resource.system.sox_in_scope };"
        ));
        assert!(reads(
            r#"forbid(principal, action, resource) when { Dualtrack::System::"erp".sox_in_scope };"#
        ));
        assert!(reads(
            r#"forbid(principal, action, resource) when { resource.system.hasTag("tier") };"#
        ));
        assert!(reads(
            r#"forbid(principal, action, resource) when { principal in Dualtrack::Identity::"root" };"#
        ));
    }
}
