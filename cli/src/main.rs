//! `dualtrack`: evaluate an entitlement inventory against the SOC and SOX tracks.

mod args;
mod command;
mod diagnostics;
mod exit;
mod load;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: the evaluation allocates many small, short-lived values from two threads;
/// glibc malloc spent a fifth of a 1M-entitlement run in malloc/free and consolidation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Policy-as-code access reviews: one inventory, two audit tracks (SOC and SOX).
#[derive(Debug, Parser)]
#[command(name = "dualtrack", version, about)]
struct Cli {
    #[command(subcommand)]
    command: command::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    command::run(&cli.command)
}
