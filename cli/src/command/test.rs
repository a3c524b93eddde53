//! `dualtrack test`: run the pack's policy unit tests (`*.test.yaml`), print each case's
//! result with a diff of expected and actual findings, and the rules without tests.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use dualtrack_engine::policy;
use dualtrack_engine::policytest::{self, CaseResult, Expected, Outcome};
use dualtrack_engine::Finding;

use crate::exit::{Failure, EXIT_CLEAN, EXIT_FINDINGS};
use crate::{load, output};

/// Output formats of `test`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One line per case, a diff under each failure, a summary and the coverage line.
    Human,
    /// Every case with its status and differences, the counts and the untested rules.
    Json,
}

/// Arguments of `test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Policy pack directory; its `*.test.yaml` files are run (default: the built-in pack and its tests).
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Run only the cases whose name or file path contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// Runs `test`: exit 0 when every case passes, 1 when one fails, 3 on an invalid pack or
/// test file, 2 when no case was selected.
pub fn run(args: &TestArgs) -> Result<ExitCode, Failure> {
    let (model, pack) = load::pack(args.policies.as_deref())?;
    let files = match args.policies.as_deref() {
        Some(dir) => policy::dir_test_files(dir)?,
        None => policy::builtin_test_files(),
    };
    let suite = policytest::load(files, &pack)?;
    let outcome = policytest::run(&suite, &pack, &model, args.filter.as_deref())?;
    if outcome.results.is_empty() {
        let place = args
            .policies
            .as_ref()
            .map_or_else(|| "the built-in pack".to_owned(), |d| format!("`{}`", d.display()));
        return Err(Failure::Usage(match &args.filter {
            Some(f) if !suite.cases.is_empty() => format!("no test case matches `{f}`"),
            _ => format!("no test cases in {place} (test files are named `*.test.yaml`)"),
        }));
    }
    let text = match args.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&outcome.to_json()).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            human(&outcome, color)
        }
    };
    output::print(&text, "results")?;
    Ok(if outcome.failed() > 0 {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_CLEAN)
    })
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// `RULE identity [e1, e2]`; the list is left out when the expectation does not name one.
fn describe(rule: &str, identity: &str, entitlements: Option<&[String]>) -> String {
    match entitlements {
        Some(e) => format!("{rule} {identity} [{}]", e.join(", ")),
        None => format!("{rule} {identity}"),
    }
}

fn missing_line(e: &Expected) -> String {
    describe(&e.rule, &e.identity, e.entitlements.as_deref())
}

fn unexpected_line(f: &Finding) -> String {
    describe(&f.rule, &f.identity, Some(&f.entitlements))
}

fn case(out: &mut String, r: &CaseResult, color: bool) {
    if r.passed() {
        let _ = writeln!(out, "  {}    {}", paint(color, "32", "ok"), r.name);
        return;
    }
    let _ = writeln!(out, "  {}  {}", paint(color, "1;31", "FAIL"), r.name);
    let _ = writeln!(out, "        at {}", r.loc);
    for e in &r.missing {
        let line = format!("- expected (missing): {}", missing_line(e));
        let _ = writeln!(out, "        {}", paint(color, "31", &line));
    }
    for f in &r.unexpected {
        let line = format!("+ unexpected: {}", unexpected_line(f));
        let _ = writeln!(out, "        {}", paint(color, "33", &line));
        let _ = writeln!(out, "          {}", f.message);
    }
}

/// The results for people: cases grouped by file, then the summary and coverage lines.
fn human(outcome: &Outcome, color: bool) -> String {
    let mut out = String::new();
    let mut file = "";
    for r in &outcome.results {
        if r.loc.file() != file {
            file = r.loc.file();
            let _ = writeln!(out, "{file}");
        }
        case(&mut out, r, color);
    }
    let failed: Vec<&CaseResult> = outcome.results.iter().filter(|r| !r.passed()).collect();
    if !failed.is_empty() {
        // Repeated at the end, so a long CI log shows what failed next to the verdict.
        let _ = writeln!(out, "\nfailed cases:");
        for r in failed {
            let _ = writeln!(out, "  {}  {}", r.loc, r.name);
        }
    }
    let n = outcome.results.len();
    let mut summary = format!(
        "{n} case{}: {} passed, {} failed",
        if n == 1 { "" } else { "s" },
        outcome.passed(),
        outcome.failed()
    );
    if outcome.filtered_out > 0 {
        let _ = write!(summary, ", {} filtered out", outcome.filtered_out);
    }
    let verdict = if outcome.failed() > 0 {
        paint(color, "1;31", "FAILED")
    } else {
        paint(color, "32", "ok")
    };
    let _ = writeln!(out, "\ntest result: {verdict}. {summary}");
    let untested = if outcome.untested.is_empty() {
        "none".to_owned()
    } else {
        outcome.untested.join(", ")
    };
    let _ = writeln!(out, "rules without tests: {untested}");
    out
}
