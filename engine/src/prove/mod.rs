//! Proofs about policies, over every inventory the schema allows: what a policy change can
//! add or hide (per rule, track and request environment), and which rules can never fire,
//! can error, or are shadowed by another. The proofs are over the compiled Cedar, decided by
//! `cedar-policy-symcc` and a local cvc5; every counterexample is replayed through the
//! `Authorizer` before it is reported, and an unknown answer is never a pass.

mod ask;
pub mod example;
mod lint;
mod report;
pub mod solver;

use std::collections::BTreeMap;

use cedar_policy::{Policy, RequestEnv};
use cedar_policy_symcc::{CompiledPolicy, Env};
use serde::Serialize;

use crate::model::Model;
use crate::policy::{Pack, Rule, Track};

use ask::{ask_all, Query};
pub use example::{Example, ExampleEntity};
pub use lint::lint;
pub use solver::{NoSolver, Solver, INSTALL_HINT};

/// What a change does to one rule's findings, over every inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The rule is new: it fires wherever it fires.
    Added,
    /// The rule is gone: every finding it gave is hidden.
    Removed,
    /// Base can fire where head cannot, and head where base cannot.
    AddsAndRemoves,
    /// Base can fire where head cannot (the change can hide findings), never the reverse.
    OnlyRemoves,
    /// Head can fire where base cannot (the change can add findings), never the reverse.
    OnlyAdds,
    /// The solver could not decide (time limit, unknown, unsupported), or a counterexample
    /// did not replay. Never a pass.
    Inconclusive,
    /// Base and head fire on exactly the same inputs.
    Equivalent,
}

crate::names!(Verdict {
    Equivalent = "equivalent",
    OnlyAdds = "only-adds",
    OnlyRemoves = "only-removes",
    AddsAndRemoves = "adds-and-removes",
    Added = "added",
    Removed = "removed",
    Inconclusive = "inconclusive",
});

impl Verdict {
    /// True when the change can hide findings (a finding base gives, head does not), or
    /// when that could not be ruled out.
    pub fn can_hide_findings(self) -> bool {
        matches!(
            self,
            Verdict::OnlyRemoves | Verdict::AddsAndRemoves | Verdict::Removed | Verdict::Inconclusive
        )
    }
}

/// The proof about one rule id of one track.
#[derive(Debug, Clone, Serialize)]
pub struct RuleProof {
    /// Rule id.
    pub rule: String,
    /// Track.
    pub track: Track,
    /// The verdict.
    pub verdict: Verdict,
    /// An input head fires on and base does not, replayed.
    pub adds_example: Option<Example>,
    /// An input base fires on and head does not, replayed.
    pub removes_example: Option<Example>,
    /// Why the verdict is inconclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Attribute paths base or head reads (to render examples).
    #[serde(skip)]
    pub reads: Vec<String>,
}

/// Every rule's proof, in report order (track, then rule id).
#[derive(Debug, Clone, Default)]
pub struct ProofReport {
    /// One entry per rule id and track in base or head.
    pub rules: Vec<RuleProof>,
}

impl ProofReport {
    /// How many rules have each verdict.
    pub fn counts(&self) -> BTreeMap<Verdict, usize> {
        let mut m = BTreeMap::new();
        for r in &self.rules {
            *m.entry(r.verdict).or_insert(0) += 1;
        }
        m
    }

    /// True when some change can hide findings or could not be proven not to.
    pub fn can_hide_findings(&self) -> bool {
        self.rules.iter().any(|r| r.verdict.can_hide_findings())
    }
}

impl Serialize for Track {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A current-thread runtime for the solver's process I/O.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the solver's runtime: {e}"))
}

/// The request environments (principal type, action, resource type) of the schema.
pub(crate) fn request_envs(model: &Model) -> Vec<RequestEnv> {
    let mut envs: Vec<RequestEnv> = model.schema.request_envs().collect();
    envs.sort_by_key(|e| e.action().to_string());
    envs
}

#[derive(Default)]
struct Outcome {
    adds: Option<Example>,
    removes: Option<Example>,
    reason: Option<String>,
}

impl Outcome {
    fn fail(&mut self, reason: String) {
        self.reason.get_or_insert(reason);
    }

    /// Replays a counterexample: `adds` expects head to fire and base not, else the reverse.
    fn record(&mut self, adds: bool, env: &Env, base: &Policy, head: &Policy) {
        let replay = |p: &Policy| example::fires(p, &env.request, &env.entities);
        match (replay(base), replay(head)) {
            (Ok(b), Ok(h)) if (adds && h && !b) || (!adds && b && !h) => {
                let ex = Example::new(&env.request, &env.entities, b, h);
                let slot = if adds { &mut self.adds } else { &mut self.removes };
                slot.get_or_insert(ex);
            }
            (Ok(b), Ok(h)) => self.fail(format!(
                "a counterexample did not replay (base fires: {b}, head fires: {h}); the solver and the authorizer disagree"
            )),
            (Err(e), _) | (_, Err(e)) => self.fail(format!("a counterexample did not replay: {e}")),
        }
    }
}

