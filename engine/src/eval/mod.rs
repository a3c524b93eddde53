//! Evaluation: identity by identity (in parallel), every entitlement against each track's
//! Cedar policies with cedar-policy's `Authorizer`. A satisfied `forbid` is a finding; a
//! Cedar error is a diagnostic that fails the run, never a silent pass.
//!
//! The fast path differs from [`plain`] only in what it does not repeat: policy sets are
//! built once per combination of candidate policies, each request carries only the
//! policies whose static guards ([`prefilter`]) can still hold, a rule Cedar has already
//! answered for the same attribute values is answered from `memo`, entities are built
//! only when some request still needs Cedar, and the schema is not re-checked per request (the
//! entities are typed by construction; the plain path checks them against the schema and
//! the differential test compares the two).

mod build;
mod emit;
mod memo;
pub mod plain;
pub mod prefilter;
pub mod ruleset;
pub mod stream;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use cedar_policy::{Authorizer, Context, Entities, PolicySet, Request, RestrictedExpression};
use chrono::{DateTime, Utc};
use rayon::prelude::*;

use crate::derive::{self, Facts, View};
use crate::diag::{did_you_mean, Code, Problem, Problems};
use crate::finding::{Finding, Report};
use crate::inventory::{Entitlement, Identity, Inventory};
use crate::model::Model;
use crate::policy::{Pack, Rule, Subject, Track};

use build::{entities, uid, SystemEntities, Wanted};
use emit::{finding, SharedRules};
use memo::{Memo, Reads};
use prefilter::Guards;

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The review date all ages are computed against.
    pub as_of: DateTime<Utc>,
    /// Tracks to evaluate.
    pub tracks: Vec<Track>,
}

/// Checks that tie the inventory to the pack: every business function written on an
/// entitlement is in the function catalog (a typo must not hide a conflict).
pub fn crosscheck(inv: &Inventory, pack: &Pack) -> Problems {
    let mut sink = Problems::default();
    for e in &inv.entitlements {
        check_functions(e, pack, &mut sink.0);
    }
    sink
}

/// Reports each business function on `e` that the function catalog does not know.
fn check_functions(e: &Entitlement, pack: &Pack, sink: &mut Vec<Problem>) {
    for f in &e.functions {
        if !pack.functions.knows(&f.value) {
            let known = pack.functions.functions.iter().map(|f| f.id.as_str());
            let help = did_you_mean(&f.value, known).map_or_else(
                || "use a business function id from the function catalog (`policies/functions.yaml`)".to_owned(),
                |c| format!("did you mean `{c}`?"),
            );
            sink.push(
                Problem::error(
                    Code::UnknownFunction,
                    Some(f.loc.clone()),
                    format!("entitlement `{}` names unknown business function `{}`", e.id, f.value),
                )
                .with_label("not in the function catalog")
                .with_help(help),
            );
        }
    }
}

/// The rules of one track and subject with their guards; bit `i` of a mask is rule `i`.
struct Group<'a> {
    rules: Vec<(&'a Rule, Guards)>,
    /// Per rule, its key in the memo and what it reads; `None` when its answers are not
    /// remembered.
    memo: Vec<Option<(u32, Reads)>>,
    /// The rules that may read an entity besides the principal and the resource (the
    /// entitlement's system), as a mask.
    reads_others: u64,
}

/// Everything shared by the workers.
struct Plan<'a> {
    groups: BTreeMap<(Track, Subject), Group<'a>>,
    contexts: BTreeMap<Track, Context>,
    cache: Mutex<HashMap<(Track, Subject, u64), Arc<PolicySet>>>,
    authorizer: Authorizer,
    shared: SharedRules,
    systems: SystemEntities,
    /// Facts of every system, aligned with the inventory's systems.
    system_facts: Vec<Facts>,
    /// What the sponsors and delegators of AI agents hold.
    delegation: derive::Delegation,
    /// Answers Cedar gave, by rule and the values it read.
    memo: Memo,
}

/// Rule `i`'s bit in a group's mask. A group of more than 64 rules carries every rule in
/// every request (its guards are dropped), so a rule past the 64th maps to every bit: any
/// mask that is not empty then holds it, and a full mask holds them all.
fn bit(i: usize) -> u64 {
    u32::try_from(i)
        .ok()
        .and_then(|i| 1u64.checked_shl(i))
        .unwrap_or(u64::MAX)
}

