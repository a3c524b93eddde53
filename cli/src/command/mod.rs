//! One file per subcommand; each has `<Name>Args` and `run`.

pub mod check;

use std::process::ExitCode;

use clap::Subcommand;

/// Exit code: no open finding at or above `--fail-on`.
pub const EXIT_CLEAN: u8 = 0;
/// Exit code: open findings at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: invalid input (policy, inventory, config).
pub const EXIT_INVALID: u8 = 3;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate an inventory against both tracks and report findings.
    Check(check::CheckArgs),
}

/// Runs a subcommand.
pub fn run(command: &Command) -> ExitCode {
    match command {
        Command::Check(args) => check::run(args),
    }
}
