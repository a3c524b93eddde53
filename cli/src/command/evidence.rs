//! `dualtrack evidence`: evaluate both tracks, apply exceptions, and write the audit
//! evidence pack to `--out` atomically (built in a temporary directory beside it, then
//! renamed into place), so a half-written pack is never left behind.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use clap::Args;
use dualtrack_engine::artefact::File;
use dualtrack_engine::evidence::{self, Sources};
use dualtrack_engine::{eval, Problems, Track};

use crate::args::parse_as_of;
use crate::exit::{Failure, EXIT_CLEAN};
use crate::load::{self, Whole};
use crate::output::write_atomically;
use crate::progress::Progress;

/// Arguments of `evidence`.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// Inventory: a YAML/JSON file, or a directory of systems/identities/entitlements files.
    #[arg(long, value_name = "PATH")]
    pub inventory: PathBuf,
    /// Policy pack directory (default: the built-in pack).
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Exceptions file (`exceptions.yaml`).
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Campaign file (`campaign.yaml`), for the SLAs of `--decisions`.
    #[arg(long, value_name = "FILE")]
    pub campaign: Option<PathBuf>,
    /// Decisions of the campaign: a decisions CSV, or a directory of filled worklists. Adds each track's decision log, coverage and the `DEC-*` findings.
    #[arg(long, value_name = "PATH", requires = "campaign")]
    pub decisions: Option<PathBuf>,
    /// Review date, `YYYY-MM-DD` or RFC 3339 (default: now; give it for a reproducible pack).
    #[arg(long, value_name = "DATE", value_parser = parse_as_of)]
    pub as_of: Option<DateTime<Utc>>,
    /// The previous campaign's evidence pack: verified first; adds per track the approvals
    /// carried forward from it and its revokes checked against the inventory, and checks
    /// carried and baseline decisions (`DEC-STALE-APPROVAL`, `DEC-NOT-REMOVED`).
    #[arg(long, value_name = "PACK")]
    pub since: Option<PathBuf>,
    /// Directory to write the pack to; an existing pack there is replaced.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Show progress on stderr even when it is not a terminal (a terminal shows it anyway
    /// once the run takes more than a second).
    #[arg(long)]
    pub progress: bool,
}

/// Runs `evidence`.
pub fn run(args: &EvidenceArgs) -> Result<ExitCode, Failure> {
    let files = build(args)?;
    write_atomically(&args.out, &files).map_err(|e| {
        Failure::Error(format!(
            "cannot write the evidence pack to `{}`: {e}",
            args.out.display()
        ))
    })?;
    println!("wrote {} files to {}", files.len(), args.out.display());
    Ok(ExitCode::from(EXIT_CLEAN))
}

fn build(args: &EvidenceArgs) -> Result<Vec<File>, Problems> {
    // One review date for loading (an SAP source reads assignments held then) and evaluation.
    let as_of = args.as_of.unwrap_or_else(Utc::now);
    let Whole {
        model,
        pack,
        inv,
        read,
        exceptions,
    } = load::whole(
        args.policies.as_deref(),
        &args.inventory,
        args.exceptions.as_deref(),
        Some(as_of),
    )?;
    let opts = eval::Options {
        as_of,
        tracks: Track::ALL.to_vec(),
    };
    let decisions = load::decisions(args.campaign.as_deref(), args.decisions.as_deref())?;
    let baseline = args
        .since
        .as_deref()
        .map(|p| dualtrack_engine::baseline::load(p, "--since"))
        .transpose()?;
    let since = baseline
        .as_ref()
        .map(|b| b as &dyn dualtrack_engine::campaign::carry::Since);
    let campaign = match &decisions {
        Some(d) => d.campaign.clone(),
        None => args
            .campaign
            .as_deref()
            .map(dualtrack_engine::campaign::load)
            .transpose()?,
    };
    let progress = Mutex::new(Progress::new(inv.identities.len(), args.progress));
    let evaluated = eval::evaluate_counted(&inv, &pack, &model, &opts, &|| {
        if let Ok(mut p) = progress.lock() {
            p.add(1);
        }
    });
    if let Ok(mut p) = progress.lock() {
        p.finish();
    }
    let mut report = evaluated?;
    if let Some(d) = &decisions {
        dualtrack_engine::decisions::verify::apply_report(d, &mut report, &inv, exceptions.as_ref(), since)?;
    }
    if let (Some(b), None) = (&baseline, &decisions) {
        let all: Vec<_> = inv.entitlements.iter().collect();
        report
            .findings
            .extend(dualtrack_engine::review::baseline_revokes(b, &all, &opts));
        report.sort();
    }
    if let Some(x) = &exceptions {
        x.apply_report(&mut report, &inv);
    }
    let mut extras: Vec<PathBuf> = [&args.exceptions, &args.campaign]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    extras.extend(decisions.iter().flat_map(|d| d.files.iter().cloned()));
    let inputs = load::hash_inputs(read, &extras, &pack)?;
    Ok(evidence::build(&Sources {
        report: &report,
        inventory: &inv,
        pack: &pack,
        exceptions: exceptions.as_ref(),
        decisions: decisions.as_ref(),
        campaign: campaign.as_ref(),
        inputs: &inputs,
        baseline: baseline.as_ref(),
    }))
}
