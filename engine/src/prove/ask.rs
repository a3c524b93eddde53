//! Asking the solver many independent questions: spread over one cvc5 process per core,
//! each driven by its own current-thread runtime. Answers come back in question order, so
//! the result does not depend on how the work was split.

use std::num::NonZeroUsize;

use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicy, Env};

use super::Solver;

/// One question; `Ok(Some(env))` is an input that refutes it, `Ok(None)` proves it.
#[derive(Clone, Copy)]
pub(crate) enum Query<'a> {
    /// The policy matches no input.
    NeverMatches(&'a CompiledPolicy),
    /// The policy evaluates without error on every input.
    NeverErrors(&'a CompiledPolicy),
    /// Wherever the first policy matches, the second does.
    Implies(&'a CompiledPolicy, &'a CompiledPolicy),
}

/// The answer to one question: an error (start failure, time limit, unknown, solver
/// error) is kept as its message, for an `inconclusive` verdict.
pub(crate) type Answer = Result<Option<Env>, String>;

impl Query<'_> {
    async fn run(self, s: &mut CedarSymCompiler<LocalSolver>) -> Answer {
        let r = match self {
            Query::NeverMatches(p) => s.check_never_matches_with_counterexample_opt(p).await,
            Query::NeverErrors(p) => s.check_never_errors_with_counterexample_opt(p).await,
            Query::Implies(a, b) => s.check_matches_implies_with_counterexample_opt(a, b).await,
        };
        r.map_err(|e| e.to_string())
    }
}

/// Answers every question, in order.
pub(crate) fn ask_all(solver: &Solver, queries: &[Query<'_>]) -> Vec<Answer> {
    let workers = std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(1, queries.len().max(1));
    let mut answers: Vec<Option<Answer>> = Vec::new();
    answers.resize_with(queries.len(), || None);
    let done: Vec<Vec<(usize, Answer)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                // Worker `w` takes questions w, w + workers, …: neighbours (often about
                // one rule) go to different solvers.
                scope.spawn(move || {
                    let mine = queries.iter().enumerate().skip(w).step_by(workers);
                    match super::runtime() {
                        Ok(rt) => {
                            let mut live = None;
                            mine.map(|(i, q)| (i, ask(&rt, solver, &mut live, *q))).collect()
                        }
                        Err(e) => mine.map(|(i, _)| (i, Err(e.clone()))).collect(),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    for (i, a) in done.into_iter().flatten() {
        if let Some(slot) = answers.get_mut(i) {
            *slot = Some(a);
        }
    }
    answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| Err("the solver's worker stopped".to_owned())))
        .collect()
}

/// Runs `query` on a live solver, starting one when there is none; after an error the
/// solver is dropped (a parse error kills cvc5) and the next question starts afresh.
fn ask(
    rt: &tokio::runtime::Runtime,
    solver: &Solver,
    live: &mut Option<CedarSymCompiler<LocalSolver>>,
    query: Query<'_>,
) -> Answer {
    if live.is_none() {
        // The solver's process is driven by the runtime, so it is started inside it.
        let _inside = rt.enter();
        *live = Some(solver.compiler().map_err(|e| format!("cannot start the solver: {e}"))?);
    }
    let Some(s) = live.as_mut() else {
        return Err("cannot start the solver".to_owned());
    };
    let r = rt.block_on(query.run(s));
    if r.is_err() {
        *live = None;
    }
    r
}
