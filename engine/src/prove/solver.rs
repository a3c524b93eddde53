//! Finding the cvc5 solver and starting it with per-query limits.

use std::path::PathBuf;

use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::CedarSymCompiler;

/// Default time limit of one solver query, in milliseconds.
pub const DEFAULT_QUERY_LIMIT_MS: u64 = 10_000;

/// How to install a solver, for messages.
pub const INSTALL_HINT: &str =
    "install cvc5 (Debian/Ubuntu: `apt-get install cvc5`; or a release from https://github.com/cvc5/cvc5/releases) and put it on `PATH`, or set `CVC5` to its path";

/// No solver could be found.
#[derive(Debug, Clone, thiserror::Error)]
#[error("no SMT solver found: {looked}")]
pub struct NoSolver {
    /// Where the lookup went.
    pub looked: String,
}

/// The cvc5 binary and the limit each query runs under.
#[derive(Debug, Clone)]
pub struct Solver {
    /// The cvc5 executable.
    pub path: PathBuf,
    /// Time limit of one query (`--tlimit-per`), in milliseconds. A query that runs out is
    /// `unknown`, never a pass.
    pub query_limit_ms: u64,
}

impl Solver {
    /// The binary named by the `CVC5` environment variable, or `cvc5` on `PATH`.
    pub fn find() -> Result<Self, NoSolver> {
        let path = match std::env::var_os("CVC5") {
            Some(p) if !p.is_empty() => {
                let p = PathBuf::from(p);
                if !p.is_file() {
                    return Err(NoSolver {
                        looked: format!("`CVC5` names `{}`, which is not a file", p.display()),
                    });
                }
                p
            }
            _ => on_path("cvc5").ok_or_else(|| NoSolver {
                looked: "`CVC5` is not set and `cvc5` is not on `PATH`".to_owned(),
            })?,
        };
        Ok(Self {
            path,
            query_limit_ms: DEFAULT_QUERY_LIMIT_MS,
        })
    }

    /// A symbolic compiler talking to a fresh solver process. Must run inside a Tokio
    /// runtime (the process is driven by it).
    pub(crate) fn compiler(&self) -> Result<CedarSymCompiler<LocalSolver>, cedar_policy_symcc::err::Error> {
        let mut cmd = tokio::process::Command::new(&self.path);
        // `--tlimit-per` bounds each query; the whole-process `--tlimit` would abort a
        // long run. `--strings-exp` lets older cvc5 (Debian's 1.0.3) decide `like`.
        let limit = format!("--tlimit-per={}", self.query_limit_ms);
        cmd.args(["--lang", "smt", limit.as_str(), "--strings-exp"])
            .kill_on_drop(true);
        CedarSymCompiler::new(LocalSolver::from_command(&mut cmd)?)
    }
}

/// `name` in a directory of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
