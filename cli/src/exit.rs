//! Exit codes, and the failures that end a command early: each printed on stderr and
//! mapped to its exit code in one place, [`Failure::report`].

use std::process::ExitCode;

use dualtrack_engine::{prove, Problems};

use crate::diagnostics;

/// Exit code: no open finding at or above `--fail-on`.
pub const EXIT_CLEAN: u8 = 0;
/// Exit code: open findings at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage error (also clap's).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: `--prove` found no SMT solver.
pub const EXIT_NO_SOLVER: u8 = 2;
/// Exit code: invalid input (policy, inventory, config).
pub const EXIT_INVALID: u8 = 3;

/// Why a command stopped before its end.
#[derive(Debug)]
pub enum Failure {
    /// Invalid input: the problems, printed as diagnostics; exit 3.
    Invalid(Problems),
    /// Invalid input of which `what` names the source: `error: {what} do not load:`, then
    /// the problems; exit 3.
    DoesNotLoad {
        /// What did not load, such as "the base policies (`main`)".
        what: String,
        /// Its problems.
        problems: Problems,
    },
    /// A usage error clap cannot see: `error: {message}`; exit 2.
    Usage(String),
    /// `--prove` found no SMT solver: the error with the install hint; exit 2.
    NoSolver(String),
    /// Anything else that stops a run (writing output, running the solver):
    /// `error: {message}`; exit 3.
    Error(String),
}

impl From<Problems> for Failure {
    fn from(problems: Problems) -> Self {
        Failure::Invalid(problems)
    }
}

impl Failure {
    /// Prints the failure on stderr and returns its exit code.
    pub fn report(self) -> ExitCode {
        match self {
            Failure::Invalid(problems) => {
                diagnostics::eprint(&problems);
                ExitCode::from(EXIT_INVALID)
            }
            Failure::DoesNotLoad { what, problems } => {
                eprintln!("error: {what} do not load:");
                diagnostics::eprint(&problems);
                ExitCode::from(EXIT_INVALID)
            }
            Failure::Usage(message) => {
                eprintln!("error: {message}");
                ExitCode::from(EXIT_USAGE)
            }
            Failure::NoSolver(message) => {
                eprintln!("error: {message}\n  help: {}", prove::INSTALL_HINT);
                ExitCode::from(EXIT_NO_SOLVER)
            }
            Failure::Error(message) => {
                eprintln!("error: {message}");
                ExitCode::from(EXIT_INVALID)
            }
        }
    }
}
