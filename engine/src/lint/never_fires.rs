//! YAML rules that can never fire: tests on one attribute path that exclude each other
//! (`gt: 90` and `lt: 30`, two different `eq` values, `missing` and a comparison), and
//! tests against a value the attribute never takes (`identity.kind: robot`, a function id
//! the catalog does not hold, a negative count, `missing` on an attribute always present).

use std::collections::BTreeSet;

use crate::diag::{suggest, Code, Problem, Problems};
use crate::inventory::{Acts, IdentityKind, Status};
use crate::model::{AttrType, Model};
use crate::node::{Node, Value};
use crate::policy::{sod_pair_key, FunctionCatalog, Pack, Rule};

use super::conditions::{flatten, Op, Test};
use super::locate::{entry, PackTree};

/// The values an attribute can take, where dualtrack knows them.
enum Domain {
    /// Anything of its type.
    Any,
    /// One of these strings (for a set: its items are).
    Strings(Vec<String>),
    /// A count: never negative.
    NonNegative,
}

/// What lint knows of an attribute path.
struct Attr {
    ty: AttrType,
    required: bool,
    domain: Domain,
}

/// Runs both checks on every YAML rule of `pack`.
pub fn check(pack: &Pack, tree: &PackTree, model: &Model, sink: &mut Problems) {
    for rule in &pack.rules {
        let Some(when) = tree.rule_node(rule).and_then(|n| entry(n, "when")) else {
            continue;
        };
        let tests = flatten(when);
        for test in &tests {
            if let Some(attr) = attr(test.path, model, &pack.functions) {
                if let Some(p) = outside_domain(rule, test, &attr) {
                    sink.push(p);
                }
            }
        }
        if let Some(p) = contradiction(rule, &tests, model, &pack.functions) {
            sink.push(p);
        }
    }
}

fn attr(path: &str, model: &Model, functions: &FunctionCatalog) -> Option<Attr> {
    let mut parts = path.splitn(3, '.');
    let (root, name, rest) = (parts.next()?, parts.next()?, parts.next());
    if name == "tags" && rest.is_some() {
        return Some(Attr {
            ty: AttrType::String,
            required: false,
            domain: Domain::Any,
        });
    }
    let a = model.attr(root, name)?;
    let statuses = || Status::CHOICES.iter().map(|(s, _)| (*s).to_owned());
    let function_ids = || functions.functions.iter().map(|f| f.id.clone());
    let domain = match (root, name) {
        ("identity", "kind") => Domain::Strings(IdentityKind::CHOICES.iter().map(|(k, _)| (*k).to_owned()).collect()),
        ("identity", "status") => Domain::Strings(statuses().collect()),
        // See `derive.rs`: an identity's status, `none` without owner, `unknown` when the
        // owner is not in the inventory.
        (_, "owner_status") => Domain::Strings(
            ["none", "unknown"]
                .map(str::to_owned)
                .into_iter()
                .chain(statuses())
                .collect(),
        ),
        (_, "functions" | "sox_functions") => Domain::Strings(function_ids().collect()),
        ("identity", "sox_same_system_pairs") => {
            let ids: Vec<String> = function_ids().collect();
            let pairs = ids
                .iter()
                .flat_map(|a| ids.iter().filter(move |b| a < *b).map(move |b| sod_pair_key(a, b)));
            Domain::Strings(pairs.collect())
        }
        ("identity", "acts") => Domain::Strings(Acts::CHOICES.iter().map(|(k, _)| (*k).to_owned()).collect()),
        (
            "identity",
            "entitlement_count"
            | "privileged_count"
            | "sox_entitlement_count"
            | "sponsor_count"
            | "active_sponsor_count"
            | "delegation_conflict_count",
        ) => Domain::NonNegative,
        _ => Domain::Any,
    };
    Some(Attr {
        ty: a.ty,
        required: a.required,
        domain,
    })
}

fn int(node: &Node) -> Option<i64> {
    match node.value {
        Value::Int(i, _) => Some(i),
        _ => None,
    }
}

fn ticks(values: &[String]) -> String {
    values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
}