impl Plan<'_> {
    /// The rules of `key` that may apply to `subject`, as a mask; `None` when none may.
    fn mask(&self, key: (Track, Subject), subject: &prefilter::Subject<'_>) -> Option<u64> {
        let group = self.groups.get(&key)?;
        let mask = group
            .rules
            .iter()
            .enumerate()
            .filter(|(_, (_, g))| g.may_apply(subject))
            .fold(0u64, |m, (i, _)| m | bit(i));
        (mask != 0).then_some(mask)
    }

    /// The policy set holding exactly the rules of `mask` in the group.
    fn set(&self, key: (Track, Subject), group: &Group<'_>, mask: u64) -> Result<Arc<PolicySet>, Problem> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = cache.get(&(key.0, key.1, mask)) {
            return Ok(Arc::clone(set));
        }
        let mut set = PolicySet::new();
        for (i, (rule, _)) in group.rules.iter().enumerate() {
            if mask & bit(i) != 0 {
                set.add(rule.policy.clone()).map_err(|e| {
                    Problem::error(
                        Code::CedarValidation,
                        Some(rule.loc.clone()),
                        format!("rule `{}`: {e}", rule.id),
                    )
                })?;
            }
        }
        let set = Arc::new(set);
        cache.insert((key.0, key.1, mask), Arc::clone(&set));
        Ok(set)
    }

    /// Splits `mask` into the rules still to ask Cedar and those remembered to fire for
    /// these facts (rules remembered not to fire are dropped).
    fn recall(&self, group: &Group<'_>, mask: u64, principal: &Facts, resource: &Facts) -> (u64, u64) {
        let (mut ask, mut fires) = (mask, 0);
        for (i, memo) in group.memo.iter().enumerate() {
            let b = bit(i);
            if mask & b == 0 {
                continue;
            }
            let Some((id, reads)) = memo else { continue };
            match self.memo.recall(*id, reads, principal, resource) {
                Some(true) => {
                    ask &= !b;
                    fires |= b;
                }
                Some(false) => ask &= !b,
                None => {}
            }
        }
        (ask, fires)
    }
}

/// What one identity contributes.
#[derive(Default)]
struct Outcome {
    findings: Vec<Finding>,
    problems: Vec<Problem>,
    evaluated: BTreeMap<Track, usize>,
}

impl<'a> Plan<'a> {
    /// Groups the rules of the evaluated tracks with their guards, and builds what every
    /// request shares.
    fn new(inv: &Inventory, pack: &'a Pack, opts: &Options, delegation: derive::Delegation) -> Result<Self, Problems> {
        let mut groups: BTreeMap<(Track, Subject), Group<'a>> = BTreeMap::new();
        for (id, rule) in pack.rules.iter().filter(|r| opts.tracks.contains(&r.track)).enumerate() {
            let json = rule.policy.to_json().ok();
            let guards = json.as_ref().map(Guards::of).unwrap_or_default();
            let reads_others = json.as_ref().is_none_or(prefilter::reads_other_entities);
            let reads = json.as_ref().and_then(Reads::of);
            let group = groups.entry((rule.track, rule.subject)).or_insert_with(|| Group {
                rules: Vec::new(),
                memo: Vec::new(),
                reads_others: 0,
            });
            if reads_others {
                group.reads_others |= bit(group.rules.len());
            }
            group.rules.push((rule, guards));
            group.memo.push(u32::try_from(id).ok().zip(reads));
        }
        // A mask holds 64 rules; past that a group's requests simply carry every rule
        // (and every entity), and nothing is remembered (a bit no longer names one rule).
        for group in groups.values_mut() {
            if group.rules.len() > 64 {
                group.reads_others = u64::MAX;
                for (_, g) in &mut group.rules {
                    *g = Guards::default();
                }
                for m in &mut group.memo {
                    *m = None;
                }
            }
        }
        let contexts = opts
            .tracks
            .iter()
            .filter_map(|t| {
                Context::from_pairs([(
                    "track".to_owned(),
                    RestrictedExpression::new_string(t.as_str().to_owned()),
                )])
                .ok()
                .map(|c| (*t, c))
            })
            .collect();
        Ok(Plan {
            groups,
            contexts,
            cache: Mutex::new(HashMap::new()),
            authorizer: Authorizer::new(),
            shared: SharedRules::new(&pack.rules),
            systems: SystemEntities::new(inv).map_err(|p| Problems(vec![p]))?,
            system_facts: derive::system_table(inv),
            delegation,
            memo: Memo::default(),
        })
    }
}

/// Evaluates the inventory. `Err` when any Cedar evaluation failed: the run fails closed.
pub fn evaluate(inv: &Inventory, pack: &Pack, model: &Model, opts: &Options) -> Result<Report, Problems> {
    evaluate_counted(inv, pack, model, opts, &|| {})
}

