//! The report as one self-contained HTML page: per track the summary figures, inline SVG
//! bar charts of findings by category and by severity, the population reconciliation,
//! exceptions and their expiry, decision coverage, and the findings table with controls
//! and remediation. No script, no external resource: it reads with JavaScript off and
//! prints to PDF. Colours pass WCAG AA contrast on white; every chart has a table twin.

use std::fmt::Write as _;

use crate::escape::html_escape;
use crate::finding::{FindingStatus, Report};
use crate::policy::{Category, Severity, Track};

/// One system of the population reconciliation.
#[derive(Debug, Clone, Default)]
pub struct PopulationRow {
    /// System id.
    pub system: String,
    /// In SOX scope.
    pub sox_in_scope: bool,
    /// Entitlements on it.
    pub entitlements: usize,
    /// Distinct holders.
    pub identities: usize,
}

/// One exception, for the exceptions table.
#[derive(Debug, Clone, Default)]
pub struct ExceptionRow {
    /// Track.
    pub track: Option<Track>,
    /// Exception id.
    pub id: String,
    /// Rules covered.
    pub rules: String,
    /// Expiry date.
    pub expires: String,
    /// Live on the review date (shown as `live`); otherwise past its expiry (`expired`).
    pub live: bool,
}

/// One track's decision coverage.
#[derive(Debug, Clone, Default)]
pub struct CoverageRow {
    /// Track.
    pub track: Option<Track>,
    /// In-scope entitlements.
    pub total: usize,
    /// With a decision.
    pub reviewed: usize,
    /// Without a decision.
    pub missing: usize,
    /// Dated outside the period.
    pub late: usize,
    /// Per reviewer: id, approve, revoke, modify, late, missing.
    pub reviewers: Vec<(String, [usize; 5])>,
}

/// What the report shows besides the findings (the evidence pack knows more than `check`).
#[derive(Debug, Clone, Default)]
pub struct HtmlExtras {
    /// Population per system; empty when not known.
    pub population: Vec<PopulationRow>,
    /// Exceptions; `None` when no exceptions file was given.
    pub exceptions: Option<Vec<ExceptionRow>>,
    /// Coverage per track; `None` when no decisions were given.
    pub coverage: Option<Vec<CoverageRow>>,
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1a1a1a;background:#fff;margin:2rem auto;max-width:72rem;padding:0 1rem;line-height:1.45}\
h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:2px solid #1a1a1a;padding-bottom:.2rem;margin-top:2.5rem}h3{font-size:1.05rem;margin-top:1.5rem}\
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}caption{text-align:left;font-weight:600;padding:.3rem 0}\
th,td{border:1px solid #767676;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.figures{display:flex;flex-wrap:wrap;gap:1rem;list-style:none;padding:0}.figures li{border:1px solid #767676;padding:.5rem 1rem;min-width:8rem}.figures b{display:block;font-size:1.5rem}\
.charts{display:flex;flex-wrap:wrap;gap:2rem}figure{margin:0}figcaption{font-weight:600}\
.sev-critical{color:#8b0000;font-weight:700}.sev-high{color:#a33b00;font-weight:700}.sev-medium{color:#6b5200}.sev-low{color:#245b2a}\
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}\
@media print{body{margin:0;max-width:none}h2{break-before:page}h2.first{break-before:auto}table{page-break-inside:auto}tr{break-inside:avoid}}";

/// Bar colours (dark enough for 3:1 contrast against white as graphics; the numbers are
/// printed beside each bar, so colour never carries the meaning alone).
fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#8b0000",
        Severity::High => "#b54000",
        Severity::Medium => "#8a6d00",
        Severity::Low => "#2e6b34",
    }
}

