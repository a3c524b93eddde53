//! `dualtrack check`: load, validate, evaluate both tracks, render, exit by `--fail-on`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use dualtrack_engine::render::{self, HumanStyle};
use dualtrack_engine::review::Review;
use dualtrack_engine::{eval, exceptions, inventory, open, policy, Finding, Model, Problems, Report};

use super::{EXIT_CLEAN, EXIT_FINDINGS, EXIT_INVALID};
use crate::args::{parse_as_of, FailOn, TrackArg};
use crate::diagnostics;
use crate::progress::Progress;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Grouped by identity and track, for people.
    Human,
    /// The findings report, described in docs/findings.md.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// JUnit XML: a testsuite per track, a testcase per rule.
    Junit,
    /// One row per finding, for spreadsheets.
    Csv,
    /// A summary for a pull-request comment.
    Markdown,
    /// One self-contained HTML page with charts, for people (no script, no network).
    Html,
}

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Inventory: a YAML/JSON file, or a directory of systems/identities/entitlements files.
    #[arg(long, value_name = "PATH")]
    pub inventory: PathBuf,
    /// Policy pack directory (default: the built-in pack).
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Review date, `YYYY-MM-DD` or RFC 3339 (default: now).
    #[arg(long, value_name = "DATE", value_parser = parse_as_of)]
    pub as_of: Option<DateTime<Utc>>,
    /// Exceptions file (`exceptions.yaml`): live exceptions mark the findings they cover `excepted`.
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Campaign file (`campaign.yaml`): its `sla_days` per track date the `--decisions` checks.
    #[arg(long, value_name = "FILE")]
    pub campaign: Option<PathBuf>,
    /// Decisions of the campaign (a decisions CSV, or a directory of filled worklists), checked for completeness, authority, timeliness and follow-through (`DEC-*` findings).
    #[arg(long, value_name = "PATH", requires = "campaign")]
    pub decisions: Option<PathBuf>,
    /// Tracks to evaluate.
    #[arg(long, value_enum, default_value = "both")]
    pub track: TrackArg,
    /// Exit 1 when an open finding is at or above this severity.
    #[arg(long, value_enum, default_value = "low")]
    pub fail_on: FailOn,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Show progress on stderr even when it is not a terminal (a terminal shows it anyway
    /// once the run takes more than a second).
    #[arg(long)]
    pub progress: bool,
}

/// Everything `check` loads before evaluating, or the problems that stop it.
pub struct Loaded {
    /// The schema model.
    pub model: Model,
    /// The policy pack.
    pub pack: policy::Pack,
    /// The inventory.
    pub inventory: inventory::Inventory,
}

/// Loads model, pack and inventory, collecting every problem from all three.
pub fn load(inventory_path: &std::path::Path, policies: Option<&std::path::Path>) -> Result<Loaded, Problems> {
    let mut problems = Problems::default();
    let (model, pack) = match super::load_pack(policies) {
        Ok((m, p)) => (Some(m), Some(p)),
        Err(mut e) => {
            problems.0.append(&mut e.0);
            (None, None)
        }
    };
    let inv = match open::load(inventory_path) {
        Ok((inv, _)) => Some(inv),
        Err(mut e) => {
            problems.0.append(&mut e.0);
            None
        }
    };
    if let (Some(pack), Some(inv)) = (&pack, &inv) {
        problems.0.append(&mut eval::crosscheck(inv, pack).0);
    }
    match (model, pack, inv) {
        (Some(model), Some(pack), Some(inventory)) if !problems.has_errors() => {
            if !inventory.warnings.0.is_empty() {
                diagnostics::eprint(&inventory.warnings);
            }
            Ok(Loaded { model, pack, inventory })
        }
        _ => {
            problems.sort();
            Err(problems)
        }
    }
}

/// Loads model and pack, and indexes the inventory (entitlements are read back identity
/// by identity while evaluating), collecting every problem found before evaluation.
fn load_indexed(
    inventory_path: &std::path::Path,
    policies: Option<&std::path::Path>,
) -> Result<(Model, policy::Pack, inventory::Indexed), Problems> {
    let mut problems = Problems::default();
    let pack = super::load_pack(policies)
        .map_err(|mut e| problems.0.append(&mut e.0))
        .ok();
    let idx = open::index(inventory_path)
        .map_err(|mut e| problems.0.append(&mut e.0))
        .ok();
    match (pack, idx) {
        (Some((model, pack)), Some(idx)) if !problems.has_errors() => {
            if !idx.inventory.warnings.0.is_empty() {
                diagnostics::eprint(&idx.inventory.warnings);
            }
            Ok((model, pack, idx))
        }
        _ => {
            problems.sort();
            Err(problems)
        }
    }
}

/// Loads the exceptions file, if given, and checks it against the pack and the inventory.
pub fn load_exceptions(
    path: Option<&std::path::Path>,
    pack: &policy::Pack,
    inv: &inventory::Inventory,
) -> Result<Option<exceptions::Exceptions>, Problems> {
    let Some(path) = path else { return Ok(None) };
    let x = exceptions::load(path)?;
    let problems = x.check(pack, |id| inv.identity(id).is_some());
    if problems.has_errors() {
        return Err(problems);
    }
    Ok(Some(x))
}