/// [`evaluate`], calling `evaluated` once per identity as each is done (from any thread),
/// so a caller can show progress.
pub fn evaluate_counted(
    inv: &Inventory,
    pack: &Pack,
    _model: &Model,
    opts: &Options,
    evaluated: &(dyn Fn() + Sync),
) -> Result<Report, Problems> {
    let delegation = derive::Delegation::of(inv, &pack.functions, pack.sod_conflicts());
    let plan = Plan::new(inv, pack, opts, delegation)?;
    let mut by_identity: HashMap<&str, Vec<&Entitlement>> = HashMap::new();
    for e in &inv.entitlements {
        by_identity.entry(&*e.identity.value).or_default().push(e);
    }
    let outcomes: Vec<Outcome> = inv
        .identities
        .par_iter()
        .map(|identity| {
            let ents = by_identity
                .get(identity.id.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            let outcome = one_identity(inv, pack, &plan, opts, identity, ents);
            evaluated();
            outcome
        })
        .collect();
    let mut report = Report::empty(inv, pack, opts);
    let mut sink = Problems::default();
    for o in outcomes {
        report.findings.extend(o.findings);
        sink.0.extend(o.problems);
        for (t, n) in o.evaluated {
            *report.evaluated.entry(t).or_default() += n;
        }
    }
    if sink.has_errors() {
        sink.sort();
        return Err(sink);
    }
    report.sort();
    Ok(report)
}

/// One request that still has candidate policies after the guards.
struct Pending {
    key: (Track, Subject),
    /// Index into `view.entitlements`, or `None` for the identity request.
    entitlement: Option<usize>,
    /// The rules to ask Cedar about.
    mask: u64,
    /// The rules remembered to fire for the same values.
    fires: u64,
}

impl Plan<'_> {
    /// The request for `key` on these facts, unless no rule of it can fire.
    fn pending(
        &self,
        key: (Track, Subject),
        s: &prefilter::Subject<'_>,
        entitlement: Option<usize>,
    ) -> Option<Pending> {
        let mask = self.mask(key, s)?;
        let group = self.groups.get(&key)?;
        let (mask, fires) = self.recall(group, mask, s.principal, s.resource);
        (mask | fires != 0).then_some(Pending {
            key,
            entitlement,
            mask,
            fires,
        })
    }
}

fn one_identity(
    inv: &Inventory,
    pack: &Pack,
    plan: &Plan<'_>,
    opts: &Options,
    identity: &Identity,
    ents: &[&Entitlement],
) -> Outcome {
    let mut out = Outcome::default();
    out.findings.extend(ruleset::findings(
        inv,
        &pack.rulesets,
        &pack.controls,
        &opts.tracks,
        identity,
        ents,
    ));
    let view = derive::view(
        inv,
        &plan.system_facts,
        &pack.functions,
        &plan.delegation,
        opts.as_of,
        identity,
        ents,
    );
    let mut pending = Vec::new();
    for track in &opts.tracks {
        *out.evaluated.entry(*track).or_default() += view.entitlements.len();
        let key = (*track, Subject::Identity);
        let s = prefilter::Subject {
            principal: &view.facts,
            resource: &view.facts,
            system: None,
        };
        pending.extend(plan.pending(key, &s, None));
        let key = (*track, Subject::Entitlement);
        for (i, (e, facts)) in view.entitlements.iter().enumerate() {
            let system = view.systems.get(&*e.system.value).map(|(_, f)| *f);
            let s = prefilter::Subject {
                principal: &view.facts,
                resource: facts,
                system,
            };
            pending.extend(plan.pending(key, &s, Some(i)));
        }
    }
    if pending.is_empty() {
        return out;
    }
    let asks = |p: &&Pending| p.mask != 0;
    if !pending.iter().any(|p| asks(&p)) {
        for p in &pending {
            let ent = p
                .entitlement
                .and_then(|i| view.entitlements.get(i))
                .map(|(e, f)| (*e, f));
            remembered(plan, &view, p, ent, &mut out);
        }
        return out;
    }
    let reads_others = |p: &Pending| plan.groups.get(&p.key).is_none_or(|g| g.reads_others & p.mask != 0);
    let mut needed = Wanted {
        entitlements: pending.iter().filter(asks).filter_map(|p| p.entitlement).collect(),
        systems: Vec::new(),
    };
    for p in pending.iter().filter(asks).filter(|p| reads_others(p)) {
        match p.entitlement {
            Some(i) => needed.systems.push(i),
            // An identity rule might read any of the identity's systems.
            None => needed.systems.extend(0..view.entitlements.len()),
        }
    }
    for list in [&mut needed.entitlements, &mut needed.systems] {
        list.sort_unstable();
        list.dedup();
    }
    let store = match entities(&view, None, Some(&needed), Some(&plan.systems)) {
        Ok(s) => s,
        Err(p) => {
            out.problems.push(Problem {
                loc: Some(identity.loc.clone()),
                ..p
            });
            return out;
        }
    };
    for p in &pending {
        let ent = p
            .entitlement
            .and_then(|i| view.entitlements.get(i))
            .map(|(e, f)| (*e, f));
        if p.mask == 0 {
            remembered(plan, &view, p, ent, &mut out);
        } else {
            ask(plan, &view, &store, p, ent, &mut out);
        }
    }
    out
}

