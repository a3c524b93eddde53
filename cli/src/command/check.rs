//! `dualtrack check`: load, validate, evaluate both tracks, render, exit by `--fail-on`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use dualtrack_engine::render::{self, HumanStyle};
use dualtrack_engine::review::Review;
use dualtrack_engine::{eval, policy, Finding, Report};

use crate::args::{parse_as_of, FailOn, TrackArg};
use crate::diagnostics;
use crate::exit::{Failure, EXIT_CLEAN, EXIT_FINDINGS};
use crate::progress::Progress;
use crate::{load, output};

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
    /// The previous campaign's evidence pack: verified first, then every finding says
    /// whether its access is `new`, `changed` or `unchanged` since.
    #[arg(long, value_name = "PACK")]
    pub since: Option<PathBuf>,
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
pub fn run(args: &CheckArgs) -> Result<ExitCode, Failure> {
    // The baseline pack is verified and read on a thread of its own while the inventory is
    // indexed: both take seconds at a million entitlements, and neither needs the other.
    // One review date for loading (an SAP source reads assignments held then) and evaluation.
    let as_of = args.as_of.unwrap_or_else(Utc::now);
    let (indexed, baseline) = std::thread::scope(|s| {
        let baseline = s.spawn(|| {
            args.since
                .as_deref()
                .map(|p| dualtrack_engine::baseline::load(p, "--since"))
                .transpose()
        });
        let indexed = load::pack_and_index(&args.inventory, args.policies.as_deref(), Some(as_of));
        (indexed, baseline.join())
    });
    let load::Indexed {
        model,
        pack,
        index: idx,
    } = indexed?;
    let baseline = baseline.map_err(|_| Failure::Error("reading the baseline pack failed".to_owned()))??;
    let exceptions = load::exceptions(args.exceptions.as_deref(), &pack, &idx.inventory)?;
    let decisions = load::decisions(args.campaign.as_deref(), args.decisions.as_deref())?;
    let opts = eval::Options {
        as_of,
        tracks: args.track.tracks(),
    };
    // JSON and CSV are written as evaluation goes (spilling to a temporary file, so a large
    // inventory's findings are never all in memory); SARIF and Markdown keep only the
    // findings they will show; human and JUnit output render a whole report.
    let mut json = render::JsonFindings::default();
    if let Some(b) = &baseline {
        json.baseline(b.about());
    }
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
            baseline: baseline.as_ref(),
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
    let (tally, warnings) = streamed?;
    if !warnings.0.is_empty() {
        diagnostics::eprint(&warnings);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = match args.format {
        Format::Json => json.finish(&tally, &mut out),
        Format::Csv => csv.finish(&mut out),
        Format::Sarif => sarif.finish(&tally, &pack, &mut out),
        Format::Markdown => out.write_all(md.render(&tally, &pack).as_bytes()),
        format => write_report(format, &Report::from_tally(&tally, held), &pack, &mut out),
    };
    output::written(written.and_then(|()| out.flush()), "report")?;
    Ok(match args.fail_on.severity() {
        Some(s) if tally.open_at_or_above(s) > 0 => ExitCode::from(EXIT_FINDINGS),
        _ => ExitCode::from(EXIT_CLEAN),
    })
}
