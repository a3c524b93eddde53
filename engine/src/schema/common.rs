//! Values that several formats share: dates, ids, tag values, tracks, categories and
//! severities.

use std::borrow::Cow;

use std::marker::PhantomData;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

/// A date as the loaders read it: `YYYY-MM-DD` (midnight UTC) or an RFC 3339 timestamp.
pub struct Date;

/// `YYYY-MM-DD`, optionally followed by an RFC 3339 time and offset. Month and day are
/// range-checked; the loader also rejects days a month lacks, such as `2026-02-30`.
pub(crate) const DATE_PATTERN: &str =
    "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-6][0-9](\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$";

impl JsonSchema for Date {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Date".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DATE_PATTERN,
            "description": "`YYYY-MM-DD` or an RFC 3339 timestamp such as `2026-10-01T09:30:00Z`.",
            "examples": ["2026-10-01"],
        })
    }
}

/// The id of a record. Numbers are read as written, so `1001` and `"1001"` are the same id.
pub struct Id;

impl JsonSchema for Id {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Id".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number"] })
    }
}

/// A map from the names of `K` (a track, category or severity) to a count.
pub struct Counts<K>(PhantomData<K>);

impl<K: JsonSchema> JsonSchema for Counts<K> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Counts_of_{}", K::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let keys = generator.subschema_for::<K>();
        json_schema!({
            "type": "object",
            "propertyNames": keys,
            "additionalProperties": { "type": "integer", "minimum": 0 },
        })
    }
}

/// A tag value; numbers and booleans are read as the text they are written as.
pub struct TagValue;

impl JsonSchema for TagValue {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "TagValue".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number", "boolean"] })
    }
}

/// An assurance track. Every entitlement is evaluated on both; findings, exceptions and
/// evidence are kept per track.
#[derive(JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[schemars(rename_all = "snake_case")]
pub enum Track {
    /// SOC 2 and operational hygiene: business need, use, accountability.
    Soc,
    /// SOX internal control over financial reporting: segregation of duties and restricted
    /// access to `sox_in_scope` systems.
    Sox,
}

/// What kind of problem a finding is.
#[derive(JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[schemars(rename_all = "snake_case")]
pub enum Category {
    /// Unused access or identity: idle past a threshold, never used since granted, an old
    /// credential.
    Stale,
    /// More privilege than the business need: privileged without justification, an NHI used
    /// interactively, broad or admin grants.
    Excessive,
    /// Segregation of duties: one identity holds incompatible business functions.
    Conflicting,
    /// Nobody accountable: an NHI without owner, an owner who is gone, a terminated person
    /// still holding access.
    Orphaned,
    /// The data needed to judge the access is missing.
    Unverifiable,
}

/// How urgent a finding is, lowest first. `check --fail-on` compares against it.
#[derive(JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[schemars(rename_all = "snake_case")]
pub enum Severity {
    /// Hygiene; fix when convenient.
    Low,
    /// Fix within the review campaign.
    Medium,
    /// Fix promptly.
    High,
    /// Fix now.
    Critical,
}
