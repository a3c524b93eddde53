//! Printing coded diagnostics with miette: colour only on a terminal.

use std::io::IsTerminal;

use dualtrack_engine::{Level, Problems};
use miette::{GraphicalReportHandler, GraphicalTheme};

/// Renders every problem as miette draws it, at `width` columns.
pub fn render(problems: &Problems, color: bool, width: usize) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    let mut out = String::new();
    for p in &problems.0 {
        if handler.render_report(&mut out, p).is_err() {
            out.push_str(&format!("{}: {} ({})\n", p.code.as_str(), p.message, p.at()));
        }
    }
    let errors = problems.count(Level::Error);
    let warnings = problems.count(Level::Warning);
    let notes = problems.count(Level::Note);
    out.push_str(&format!("{errors} error(s), {warnings} warning(s)"));
    if notes > 0 {
        out.push_str(&format!(", {notes} note(s)"));
    }
    out.push('\n');
    out
}

/// Prints problems to stderr.
pub fn eprint(problems: &Problems) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", render(problems, color, 100));
}