/// A test against a value the attribute never takes.
fn outside_domain(rule: &Rule, test: &Test<'_>, attr: &Attr) -> Option<Problem> {
    let path = test.path;
    let never = |what: String| format!("rule `{}` can never fire: `{path}` {what}", rule.id);
    if test.op == Op::Absent && attr.required {
        return Some(
            Problem::warning(
                Code::OutsideDomain,
                Some(test.loc.clone()),
                never("is always present".into()),
            )
            .with_label("never missing")
            .with_help("only optional attributes (`?` in `schemas/dualtrack.cedarschema`) can be missing"),
        );
    }
    match &attr.domain {
        Domain::Any => None,
        Domain::NonNegative => {
            let below_zero = |n: &Node| int(n).is_some_and(|v| v < 0);
            let dead = match test.op {
                Op::Lt => test.values.iter().any(|n| int(n).is_some_and(|v| v <= 0)),
                Op::Le | Op::Eq => test.values.iter().any(|n| below_zero(n)),
                Op::In => !test.values.is_empty() && test.values.iter().all(|n| below_zero(n)),
                _ => false,
            };
            dead.then(|| {
                Problem::warning(
                    Code::OutsideDomain,
                    Some(test.loc.clone()),
                    never("is never negative".into()),
                )
                .with_label("a count is 0 or more")
                .with_help("compare the count with 0 or more, e.g. `{ gt: 0 }`")
            })
        }
        Domain::Strings(allowed) => {
            let bad: Vec<(&Node, String)> = test
                .values
                .iter()
                .filter_map(|n| n.scalar_text().map(|t| (*n, t)))
                .filter(|(_, t)| !allowed.contains(t))
                .collect();
            let (first_node, first) = bad.first()?;
            let names: Vec<&str> = allowed.iter().map(String::as_str).collect();
            let texts: Vec<String> = bad.iter().map(|(_, t)| t.clone()).collect();
            let all_bad = bad.len() == test.values.len();
            let message = match test.op {
                Op::Contains => never(format!("never contains `{first}`")),
                Op::Eq => never(format!("is never `{first}`")),
                Op::In if all_bad => never(format!("is never any of {}", ticks(&texts))),
                Op::In => format!(
                    "rule `{}` tests `{path}` for {}, a value it never takes",
                    rule.id,
                    ticks(&texts)
                ),
                _ => format!(
                    "rule `{}` compares `{path}` with {}, a value it never takes, so the test always holds",
                    rule.id,
                    ticks(&texts)
                ),
            };
            Some(
                Problem::warning(Code::OutsideDomain, Some(first_node.loc.clone()), message)
                    .with_label(format!("not a value of `{path}`"))
                    .with_help(suggest(first, &names)),
            )
        }
    }
}

