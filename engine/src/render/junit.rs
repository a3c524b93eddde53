//! JUnit XML for CI test reports: one `<testsuite>` per track, one `<testcase>` per rule.
//! A rule with open findings fails and its `<failure>` lists them; excepted findings do
//! not fail a rule and are listed in the testcase's `<system-out>` instead (they are not
//! `<skipped>`: the rule did run, and its exceptions are part of the outcome).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::escape::xml_escape;
use crate::finding::{Finding, FindingStatus, Report};
use crate::policy::{Pack, Track};

/// Escapes element text: as [`xml_escape`], but newlines and tabs stay literal so the
/// failure text reads as lines in a CI viewer.
fn text_escape(text: &str) -> String {
    xml_escape(text).replace("&#10;", "\n").replace("&#9;", "\t")
}

/// One finding as a few lines of failure or output text.
fn describe(out: &mut String, f: &Finding) {
    let _ = writeln!(out, "[{}] {}: {}", f.severity.as_str(), f.identity, f.message);
    if !f.entitlements.is_empty() {
        let _ = writeln!(out, "  entitlements: {}", f.entitlements.join(", "));
    }
    let _ = writeln!(out, "  at: {}:{}", f.file, f.line);
    let _ = writeln!(out, "  id: {}", f.id);
}

/// A testcase: the rule's findings on one track.
struct Case<'a> {
    title: &'a str,
    remediation: &'a str,
    open: Vec<&'a Finding>,
    excepted: Vec<&'a Finding>,
}

/// The cases of `track`: every pack rule of the track, plus any rule a finding names that
/// the pack lacks (so no finding is ever dropped), keyed and ordered by rule id.
fn cases<'a>(report: &'a Report, pack: &'a Pack, track: Track) -> BTreeMap<&'a str, Case<'a>> {
    let mut cases: BTreeMap<&str, Case<'_>> = pack
        .rules
        .iter()
        .filter(|r| r.track == track)
        .map(|r| {
            let case = Case {
                title: &r.title,
                remediation: &r.remediation,
                open: Vec::new(),
                excepted: Vec::new(),
            };
            (r.id.as_str(), case)
        })
        .collect();
    for f in report.findings.iter().filter(|f| f.track == track) {
        let case = cases.entry(&f.rule).or_insert_with(|| Case {
            title: "",
            remediation: &f.remediation,
            open: Vec::new(),
            excepted: Vec::new(),
        });
        match f.status {
            FindingStatus::Open => case.open.push(f),
            FindingStatus::Excepted => case.excepted.push(f),
        }
    }
    cases
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn testcase(out: &mut String, classname: &str, id: &str, case: &Case<'_>) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        xml_escape(classname),
        xml_escape(id)
    );
    if case.open.is_empty() && case.excepted.is_empty() {
        let _ = writeln!(out, "/>");
        return;
    }
    let _ = writeln!(out, ">");
    if !case.open.is_empty() {
        let mut message = plural(case.open.len(), "open finding", "open findings");
        if !case.title.is_empty() {
            let _ = write!(message, ": {}", case.title);
        }
        let mut body = String::new();
        for f in &case.open {
            describe(&mut body, f);
        }
        let _ = writeln!(body, "fix: {}", case.remediation);
        let kind = case.open.first().map(|f| f.category.as_str()).unwrap_or_default();
        let _ = writeln!(
            out,
            "      <failure message=\"{}\" type=\"{}\">{}</failure>",
            xml_escape(&message),
            xml_escape(kind),
            text_escape(&body)
        );
    }
    if !case.excepted.is_empty() {
        let mut body = format!(
            "{} (not failures):\n",
            plural(case.excepted.len(), "excepted finding", "excepted findings")
        );
        for f in &case.excepted {
            describe(&mut body, f);
        }
        let _ = writeln!(out, "      <system-out>{}</system-out>", text_escape(&body));
    }
    let _ = writeln!(out, "    </testcase>");
}

/// The report as a JUnit XML document (UTF-8, trailing newline). `tests` counts rules,
/// `failures` the rules with at least one open finding.
pub fn junit(report: &Report, pack: &Pack) -> String {
    let suites: Vec<(Track, BTreeMap<&str, Case<'_>>)> =
        report.tracks.iter().map(|t| (*t, cases(report, pack, *t))).collect();
    let failed = |cases: &BTreeMap<&str, Case<'_>>| cases.values().filter(|c| !c.open.is_empty()).count();
    let tests: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = suites.iter().map(|(_, c)| failed(c)).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"dualtrack\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">"
    );
    let as_of = report.as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for (track, cases) in &suites {
        let classname = format!("dualtrack.{}", track.as_str());
        let _ = writeln!(
            out,
            "  <testsuite name=\"{classname}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            cases.len(),
            failed(cases)
        );
        let _ = writeln!(out, "    <properties>");
        let _ = writeln!(out, "      <property name=\"as_of\" value=\"{as_of}\"/>");
        let evaluated = report.evaluated.get(track).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "      <property name=\"entitlements_evaluated\" value=\"{evaluated}\"/>"
        );
        let _ = writeln!(out, "    </properties>");
        for (id, case) in cases {
            testcase(&mut out, &classname, id, case);
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    let _ = writeln!(out, "</testsuites>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_characters_xml_cannot_hold() {
        assert_eq!(
            xml_escape("a<b & \"c\" 'd'>\u{1}\u{FFFF}\ne"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}\u{FFFD}&#10;e"
        );
        assert_eq!(text_escape("x\ty\nz\r"), "x\ty\nz&#13;");
    }
}