/// A horizontal bar chart as inline SVG: `bars` are (label, value, colour).
fn bar_chart(title: &str, bars: &[(&str, usize, &str)]) -> String {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let row = 28usize;
    let height = bars.len() * row + 10;
    let mut s = format!(
        "<figure><figcaption>{t}</figcaption><svg role=\"img\" aria-label=\"{t}\" width=\"420\" height=\"{height}\" viewBox=\"0 0 420 {height}\">",
        t = html_escape(title)
    );
    for (i, (label, value, colour)) in bars.iter().enumerate() {
        let y = i * row + 5;
        let w = value * 260 / max;
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{ty}\" font-size=\"13\" fill=\"#1a1a1a\">{l}</text><rect x=\"110\" y=\"{y}\" width=\"{w}\" height=\"20\" fill=\"{colour}\"><title>{l}: {value}</title></rect><text x=\"{tx}\" y=\"{ty}\" font-size=\"13\" fill=\"#1a1a1a\">{value}</text>",
            ty = y + 15,
            l = html_escape(label),
            tx = 110 + w + 6,
        );
    }
    s.push_str("</svg></figure>");
    s
}

fn track_name(t: Track) -> &'static str {
    match t {
        Track::Soc => "SOC",
        Track::Sox => "SOX",
    }
}

/// The report as a self-contained HTML page.
pub fn html(report: &Report, extras: &HtmlExtras) -> String {
    let mut s = String::new();
    let as_of = report.as_of.format("%Y-%m-%d").to_string();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"><title>dualtrack access review report, {as_of}</title><style>{CSS}</style></head><body><main>\n<h1>Access review report</h1>\n<p>Review date (as of): <time datetime=\"{as_of}\">{as_of}</time>. {} identities and {} entitlements in the inventory.</p>\n",
        report.identities, report.entitlements
    );
    let _ = write!(s, "<nav aria-label=\"Tracks\"><ul>");
    for t in &report.tracks {
        let _ = write!(s, "<li><a href=\"#{}\">{} track</a></li>", t.as_str(), track_name(*t));
    }
    s.push_str("</ul></nav>\n");
    for (i, t) in report.tracks.iter().enumerate() {
        track(&mut s, report, extras, *t, i == 0);
    }
    s.push_str("</main></body></html>\n");
    s
}