/// The first pair of tests on one path that exclude each other (one problem per rule).
fn contradiction(rule: &Rule, tests: &[Test<'_>], model: &Model, functions: &FunctionCatalog) -> Option<Problem> {
    let paths: BTreeSet<&str> = tests.iter().map(|t| t.path).collect();
    // The test at which the tests so far stop being satisfiable, the earlier test it
    // conflicts with, and whether it cannot hold even alone (`in: []`).
    let mut found: Vec<(&Test<'_>, Option<&Test<'_>>, bool)> = Vec::new();
    for path in paths {
        let Some(attr) = attr(path, model, functions) else {
            continue;
        };
        let on_path: Vec<&Test<'_>> = tests.iter().filter(|t| t.path == path).collect();
        let Some(j) = (0..on_path.len()).find(|&j| !satisfiable(on_path.get(..=j).unwrap_or_default(), attr.ty)) else {
            continue;
        };
        let Some(&later) = on_path.get(j) else { continue };
        let earlier = on_path
            .get(..j)
            .unwrap_or_default()
            .iter()
            .find(|t| !satisfiable(&[**t, later], attr.ty))
            .copied();
        found.push((later, earlier, !satisfiable(&[later], attr.ty)));
    }
    found.sort_by_key(|(t, _, _)| t.loc.offset);
    let (later, earlier, alone) = found.into_iter().next()?;
    let path = later.path;
    let (message, label) = match earlier {
        Some(e) => (
            format!(
                "rule `{}` can never fire: `{path}` cannot be {} and {}",
                rule.id,
                e.describe(),
                later.describe()
            ),
            format!("contradicts line {}", e.loc.line),
        ),
        None if !alone => (
            format!(
                "rule `{}` can never fire: the tests on `{path}` exclude each other",
                rule.id
            ),
            "no value passes every test".to_owned(),
        ),
        None => (
            format!(
                "rule `{}` can never fire: `{path}` cannot be {}",
                rule.id,
                later.describe()
            ),
            "no value passes this test".to_owned(),
        ),
    };
    Some(
        Problem::warning(Code::NeverFires, Some(later.loc.clone()), message)
            .with_label(label)
            .with_help("every test in a `when:` list must hold at once; write alternatives under `any:`"),
    )
}

/// Whether some value (or its absence) passes every test, all on one path of type `ty`.
fn satisfiable(tests: &[&Test<'_>], ty: AttrType) -> bool {
    let absent = tests.iter().any(|t| t.op == Op::Absent);
    if absent {
        // Every other test needs the attribute present (a comparison on it is false).
        return tests.iter().all(|t| t.op == Op::Absent);
    }
    match ty {
        AttrType::Long => satisfiable_long(tests),
        AttrType::String | AttrType::Bool => {
            let mut allowed: Option<BTreeSet<String>> =
                (ty == AttrType::Bool).then(|| ["true", "false"].iter().map(|s| (*s).to_owned()).collect());
            let mut excluded = BTreeSet::new();
            for t in tests {
                let values: BTreeSet<String> = t.values.iter().filter_map(|v| v.scalar_text()).collect();
                match t.op {
                    Op::Eq | Op::In => {
                        allowed = Some(match allowed {
                            Some(a) => a.intersection(&values).cloned().collect(),
                            None => values,
                        });
                    }
                    Op::Ne | Op::NotIn => excluded.extend(values),
                    _ => {}
                }
            }
            allowed.is_none_or(|a| a.difference(&excluded).next().is_some())
        }
        AttrType::Set | AttrType::Entity => true,
    }
}

fn satisfiable_long(tests: &[&Test<'_>]) -> bool {
    let (mut lo, mut hi) = (i64::MIN, i64::MAX);
    let mut allowed: Option<BTreeSet<i64>> = None;
    let mut excluded = BTreeSet::new();
    for t in tests {
        let values: BTreeSet<i64> = t.values.iter().filter_map(|v| int(v)).collect();
        let v = values.first().copied();
        match (t.op, v) {
            (Op::Gt, Some(v)) => lo = lo.max(v.saturating_add(1)),
            (Op::Ge, Some(v)) => lo = lo.max(v),
            (Op::Lt, Some(v)) => hi = hi.min(v.saturating_sub(1)),
            (Op::Le, Some(v)) => hi = hi.min(v),
            (Op::Eq | Op::In, _) => {
                allowed = Some(match allowed {
                    Some(a) => a.intersection(&values).copied().collect(),
                    None => values,
                });
            }
            (Op::Ne | Op::NotIn, _) => excluded.extend(values),
            _ => {}
        }
    }
    if let Some(a) = allowed {
        return a.iter().any(|x| (lo..=hi).contains(x) && !excluded.contains(x));
    }
    if lo > hi {
        return false;
    }
    let width = u128::try_from(i128::from(hi) - i128::from(lo) + 1).unwrap_or(u128::MAX);
    let excluded_inside = excluded.iter().filter(|x| (lo..=hi).contains(*x)).count();
    width > u128::try_from(excluded_inside).unwrap_or(u128::MAX)
}

#[cfg(test)]
mod tests {
    use crate::model::AttrType;
    use crate::source::Source;

    use super::super::conditions::flatten;
    use super::satisfiable;

    /// Whether the tests of a `when:` written in YAML, all on one path of type `ty`, can hold.
    fn can_hold(when: &str, ty: AttrType) -> bool {
        let src = Source::new("when.yaml", when);
        let node = crate::yaml::parse(&src).unwrap();
        let tests = flatten(&node);
        satisfiable(&tests.iter().collect::<Vec<_>>(), ty)
    }

    #[test]
    fn numbers_need_a_value_inside_every_bound() {
        assert!(can_hold("[{x.n: {gt: 30, lt: 90}}]", AttrType::Long));
        assert!(!can_hold("[{x.n: {gt: 90}}, {x.n: {lt: 30}}]", AttrType::Long));
        assert!(!can_hold("[{x.n: {ge: 5, le: 4}}]", AttrType::Long));
        assert!(!can_hold("[{x.n: {in: [1, 2]}}, {x.n: {gt: 5}}]", AttrType::Long));
        assert!(!can_hold(
            "[{x.n: {ge: 1, le: 2}}, {x.n: {not_in: [1, 2]}}]",
            AttrType::Long
        ));
        assert!(can_hold(
            "[{x.n: {ge: 1, le: 3}}, {x.n: {not_in: [1, 2]}}]",
            AttrType::Long
        ));
        assert!(!can_hold("[{x.n: 5}, {x.n: {ne: 5}}]", AttrType::Long));
    }

    #[test]
    fn strings_and_booleans_need_one_common_value() {
        assert!(!can_hold("[{x.s: a}, {x.s: b}]", AttrType::String));
        assert!(can_hold("[{x.s: {in: [a, b]}}, {x.s: {ne: a}}]", AttrType::String));
        assert!(!can_hold(
            "[{x.s: {in: [a, b]}}, {x.s: {not_in: [b, a]}}]",
            AttrType::String
        ));
        assert!(can_hold("[{x.s: {ne: a}}, {x.s: {ne: b}}]", AttrType::String));
        assert!(!can_hold("[{x.b: true}, {x.b: false}]", AttrType::Bool));
        assert!(!can_hold("[{x.b: {ne: true}}, {x.b: {ne: false}}]", AttrType::Bool));
    }

    #[test]
    fn absence_excludes_every_comparison_and_any_is_not_flattened() {
        assert!(!can_hold("[{x.n: {missing: true}}, {x.n: {le: 3}}]", AttrType::Long));
        assert!(!can_hold(
            "[{x.n: {present: false}}, {x.n: {present: true}}]",
            AttrType::Long
        ));
        assert!(can_hold(
            "[{x.n: {missing: true}}, {x.n: {present: false}}]",
            AttrType::Long
        ));
        assert!(can_hold("{any: [{x.n: {gt: 9}}, {x.n: {lt: 1}}]}", AttrType::Long));
        assert!(!can_hold(
            "{all: [{x.n: {gt: 9}}, {all: [{x.n: {lt: 1}}]}]}",
            AttrType::Long
        ));
    }
}
