//! `lint --prove`: rules that can never fire (vacuous), can error at runtime (Cedar skips an
//! erroring `forbid`; `check` stops with DT301), or are equivalent to or shadowed by another
//! rule of their track. Each is proven over every input the schema allows; a question the
//! solver cannot decide is reported as such, never as a pass.

use cedar_policy::RequestEnv;
use cedar_policy_symcc::CompiledPolicy;

use crate::diag::{Code, Problem};
use crate::model::Model;
use crate::policy::{Pack, Rule};

use super::ask::{ask_all, Query};
use super::{example, request_envs, Solver};

/// A rule compiled for every request environment (`None` where it cannot be encoded).
struct Compiled<'a> {
    rule: &'a Rule,
    per_env: Vec<Option<CompiledPolicy>>,
}

/// What the solver answered across environments: proven for all, refuted, or undecided.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Holds,
    Fails,
    Unknown,
}

fn combine(a: Answer, b: Answer) -> Answer {
    match (a, b) {
        (Answer::Fails, _) | (_, Answer::Fails) => Answer::Fails,
        (Answer::Unknown, _) | (_, Answer::Unknown) => Answer::Unknown,
        _ => Answer::Holds,
    }
}

/// Proof-backed lint diagnostics for `pack`, in pack order.
pub fn lint(pack: &Pack, model: &Model, solver: &Solver) -> Result<Vec<Problem>, String> {
    let envs: Vec<RequestEnv> = request_envs(model);
    let compiled: Vec<Compiled<'_>> = pack
        .rules
        .iter()
        .map(|rule| Compiled {
            rule,
            per_env: envs
                .iter()
                .map(|env| CompiledPolicy::compile(&rule.policy, env, &model.schema).ok())
                .collect(),
        })
        .collect();

    // Round 1: per rule and environment, can it match, can it error?
    let mut queries = Vec::new();
    for c in &compiled {
        for p in c.per_env.iter().flatten() {
            queries.push(Query::NeverMatches(p));
            queries.push(Query::NeverErrors(p));
        }
    }
    let mut answers = ask_all(solver, &queries).into_iter();
    let mut out = Vec::new();
    // Per rule and environment: `Holds` when it never matches there.
    let mut never_in: Vec<Vec<Answer>> = Vec::with_capacity(compiled.len());
    for c in &compiled {
        let mut never = Answer::Holds;
        let mut errs = Answer::Holds;
        let mut error_example = None;
        let mut per_env = Vec::with_capacity(c.per_env.len());
        for p in &c.per_env {
            if p.is_none() {
                per_env.push(Answer::Unknown);
                never = combine(never, Answer::Unknown);
                errs = combine(errs, Answer::Unknown);
                continue;
            }
            let here = match answers.next() {
                Some(Ok(None)) => Answer::Holds,
                Some(Ok(Some(_))) => Answer::Fails,
                _ => Answer::Unknown,
            };
            per_env.push(here);
            never = combine(never, here);
            match answers.next() {
                Some(Ok(None)) => {}
                Some(Ok(Some(env))) => {
                    // Replayed: only an error the authorizer sees is reported.
                    if example::errors(&c.rule.policy, &env.request, &env.entities) == Ok(true) {
                        errs = Answer::Fails;
                        error_example.get_or_insert(example::Example::new(&env.request, &env.entities, false, false));
                    } else {
                        errs = combine(errs, Answer::Unknown);
                    }
                }
                _ => errs = combine(errs, Answer::Unknown),
            }
        }
        never_in.push(per_env);
        let loc = Some(c.rule.loc.clone());
        let id = &c.rule.id;
        match never {
            Answer::Holds => out.push(Problem::warning(
                Code::ProvenVacuous,
                loc.clone(),
                format!("rule `{id}` can never fire, on any inventory (proven)"),
            )),
            Answer::Unknown => out.push(Problem::note(
                Code::ProofInconclusive,
                loc.clone(),
                format!("the solver could not decide whether rule `{id}` can fire"),
            )),
            Answer::Fails => {}
        }
        match (errs, error_example) {
            (Answer::Fails, Some(ex)) => out.push(Problem::warning(
                Code::CanError,
                loc.clone(),
                format!(
                    "rule `{id}` can fail to evaluate (Cedar would skip it and miss the finding; `check` stops with DT301 instead), for example on:\n{}",
                    ex.snippet(&c.rule.reads, "  ")
                ),
            )),
            (Answer::Unknown, _) => out.push(Problem::note(
                Code::ProofInconclusive,
                loc.clone(),
                format!("the solver could not decide whether rule `{id}` can error"),
            )),
            _ => {}
        }
    }
    let vacuous = |i: usize| never_in.get(i).is_some_and(|v| v.iter().all(|a| *a == Answer::Holds));

    // Round 2: pairs of one track and subject that can both fire. In an environment where
    // the first never matches, it implies anything; where only the second never matches,
    // it implies nothing. Only the rest goes to the solver.
    let mut pairs: Vec<(usize, usize, [Answer; 2])> = Vec::new();
    let mut queries = Vec::new();
    let mut asked: Vec<(usize, usize)> = Vec::new();
    for (i, a) in compiled.iter().enumerate() {
        for (j, b) in compiled.iter().enumerate().skip(i + 1) {
            if a.rule.track != b.rule.track || a.rule.subject != b.rule.subject || vacuous(i) || vacuous(j) {
                continue;
            }
            let mut acc = [Answer::Holds, Answer::Holds];
            let never = |r: usize, k: usize| never_in.get(r).and_then(|v| v.get(k)).copied();
            for (k, (pa, pb)) in a.per_env.iter().zip(&b.per_env).enumerate() {
                let (Some(pa), Some(pb)) = (pa, pb) else {
                    acc = [Answer::Unknown, Answer::Unknown];
                    continue;
                };
                for (dir, (first, second, f, s)) in [(pa, pb, i, j), (pb, pa, j, i)].into_iter().enumerate() {
                    let trivially = match (never(f, k), never(s, k)) {
                        (Some(Answer::Holds), _) => Some(Answer::Holds),
                        (Some(Answer::Fails), Some(Answer::Holds)) => Some(Answer::Fails),
                        _ => None,
                    };
                    let Some(slot) = acc.get_mut(dir) else { continue };
                    match trivially {
                        Some(t) => *slot = combine(*slot, t),
                        None => {
                            queries.push(Query::Implies(first, second));
                            asked.push((pairs.len(), dir));
                        }
                    }
                }
            }
            pairs.push((i, j, acc));
        }
    }
    for ((pair, dir), answer) in asked.into_iter().zip(ask_all(solver, &queries)) {
        let a = match answer {
            Ok(None) => Answer::Holds,
            Ok(Some(_)) => Answer::Fails,
            Err(_) => Answer::Unknown,
        };
        if let Some(slot) = pairs.get_mut(pair).and_then(|p| p.2.get_mut(dir)) {
            *slot = combine(*slot, a);
        }
    }
    for (i, j, [a_in_b, b_in_a]) in pairs {
        let (Some(a), Some(b)) = (compiled.get(i), compiled.get(j)) else {
            continue;
        };
        let (ida, idb) = (&a.rule.id, &b.rule.id);
        let track = a.rule.track.as_str();
        match (a_in_b, b_in_a) {
            (Answer::Holds, Answer::Holds) => out.push(Problem::warning(
                Code::ProvenEquivalent,
                Some(b.rule.loc.clone()),
                format!("rules `{ida}` and `{idb}` of the {track} track fire on exactly the same inputs (proven)"),
            )),
            (Answer::Holds, _) => out.push(Problem::warning(
                Code::Shadowed,
                Some(a.rule.loc.clone()),
                format!("wherever rule `{ida}` fires, rule `{idb}` of the {track} track fires too (proven): `{ida}` is shadowed"),
            )),
            (_, Answer::Holds) => out.push(Problem::warning(
                Code::Shadowed,
                Some(b.rule.loc.clone()),
                format!("wherever rule `{idb}` fires, rule `{ida}` of the {track} track fires too (proven): `{idb}` is shadowed"),
            )),
            (Answer::Unknown, _) | (_, Answer::Unknown) => out.push(Problem::note(
                Code::ProofInconclusive,
                Some(a.rule.loc.clone()),
                format!("the solver could not decide whether rules `{ida}` and `{idb}` of the {track} track shadow each other"),
            )),
            _ => {}
        }
    }
    Ok(out)
}