/// A rule's base and head policies compiled for one request environment, or why not.
type PerEnv = Result<(CompiledPolicy, CompiledPolicy), String>;

/// A rule id's rule in base and in head, when present.
type Sides<'a> = (Option<&'a Rule>, Option<&'a Rule>);

/// Proves what changing `base` into `head` does to each rule's findings, for the rules of
/// `tracks`. For a rule in both, and each request environment: can head fire where base
/// cannot (adds), and base where head cannot (removes)? Every question goes to the solver;
/// every answer that finds an input is replayed before it counts.
pub fn prove_change(
    base: &Pack,
    head: &Pack,
    model: &Model,
    solver: &Solver,
    tracks: &[Track],
) -> Result<ProofReport, String> {
    let key = |r: &Rule| (r.track, r.id.clone());
    let mut pairs: BTreeMap<(Track, String), Sides<'_>> = BTreeMap::new();
    let wanted = |r: &&Rule| tracks.contains(&r.track);
    for r in base.rules.iter().filter(wanted) {
        pairs.entry(key(r)).or_default().0 = Some(r);
    }
    for r in head.rules.iter().filter(wanted) {
        pairs.entry(key(r)).or_default().1 = Some(r);
    }
    let envs = request_envs(model);
    // Per rule in both: per environment, the two compiled policies or why not.
    let both: Vec<(&Rule, &Rule, Vec<PerEnv>)> = pairs
        .values()
        .filter_map(|sides| match sides {
            (Some(b), Some(h)) => Some((*b, *h)),
            _ => None,
        })
        .map(|(b, h)| {
            let per_env = envs
                .iter()
                .map(|env| {
                    let label = env.action().id().unescaped().to_owned();
                    match (
                        CompiledPolicy::compile(&b.policy, env, &model.schema),
                        CompiledPolicy::compile(&h.policy, env, &model.schema),
                    ) {
                        (Ok(cb), Ok(ch)) => Ok((cb, ch)),
                        (Err(e), _) | (_, Err(e)) => Err(format!("cannot encode the rule for action `{label}`: {e}")),
                    }
                })
                .collect();
            (b, h, per_env)
        })
        .collect();
    let mut queries = Vec::new();
    for (_, _, per_env) in &both {
        for (cb, ch) in per_env.iter().flatten() {
            queries.push(Query::Implies(ch, cb));
            queries.push(Query::Implies(cb, ch));
        }
    }
    let mut answers = ask_all(solver, &queries).into_iter();
    let mut outcomes: BTreeMap<(Track, String), Outcome> = BTreeMap::new();
    for (b, h, per_env) in &both {
        let mut out = Outcome::default();
        for compiled in per_env {
            if let Err(e) = compiled {
                out.fail(e.clone());
                continue;
            }
            for adds in [true, false] {
                match answers.next() {
                    Some(Ok(None)) => {}
                    Some(Ok(Some(env))) => out.record(adds, &env, &b.policy, &h.policy),
                    Some(Err(e)) => out.fail(e),
                    None => out.fail("a solver answer is missing".to_owned()),
                }
            }
        }
        outcomes.insert(key(b), out);
    }
    let mut rules = Vec::new();
    for ((track, id), sides) in pairs {
        let mut proof = RuleProof {
            rule: id,
            track,
            verdict: Verdict::Equivalent,
            adds_example: None,
            removes_example: None,
            reason: None,
            reads: Vec::new(),
        };
        match sides {
            (Some(_), None) => proof.verdict = Verdict::Removed,
            (None, Some(_)) => proof.verdict = Verdict::Added,
            (None, None) => continue,
            (Some(b), Some(h)) => {
                let mut reads = b.reads.clone();
                reads.extend(h.reads.iter().cloned());
                reads.sort();
                reads.dedup();
                proof.reads = reads;
                let out = outcomes.remove(&(track, proof.rule.clone())).unwrap_or_default();
                proof.verdict = match (&out.reason, &out.adds, &out.removes) {
                    (Some(_), _, _) => Verdict::Inconclusive,
                    (None, Some(_), Some(_)) => Verdict::AddsAndRemoves,
                    (None, Some(_), None) => Verdict::OnlyAdds,
                    (None, None, Some(_)) => Verdict::OnlyRemoves,
                    (None, None, None) => Verdict::Equivalent,
                };
                proof.adds_example = out.adds;
                proof.removes_example = out.removes;
                proof.reason = out.reason;
            }
        }
        rules.push(proof);
    }
    Ok(ProofReport { rules })
}
