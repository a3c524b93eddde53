//! `hr-csv`: the people feed, the source of truth for status, manager and termination, as
//! CSV or as an XLSX workbook (its first worksheet, or `sheet`). Columns and status values
//! are mapped in the sources file.

use crate::diag::{suggest, Code, Problem, Problems};
use crate::inventory::Status;
use crate::node::Node;
use crate::source::Loc;

use super::util::{self, date_text};
use super::{export, shape, Import, Person, Spec};

/// Reads the people of one HR CSV.
pub fn read(spec: &Spec, imp: &mut Import, sink: &mut Problems) {
    let workbook = spec.path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let src = if workbook {
        match crate::xlsx::read(&spec.path, "path", spec.sheet.as_deref()) {
            Ok(src) => {
                imp.files.push(src.name().to_owned());
                src
            }
            Err(p) => return sink.push(p),
        }
    } else {
        let Some(src) = export(spec, imp, sink) else { return };
        src
    };
    // A worksheet is read as `,`-separated text, whatever `delimiter` says for CSV.
    let delimiter = if workbook { Some(b',') } else { spec.delimiter };
    let (headers, rows) = util::csv(&src, delimiter, sink);
    let header: Vec<&str> = headers.iter().map(String::as_str).collect();
    // A mapped column must exist; an unmapped field whose default column is absent is
    // simply not in the feed.
    let mut missing = false;
    for (field, column) in &spec.columns {
        if !header.contains(&column.as_str()) {
            sink.push(
                shape(
                    src.loc_to_eol(0),
                    format!("HR column `{column}` (mapped to `{field}`) is not in the header"),
                    suggest(column, &header),
                )
                .with_label("header row"),
            );
            missing = true;
        }
    }
    if !header.contains(&spec.column("id")) {
        sink.push(
            shape(
                src.loc_to_eol(0),
                format!("the HR feed has no `{}` column for the person id", spec.column("id")),
                "map the id column in the source: `columns: {id: <column>}`",
            )
            .with_label("header row"),
        );
        missing = true;
    }
    if missing {
        return;
    }
    let mut read_as: Vec<(String, Status, Loc)> = Vec::new();
    for row in &rows {
        if let Some(p) = person(spec, row, &mut read_as, sink) {
            imp.people.push(p);
        }
    }
    for (value, status, at) in read_as {
        sink.push(
            Problem::note(
                Code::BadValue,
                Some(at),
                format!("HR status `{value}` is read as `{}`", status.as_str()),
            )
            .with_label("first row with this status")
            .with_help(format!(
                "if that is wrong, map it in the source: `status_values: {{\"{value}\": active|disabled|terminated}}`"
            )),
        );
    }
}

/// The status an HR value plainly means when the source does not map it: `Voluntarily
/// Terminated`, `Terminated for Cause`, `Resigned` or `Retired` mean terminated;
/// `Inactive`, `Suspended` or `Disabled` mean disabled; `Active` or `Employed` mean active.
fn plain_status(value: &str) -> Option<Status> {
    let v = value.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| v.contains(w));
    if has(&[
        "terminat",
        "separated",
        "resign",
        "retire",
        "deceased",
        "dismiss",
        "former",
    ]) {
        Some(Status::Terminated)
    } else if has(&["inactive", "suspend", "disabled", "locked"]) {
        Some(Status::Disabled)
    } else if has(&["active", "employed", "current"]) {
        Some(Status::Active)
    } else {
        None
    }
}

fn cell<'a>(spec: &Spec, row: &'a Node, field: &str) -> Option<(String, &'a Node)> {
    let node = util::get(row, spec.column(field))?;
    let text = node.scalar_text()?.trim().to_owned();
    (!text.is_empty()).then_some((text, node))
}

fn person(spec: &Spec, row: &Node, read_as: &mut Vec<(String, Status, Loc)>, sink: &mut Problems) -> Option<Person> {
    let text = |field: &str| cell(spec, row, field).map(|(t, _)| t);
    let date = |field: &str, sink: &mut Problems| {
        cell(spec, row, field).and_then(|(t, n)| date_text(&t, n, spec.column(field), &spec.date_formats, sink))
    };
    let Some(id) = text("id") else {
        // At the empty cell when the row has one, so a wide row shows that cell.
        let at = util::get(row, spec.column("id")).map_or(&row.loc, |n| &n.loc);
        sink.push(
            Problem::error(Code::MissingField, Some(at.clone()), "HR row has no person id")
                .with_label(format!("no `{}`", spec.column("id")))
                .with_help(format!("fill the `{}` column", spec.column("id"))),
        );
        return None;
    };
    let terminated_at = date("terminated_at", sink);
    let created_at = date("created_at", sink);
    let status = match cell(spec, row, "status") {
        Some((value, node)) => status(spec, &value, node, read_as, sink)?,
        // No status column: the termination date is all the feed says.
        None if terminated_at.is_some() => Status::Terminated,
        None => Status::Active,
    };
    Some(Person {
        employee_id: text("employee_id").or_else(|| Some(id.clone())),
        id,
        email: text("email"),
        login: text("login"),
        display_name: text("display_name"),
        department: text("department"),
        status,
        manager: text("manager"),
        manager_at: cell(spec, row, "manager").map(|(_, n)| n.loc.clone()),
        terminated_at,
        created_at,
        loc: row.loc.clone(),
    })
}

fn status(
    spec: &Spec,
    value: &str,
    node: &Node,
    read_as: &mut Vec<(String, Status, Loc)>,
    sink: &mut Problems,
) -> Option<Status> {
    let mapped = spec
        .status_values
        .iter()
        .find(|(v, _)| v == value)
        .or_else(|| spec.status_values.iter().find(|(v, _)| v.eq_ignore_ascii_case(value)))
        .map(|(_, s)| *s);
    let own = Status::CHOICES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(value))
        .map(|(_, s)| *s);
    if let Some(s) = mapped.or(own) {
        return Some(s);
    }
    if let Some(s) = plain_status(value) {
        if !read_as.iter().any(|(v, _, _)| v == value) {
            read_as.push((value.to_owned(), s, node.loc.clone()));
        }
        return Some(s);
    }
    let known: Vec<&str> = spec
        .status_values
        .iter()
        .map(|(v, _)| v.as_str())
        .chain(Status::CHOICES.iter().map(|(n, _)| *n))
        .collect();
    sink.push(
        Problem::error(
            Code::BadValue,
            Some(node.loc.clone()),
            format!(
                "HR status `{value}` (column `{}`) is not mapped to a status",
                spec.column("status")
            ),
        )
        .with_label("unmapped status")
        .with_help(format!(
            "{}; map it in the source: `status_values: {{\"{value}\": active|disabled|terminated}}`",
            suggest(value, &known)
        )),
    );
    None
}
