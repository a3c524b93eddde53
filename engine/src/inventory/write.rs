//! Writing an inventory back in the native format (`systems.*`, `identities.*`,
//! `entitlements.*` in YAML, JSON or CSV), so an inventory assembled from exports can be
//! reviewed in git and read again with the same result. Fields that are absent stay
//! absent; defaults (`false`, `active`) are left out.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value as Json};

use super::decode::{ENTITLEMENT_FIELDS, IDENTITY_FIELDS, SYSTEM_FIELDS};
use super::{Entitlement, Identity, Inventory, Status, System};

/// The native file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `*.yaml`.
    Yaml,
    /// `*.json`.
    Json,
    /// `*.csv` (lists `;`-separated, tags `key=value;…`).
    Csv,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Yaml => "yaml",
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }
}

fn date(d: Option<DateTime<Utc>>) -> Option<Json> {
    d.map(|d| Json::String(d.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
}

fn put(m: &mut Map<String, Json>, key: &str, v: Option<Json>) {
    if let Some(v) = v {
        m.insert(key.to_owned(), v);
    }
}

fn text(s: Option<&str>) -> Option<Json> {
    s.map(|s| Json::String(s.to_owned()))
}

fn list(items: &[crate::node::Spanned<String>]) -> Option<Json> {
    (!items.is_empty()).then(|| Json::Array(items.iter().map(|f| Json::String(f.value.clone())).collect()))
}

fn flag(b: bool) -> Option<Json> {
    b.then_some(Json::Bool(true))
}

fn tags(t: &[(String, String)]) -> Option<Json> {
    (!t.is_empty()).then(|| Json::Object(t.iter().map(|(k, v)| (k.clone(), Json::String(v.clone()))).collect()))
}

pub(crate) fn system(s: &System) -> Map<String, Json> {
    let mut m = Map::new();
    put(&mut m, "id", text(Some(&s.id)));
    put(&mut m, "name", text(s.name.as_deref()));
    put(&mut m, "owner", text(s.owner.as_ref().map(|o| o.value.as_str())));
    put(&mut m, "sox_in_scope", flag(s.sox_in_scope));
    put(&mut m, "environment", text(s.environment.as_deref()));
    put(&mut m, "tags", tags(&s.tags));
    m
}

pub(crate) fn identity(i: &Identity) -> Map<String, Json> {
    let mut m = Map::new();
    put(&mut m, "id", text(Some(&i.id)));
    put(&mut m, "kind", text(Some(i.kind.as_str())));
    put(&mut m, "display_name", text(i.display_name.as_deref()));
    put(
        &mut m,
        "status",
        (i.status != Status::Active).then(|| Json::String(i.status.as_str().to_owned())),
    );
    put(&mut m, "owner", text(i.owner.as_ref().map(|o| o.value.as_str())));
    put(&mut m, "manager", text(i.manager.as_ref().map(|o| o.value.as_str())));
    put(&mut m, "department", text(i.department.as_deref()));
    put(&mut m, "terminated_at", date(i.terminated_at));
    put(&mut m, "created_at", date(i.created_at));
    put(&mut m, "last_seen", date(i.last_seen));
    put(&mut m, "credential_rotated_at", date(i.credential_rotated_at));
    put(&mut m, "credential_expires_at", date(i.credential_expires_at));
    put(&mut m, "interactive_login", flag(i.interactive_login));
    put(&mut m, "uncorrelated", flag(i.uncorrelated));
    put(&mut m, "sponsors", list(&i.sponsors));
    put(&mut m, "acts", text(i.acts.map(super::Acts::as_str)));
    put(&mut m, "delegators", list(&i.delegators));
    put(&mut m, "parent", text(i.parent.as_ref().map(|p| p.value.as_str())));
    put(&mut m, "tags", tags(&i.tags));
    m
}

pub(crate) fn entitlement(e: &Entitlement) -> Map<String, Json> {
    let mut m = Map::new();
    put(&mut m, "id", text(Some(&e.id)));
    put(&mut m, "identity", text(Some(&e.identity.value)));
    put(&mut m, "system", text(Some(&e.system.value)));
    put(&mut m, "permission", text(Some(&e.permission)));
    put(&mut m, "privileged", flag(e.privileged));
    put(&mut m, "functions", list(&e.functions));
    put(&mut m, "granted_at", date(e.granted_at));
    put(&mut m, "last_used", date(e.last_used));
    put(&mut m, "justification", text(e.justification.as_deref()));
    put(&mut m, "ticket", text(e.ticket.as_deref()));
    put(&mut m, "expires_at", date(e.expires_at));
    put(&mut m, "source", text(e.source.as_deref()));
    m
}

/// A section's name, field table and records.
type Section<'a> = (&'a str, &'a [&'a str], Vec<Map<String, Json>>);

