//! `dualtrack import`: read the exports a sources file lists, correlate their accounts to
//! people, and write the merged native inventory, so a team can review in git what
//! dualtrack saw. `check` on the written directory gives the same findings as `check` on
//! the sources file.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use dualtrack_engine::inventory::write;

use crate::args::parse_as_of;
use crate::exit::{Failure, EXIT_CLEAN};
use crate::load;

/// File formats of the written inventory.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// `systems.yaml`, `identities.yaml`, `entitlements.yaml`.
    Yaml,
    /// The same as JSON.
    Json,
    /// The same as CSV (lists `;`-separated).
    Csv,
}

/// Arguments of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The sources file (`sources.yaml`) listing the exports to read.
    #[arg(long, value_name = "FILE")]
    pub sources: PathBuf,
    /// Directory to write `systems.*`, `identities.*` and `entitlements.*` into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// File format of the written inventory.
    #[arg(long, value_enum, default_value = "yaml")]
    pub format: Format,
    /// Review date, `YYYY-MM-DD` or RFC 3339 (default: now): which SAP role assignments
    /// are held and which users have expired.
    #[arg(long, value_name = "DATE", value_parser = parse_as_of)]
    pub as_of: Option<DateTime<Utc>>,
}

/// Runs `import`.
pub fn run(args: &ImportArgs) -> Result<ExitCode, Failure> {
    let inv = load::inventory(&args.sources, args.as_of)?;
    let format = match args.format {
        Format::Yaml => write::Format::Yaml,
        Format::Json => write::Format::Json,
        Format::Csv => write::Format::Csv,
    };
    let written = write::files(&inv, format).and_then(|files| {
        std::fs::create_dir_all(&args.out).map_err(|e| e.to_string())?;
        // Another format's files would make the directory ambiguous to read back.
        for section in ["systems", "identities", "entitlements"] {
            for ext in ["yaml", "yml", "json", "csv"] {
                let stale = args.out.join(format!("{section}.{ext}"));
                if stale.is_file() {
                    std::fs::remove_file(&stale).map_err(|e| format!("{}: {e}", stale.display()))?;
                }
            }
        }
        for (name, text) in &files {
            let path = args.out.join(name);
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(files.len())
    });
    written.map_err(|e| Failure::Error(format!("cannot write the inventory to `{}`: {e}", args.out.display())))?;
    eprintln!(
        "imported {} systems, {} identities and {} entitlements into `{}`",
        inv.systems.len(),
        inv.identities.len(),
        inv.entitlements.len(),
        args.out.display()
    );
    Ok(ExitCode::from(EXIT_CLEAN))
}