/// The findings of the rules of `p` remembered to fire.
fn remembered(plan: &Plan<'_>, view: &View<'_>, p: &Pending, ent: Option<(&Entitlement, &Facts)>, out: &mut Outcome) {
    let Some(group) = plan.groups.get(&p.key) else { return };
    emit(plan, group, view, ent, Vec::new(), p.fires, out);
}

/// Adds the findings of the rules `fired` by Cedar and of those in `remembered`, by rule id.
fn emit<'r>(
    plan: &Plan<'_>,
    group: &Group<'r>,
    view: &View<'_>,
    ent: Option<(&Entitlement, &Facts)>,
    mut fired: Vec<&'r Rule>,
    remembered: u64,
    out: &mut Outcome,
) {
    if remembered != 0 {
        let rules = group
            .rules
            .iter()
            .enumerate()
            .filter(|(i, _)| remembered & bit(*i) != 0);
        fired.extend(rules.map(|(_, (r, _))| *r));
    }
    fired.sort_by(|a, b| a.id.cmp(&b.id));
    out.findings
        .extend(fired.into_iter().map(|rule| finding(rule, &plan.shared, view, ent)));
}

fn ask(
    plan: &Plan<'_>,
    view: &View<'_>,
    store: &Entities,
    p: &Pending,
    ent: Option<(&Entitlement, &Facts)>,
    out: &mut Outcome,
) {
    let (key, mask) = (p.key, p.mask);
    let Some(group) = plan.groups.get(&key) else { return };
    let identity = view.identity;
    let at = || ent.map_or_else(|| identity.loc.clone(), |(e, _)| e.loc.clone());
    let set = match plan.set(key, group, mask) {
        Ok(s) => s,
        Err(p) => return out.problems.push(p),
    };
    let resource = match ent {
        Some((e, _)) => uid("Entitlement", &e.id),
        None => uid("Identity", &identity.id),
    };
    let (Ok(principal), Ok(action), Ok(resource), Some(context)) = (
        uid("Identity", &identity.id),
        uid("Action", key.1.action()),
        resource,
        plan.contexts.get(&key.0),
    ) else {
        return out.problems.push(Problem::error(
            Code::EntityError,
            Some(at()),
            "cannot name the request's entities",
        ));
    };
    let request = match Request::new(principal, action, resource, context.clone(), None) {
        Ok(r) => r,
        Err(e) => {
            return out.problems.push(Problem::error(
                Code::EntityError,
                Some(at()),
                format!("invalid request: {e}"),
            ))
        }
    };
    let response = plan.authorizer.is_authorized(&request, &set, store);
    let mut clean = true;
    for err in response.diagnostics().errors() {
        clean = false;
        let what = ent.map_or(identity.id.as_str(), |(e, _)| e.id.as_str());
        out.problems.push(
            Problem::error(
                Code::EvaluationError,
                Some(at()),
                format!(
                    "cedar could not evaluate a {} policy for `{what}` at {}: {err}",
                    key.0.as_str(),
                    at()
                ),
            )
            .with_help("the run fails closed: fix the policy or the data so every rule can be evaluated"),
        );
    }
    let fired: Vec<&Rule> = response
        .diagnostics()
        .reason()
        .filter_map(|pid| {
            group
                .rules
                .iter()
                .find(|(r, _)| r.id.as_str() == AsRef::<str>::as_ref(pid))
                .map(|(r, _)| *r)
        })
        .collect();
    if clean {
        let resource = ent.map_or(&view.facts, |(_, f)| f);
        for (i, ((rule, _), memo)) in group.rules.iter().zip(&group.memo).enumerate() {
            if let (true, Some((id, reads))) = (mask & bit(i) != 0, memo) {
                let fires = fired.iter().any(|f| std::ptr::eq(*f, *rule));
                plan.memo.learn(*id, reads, &view.facts, resource, fires);
            }
        }
    }
    emit(plan, group, view, ent, fired, p.fires, out);
}
