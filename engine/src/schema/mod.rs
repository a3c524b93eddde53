//! JSON Schemas for every file a dualtrack user writes or reads, generated from the
//! `#[derive(JsonSchema)]` types of this module; their `///` docs become the
//! `description`s an editor shows while someone types.
//!
//! The loaders read YAML through a located tree ([`crate::node::Fields`]), not through
//! serde, so these types are a *description* of each format, not the code that reads it.
//! `tests/schemas.rs` ties the two together (field names, allowed values, real files and
//! real output validate) and checks that the files in `schemas/` are current; set
//! `DUALTRACK_UPDATE_SCHEMAS=1` to rewrite them.
//!
//! The schemas are JSON Schema draft-07, the newest draft that yaml-language-server and
//! most editors understand fully.

mod campaign;
mod common;
mod exceptions;
mod findings;
mod inventory;
mod policytest;
mod rules;
mod ruleset;
mod sources;

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{Map, Value as Json};

pub use campaign::Campaign;
pub use common::{Category, Date, Id, Severity, TagValue, Track};
pub use exceptions::ExceptionsFile;
pub use findings::Report;
pub use inventory::{Entitlement, Identity, IdentityKind, Inventory, Status, System};
pub use policytest::TestFile;
pub use rules::{Comparison, Condition, Literal, Rule, RulesFile, Test};
pub use ruleset::RulesetFile;
pub use sources::SourcesFile;

/// Where the schemas say they live; only an identifier, nothing is fetched from it.
const BASE_ID: &str = "https://dualtrack.invalid/schemas/";

/// One schema and the file it is kept in under `schemas/`.
#[derive(Debug, Clone)]
pub struct SchemaFile {
    /// File name, e.g. `inventory.schema.json`.
    pub name: &'static str,
    /// The schema.
    pub schema: Json,
}

impl SchemaFile {
    /// The file's text: pretty JSON with sorted keys and a trailing newline.
    pub fn render(&self) -> String {
        let mut text = serde_json::to_string_pretty(&sorted(&self.schema)).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Every schema, in file-name order.
pub fn all() -> Vec<SchemaFile> {
    let mut files = vec![
        file::<Inventory>("inventory.schema.json", "dualtrack inventory"),
        file::<RulesFile>("policy-rules.schema.json", "dualtrack YAML rules"),
        file::<TestFile>("policy-tests.schema.json", "dualtrack policy tests"),
        file::<ExceptionsFile>("exceptions.schema.json", "dualtrack exceptions"),
        file::<Campaign>("campaign.schema.json", "dualtrack review campaign"),
        file::<Report>("findings.schema.json", "dualtrack findings report"),
        file::<SourcesFile>("sources.schema.json", "dualtrack sources file"),
        file::<RulesetFile>("ruleset.schema.json", "dualtrack SAP ruleset"),
    ];
    files.sort_by_key(|f| f.name);
    files
}

fn file<T: JsonSchema>(name: &'static str, title: &str) -> SchemaFile {
    let root = SchemaSettings::draft07().into_generator().into_root_schema_for::<T>();
    let mut schema = root.to_value();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("$id".to_owned(), Json::String(format!("{BASE_ID}{name}")));
        obj.insert("title".to_owned(), Json::String(title.to_owned()));
    }
    unwrap_descriptions(&mut schema);
    note_date_format(&mut schema);
    SchemaFile { name, schema }
}

/// `value` with every object's keys in sorted order, so the files diff cleanly.
fn sorted(value: &Json) -> Json {
    match value {
        Json::Object(obj) => {
            let mut keys: Vec<&String> = obj.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                if let Some(v) = obj.get(k) {
                    out.insert(k.clone(), sorted(v));
                }
            }
            Json::Object(out)
        }
        Json::Array(items) => Json::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Joins the wrapped lines of doc comments into one line per paragraph: an editor's hover
/// does its own wrapping.
fn unwrap_descriptions(value: &mut Json) {
    match value {
        Json::Object(obj) => {
            for (key, v) in obj.iter_mut() {
                match v {
                    Json::String(text) if key == "description" => *text = unwrap_lines(text),
                    _ => unwrap_descriptions(v),
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

/// Adds the accepted date forms to every date field's description: a field's own
/// description replaces the one of its type.
fn note_date_format(value: &mut Json) {
    match value {
        Json::Object(obj) => {
            let is_date = obj.get("pattern").and_then(Json::as_str) == Some(common::DATE_PATTERN);
            if is_date {
                if let Some(Json::String(text)) = obj.get_mut("description") {
                    if !text.contains("YYYY-MM-DD") {
                        text.push_str(" `YYYY-MM-DD` or RFC 3339.");
                    }
                }
            }
            obj.values_mut().for_each(note_date_format);
        }
        Json::Array(items) => items.iter_mut().for_each(note_date_format),
        _ => {}
    }
}

fn unwrap_lines(text: &str) -> String {
    text.split("\n\n")
        .map(|para| para.lines().map(str::trim).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_paragraphs_and_lose_line_wraps() {
        assert_eq!(unwrap_lines("one\ntwo\n\nthree"), "one two\n\nthree");
    }

    #[test]
    fn rendered_files_sort_keys_and_end_with_a_newline() {
        let f = SchemaFile {
            name: "x",
            schema: serde_json::json!({"b": 1, "a": {"d": 2, "c": 3}}),
        };
        assert_eq!(
            f.render(),
            "{\n  \"a\": {\n    \"c\": 3,\n    \"d\": 2\n  },\n  \"b\": 1\n}\n"
        );
    }
}