/// The three section files of `inv` in `format`: (file name, contents).
pub fn files(inv: &Inventory, format: Format) -> Result<Vec<(String, String)>, String> {
    let sections: [Section<'_>; 3] = [
        ("systems", SYSTEM_FIELDS, inv.systems.iter().map(system).collect()),
        (
            "identities",
            IDENTITY_FIELDS,
            inv.identities.iter().map(identity).collect(),
        ),
        (
            "entitlements",
            ENTITLEMENT_FIELDS,
            inv.entitlements.iter().map(entitlement).collect(),
        ),
    ];
    sections
        .into_iter()
        .map(|(name, fields, records)| {
            let body = match format {
                Format::Csv => csv(fields, &records)?,
                Format::Json | Format::Yaml => {
                    let mut doc = Map::new();
                    let items = records.into_iter().map(|r| Json::Object(ordered(fields, r))).collect();
                    doc.insert(name.to_owned(), Json::Array(items));
                    let doc = Json::Object(doc);
                    if format == Format::Json {
                        let mut t = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
                        t.push('\n');
                        t
                    } else {
                        serde_yaml::to_string(&doc).map_err(|e| e.to_string())?
                    }
                }
            };
            Ok((format!("{name}.{}", format.extension()), body))
        })
        .collect()
}

/// A record's fields in the order of the field table, whatever order they were put in.
fn ordered(fields: &[&str], mut r: Map<String, Json>) -> Map<String, Json> {
    let mut out = Map::new();
    for f in fields {
        if let Some(v) = r.remove(*f) {
            out.insert((*f).to_owned(), v);
        }
    }
    out
}

fn cell(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Bool(b) => b.to_string(),
        Json::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(";"),
        Json::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(";"),
        other => other.to_string(),
    }
}

fn csv(fields: &[&str], records: &[Map<String, Json>]) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields).map_err(|e| e.to_string())?;
    for r in records {
        let row: Vec<String> = fields.iter().map(|f| r.get(*f).map(cell).unwrap_or_default()).collect();
        w.write_record(&row).map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// The inventory as JSON Lines, one record per line wrapped in its section's singular
/// (`{"system": {…}}`, then identities, then entitlements), fields in the order of the field
/// tables. An evidence pack keeps the inventory it reviewed in this form, so a later
/// campaign can compare with it.
pub fn json_lines(inv: &Inventory, out: &mut impl std::io::Write) -> std::io::Result<()> {
    fn line(out: &mut impl std::io::Write, key: &str, fields: &[&str], r: Map<String, Json>) -> std::io::Result<()> {
        let mut doc = Map::new();
        doc.insert(key.to_owned(), Json::Object(ordered(fields, r)));
        serde_json::to_writer(&mut *out, &Json::Object(doc))?;
        out.write_all(b"\n")
    }
    for s in &inv.systems {
        line(out, "system", SYSTEM_FIELDS, system(s))?;
    }
    for i in &inv.identities {
        line(out, "identity", IDENTITY_FIELDS, identity(i))?;
    }
    for e in &inv.entitlements {
        line(out, "entitlement", ENTITLEMENT_FIELDS, entitlement(e))?;
    }
    Ok(())
}