fn track(s: &mut String, report: &Report, extras: &HtmlExtras, t: Track, first: bool) {
    let findings: Vec<_> = report.findings.iter().filter(|f| f.track == t).collect();
    let open = findings.iter().filter(|f| f.status == FindingStatus::Open).count();
    let evaluated = report.evaluated.get(&t).copied().unwrap_or(0);
    let _ = write!(
        s,
        "<section id=\"{id}\" aria-labelledby=\"{id}-h\"><h2 id=\"{id}-h\"{cls}>{n} track</h2>\n<ul class=\"figures\"><li><b>{evaluated}</b>entitlements evaluated</li><li><b>{}</b>findings</li><li><b>{open}</b>open</li><li><b>{}</b>excepted</li><li><b>{}</b>rules applied</li></ul>\n",
        findings.len(),
        findings.len() - open,
        report.rules.get(&t).copied().unwrap_or(0),
        id = t.as_str(),
        n = track_name(t),
        cls = if first { " class=\"first\"" } else { "" },
    );
    let by_cat: Vec<(&str, usize, &str)> = Category::CHOICES
        .iter()
        .map(|(n, c)| (*n, findings.iter().filter(|f| f.category == *c).count(), "#1f4e79"))
        .collect();
    let by_sev: Vec<(&str, usize, &str)> = Severity::CHOICES
        .iter()
        .rev()
        .map(|(n, v)| {
            (
                *n,
                findings.iter().filter(|f| f.severity == *v).count(),
                severity_colour(*v),
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "<h3>Findings by category and severity</h3><div class=\"charts\">{}{}</div>",
        bar_chart(&format!("{} findings by category", track_name(t)), &by_cat),
        bar_chart(&format!("{} findings by severity", track_name(t)), &by_sev)
    );
    s.push_str("<table><caption>Findings by severity (the chart's figures)</caption><thead><tr><th scope=\"col\">severity</th><th scope=\"col\">findings</th></tr></thead><tbody>");
    for (n, v, _) in &by_sev {
        let _ = write!(s, "<tr><th scope=\"row\">{n}</th><td class=\"n\">{v}</td></tr>");
    }
    s.push_str("</tbody></table>\n");
    let _ = writeln!(s, "<h3>Population reconciliation</h3><table><caption>Inventory against what this track evaluated</caption><tbody><tr><th scope=\"row\">entitlements in the inventory</th><td class=\"n\">{}</td></tr><tr><th scope=\"row\">entitlements evaluated on this track</th><td class=\"n\">{evaluated}</td></tr></tbody></table>", report.entitlements);
    if !extras.population.is_empty() {
        s.push_str("<table><caption>Population per system</caption><thead><tr><th scope=\"col\">system</th><th scope=\"col\">SOX in scope</th><th scope=\"col\">entitlements</th><th scope=\"col\">identities</th></tr></thead><tbody>");
        for p in extras.population.iter().filter(|p| t == Track::Soc || p.sox_in_scope) {
            let _ = write!(
                s,
                "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                html_escape(&p.system),
                if p.sox_in_scope { "yes" } else { "no" },
                p.entitlements,
                p.identities
            );
        }
        s.push_str("</tbody></table>\n");
    }
    s.push_str("<h3>Exceptions</h3>");
    match &extras.exceptions {
        None => s.push_str("<p>No exceptions file was given.</p>\n"),
        Some(list) => {
            let rows: Vec<_> = list.iter().filter(|x| x.track == Some(t)).collect();
            if rows.is_empty() {
                s.push_str("<p>No exceptions on this track.</p>\n");
            } else {
                s.push_str("<table><caption>Exceptions and their expiry</caption><thead><tr><th scope=\"col\">exception</th><th scope=\"col\">rules</th><th scope=\"col\">expires</th><th scope=\"col\">state</th></tr></thead><tbody>");
                for x in rows {
                    let _ = write!(
                        s,
                        "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td><td><time>{}</time></td><td>{}</td></tr>",
                        html_escape(&x.id),
                        html_escape(&x.rules),
                        html_escape(&x.expires),
                        if x.live { "live" } else { "expired" }
                    );
                }
                s.push_str("</tbody></table>\n");
            }
        }
    }
    s.push_str("<h3>Decision coverage</h3>");
    match extras
        .coverage
        .as_ref()
        .and_then(|c| c.iter().find(|c| c.track == Some(t)))
    {
        None => s.push_str("<p>No campaign decisions were given for this track.</p>\n"),
        Some(c) => {
            let _ = write!(
                s,
                "<p>{} of {} in-scope entitlements reviewed; {} missing; {} late.</p>",
                c.reviewed, c.total, c.missing, c.late
            );
            s.push_str("<table><caption>Decisions per reviewer</caption><thead><tr><th scope=\"col\">reviewer</th><th scope=\"col\">approve</th><th scope=\"col\">revoke</th><th scope=\"col\">modify</th><th scope=\"col\">late</th><th scope=\"col\">missing</th></tr></thead><tbody>");
            for (r, n) in &c.reviewers {
                let _ = write!(s, "<tr><th scope=\"row\"><code>{}</code></th>", html_escape(r));
                for v in n {
                    let _ = write!(s, "<td class=\"n\">{v}</td>");
                }
                s.push_str("</tr>");
            }
            s.push_str("</tbody></table>\n");
        }
    }
    s.push_str("<h3>Findings</h3>");
    if findings.is_empty() {
        s.push_str("<p>No findings on this track.</p>\n");
    } else {
        s.push_str("<table><caption>Findings with their controls and remediation</caption><thead><tr><th scope=\"col\">severity</th><th scope=\"col\">rule</th><th scope=\"col\">identity</th><th scope=\"col\">finding</th><th scope=\"col\">controls</th><th scope=\"col\">remediation</th><th scope=\"col\">status</th></tr></thead><tbody>");
        for f in &findings {
            let _ = write!(
                s,
                "<tr><td class=\"sev-{sev}\">{sev}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                html_escape(&f.rule),
                html_escape(&f.identity),
                html_escape(&f.message),
                html_escape(&f.controls.join(", ")),
                html_escape(&f.remediation),
                f.status.as_str(),
                sev = f.severity.as_str(),
            );
        }
        s.push_str("</tbody></table>\n");
    }
    s.push_str("</section>\n");
}