/// Loads the campaign (for its SLAs) and the decisions file, when decisions are given.
pub fn load_decisions(
    campaign: Option<&std::path::Path>,
    decisions: Option<&std::path::Path>,
) -> Result<Option<dualtrack_engine::decisions::Decisions>, Problems> {
    let Some(path) = decisions else { return Ok(None) };
    let campaign = campaign.map(dualtrack_engine::campaign::load).transpose()?;
    dualtrack_engine::decisions::load(path, campaign.as_ref()).map(Some)
}

/// Renders a whole report in `format` (`run` streams JSON instead of holding a report).
fn write_report(format: Format, report: &Report, pack: &policy::Pack, out: &mut impl Write) -> std::io::Result<()> {
    match format {
        Format::Json => render::write_json(report, out),
        Format::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            out.write_all(render::human(report, HumanStyle { color, width: 80 }).as_bytes())
        }
        Format::Sarif => render::write_sarif(report, pack, out),
        Format::Junit => out.write_all(render::junit(report, pack).as_bytes()),
        Format::Csv => render::write_csv(report, out),
        Format::Markdown => out.write_all(render::markdown(report, pack, render::MARKDOWN_EXAMPLES).as_bytes()),
        Format::Html => out.write_all(render::html(report, &render::HtmlExtras::default()).as_bytes()),
    }
}

/// Findings serialised where they were made, for the formats written as a run goes, or
/// the findings themselves for the others.
enum Encoded {
    Json(render::Encoded),
    Csv(Vec<u8>),
    Held(Vec<Finding>),
}

/// Runs `check`.
pub fn run(args: &CheckArgs) -> ExitCode {
    let (model, pack, idx) = match load_indexed(&args.inventory, args.policies.as_deref()) {
        Ok(l) => l,
        Err(problems) => {
            diagnostics::eprint(&problems);
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let exceptions = match load_exceptions(args.exceptions.as_deref(), &pack, &idx.inventory) {
        Ok(x) => x,
        Err(problems) => {
            diagnostics::eprint(&problems);
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let decisions = match load_decisions(args.campaign.as_deref(), args.decisions.as_deref()) {
        Ok(d) => d,
        Err(problems) => {
            diagnostics::eprint(&problems);
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let opts = eval::Options {
        as_of: args.as_of.unwrap_or_else(Utc::now),
        tracks: args.track.tracks(),
    };
    // JSON and CSV are written as evaluation goes (spilling to a temporary file, so a large
    // inventory's findings are never all in memory); SARIF and Markdown keep only the
    // findings they will show; human and JUnit output render a whole report.
    let mut json = render::JsonFindings::default();
    let mut csv = render::CsvFindings::default();
    let mut sarif = render::SarifFindings::default();
    let mut md = render::MarkdownSummary::new(render::MARKDOWN_EXAMPLES);
    let mut held = Vec::new();
    let mut progress = Progress::new(idx.inventory.identities.len(), args.progress);
    let streamed = eval::stream::evaluate_streamed_with(
        &idx,
        &pack,
        &model,
        &opts,
        &Review {
            exceptions: exceptions.as_ref(),
            decisions: decisions.as_ref(),
        },
        |findings| match args.format {
            Format::Json => render::JsonFindings::encode(&findings).map(Encoded::Json),
            Format::Csv => render::CsvFindings::encode(&findings).map(Encoded::Csv),
            _ => Ok(Encoded::Held(findings)),
        },
        |encoded| {
            progress.add(1);
            match encoded {
                Encoded::Json(encoded) => json.push_encoded(&encoded),
                Encoded::Csv(rows) => csv.push_encoded(rows),
                Encoded::Held(findings) if matches!(args.format, Format::Sarif) => {
                    sarif.push(findings);
                    Ok(())
                }
                Encoded::Held(findings) if matches!(args.format, Format::Markdown) => {
                    md.push(&findings);
                    Ok(())
                }
                Encoded::Held(findings) => {
                    held.extend(findings);
                    Ok(())
                }
            }
        },
    );
    progress.finish();
    let tally = match streamed {
        Ok((tally, warnings)) => {
            if !warnings.0.is_empty() {
                diagnostics::eprint(&warnings);
            }
            tally
        }
        Err(problems) => {
            diagnostics::eprint(&problems);
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = match args.format {
        Format::Json => json.finish(&tally, &mut out),
        Format::Csv => csv.finish(&mut out),
        Format::Sarif => sarif.finish(&tally, &pack, &mut out),
        Format::Markdown => out.write_all(md.render(&tally, &pack).as_bytes()),
        format => write_report(format, &Report::from_tally(&tally, held), &pack, &mut out),
    };
    // A closed pipe (`| head`) is not an error worth a message; the exit code still counts.
    if let Err(e) = written.and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the report: {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    }
    match args.fail_on.severity() {
        Some(s) if tally.open_at_or_above(s) > 0 => ExitCode::from(EXIT_FINDINGS),
        _ => ExitCode::from(EXIT_CLEAN),
    }
}
