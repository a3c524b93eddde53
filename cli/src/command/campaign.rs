//! `dualtrack campaign plan`: evaluate the inventory, assign every in-scope entitlement
//! its reviewer per track (as `lint --campaign` does), and write the worklists (CSV and
//! XLSX), the reviewer instructions and a manifest to `--out` atomically.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use dualtrack_engine::artefact::File;
use dualtrack_engine::campaign::plan::{self, PlanSources};
use dualtrack_engine::{eval, Problems, Track};

use crate::args::parse_as_of;
use crate::exit::{Failure, EXIT_CLEAN};
use crate::load::{self, Whole};
use crate::output::write_atomically;

/// Arguments of `campaign`.
#[derive(Debug, Args)]
pub struct CampaignArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: CampaignCommand,
}

/// The `campaign` subcommands.
#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Write one worklist per track and reviewer (CSV and XLSX), the reviewer instructions per track, and a manifest.
    Plan(PlanArgs),
}

/// Arguments of `campaign plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Campaign file (`campaign.yaml`).
    #[arg(long, value_name = "FILE")]
    pub campaign: PathBuf,
    /// Inventory: a YAML/JSON file, or a directory of systems/identities/entitlements files.
    #[arg(long, value_name = "PATH")]
    pub inventory: PathBuf,
    /// Policy pack directory (default: the built-in pack).
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Exceptions file (`exceptions.yaml`): excepted findings are not shown as open on the worklists.
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Review date, `YYYY-MM-DD` or RFC 3339 (default: now; give it for a reproducible plan).
    #[arg(long, value_name = "DATE", value_parser = parse_as_of)]
    pub as_of: Option<DateTime<Utc>>,
    /// Directory to write the plan to; an existing plan there is replaced.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The previous campaign's evidence pack: verified first; worklists then say what
    /// changed since and what the pack decided, and approvals the campaign file lets carry
    /// forward go to `<track>/_carried.csv` instead of a reviewer.
    #[arg(long, value_name = "PACK")]
    pub since: Option<PathBuf>,
}

/// Runs `campaign`.
pub fn run(args: &CampaignArgs) -> Result<ExitCode, Failure> {
    match &args.command {
        CampaignCommand::Plan(a) => run_plan(a),
    }
}

fn run_plan(args: &PlanArgs) -> Result<ExitCode, Failure> {
    let files = build(args)?;
    write_atomically(&args.out, &files).map_err(|e| {
        Failure::Error(format!(
            "cannot write the campaign plan to `{}`: {e}",
            args.out.display()
        ))
    })?;
    let lists = files
        .iter()
        .filter(|(p, _)| p.ends_with(".csv") && !p.ends_with("/_carried.csv"))
        .count();
    let carried = files.iter().filter(|(p, _)| p.ends_with("/_carried.csv")).count();
    let carried = if carried > 0 {
        format!(" and {carried} list(s) of rows carried forward")
    } else {
        String::new()
    };
    println!(
        "wrote {lists} worklists, each as CSV and XLSX{carried} ({} files), to {}",
        files.len(),
        args.out.display()
    );
    Ok(ExitCode::from(EXIT_CLEAN))
}

fn build(args: &PlanArgs) -> Result<Vec<File>, Problems> {
    let campaign = dualtrack_engine::campaign::load(&args.campaign)?;
    let baseline = args
        .since
        .as_deref()
        .map(|p| dualtrack_engine::baseline::load(p, "--since"))
        .transpose()?;
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
    let mut report = eval::evaluate(&inv, &pack, &model, &opts)?;
    if let Some(x) = &exceptions {
        x.apply_report(&mut report, &inv);
    }
    let extras: Vec<PathBuf> = [Some(&args.campaign), args.exceptions.as_ref()]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let inputs = load::hash_inputs(read, &extras, &pack)?;
    plan::build(&PlanSources {
        campaign: &campaign,
        inventory: &inv,
        report: &report,
        inputs: &inputs,
        since: baseline
            .as_ref()
            .map(|b| b as &dyn dualtrack_engine::campaign::carry::Since),
        since_about: baseline.as_ref().map(dualtrack_engine::baseline::Baseline::about),
    })
    .map_err(|p| Problems(vec![p]))
}
