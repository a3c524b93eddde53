//! The access-review campaign (`campaign.yaml`): id, period, and per track the scope, who
//! reviews (a strategy and a fallback), the reviewer population and the remediation SLA.
//! Read strictly with every record's file and line; [`lint`] checks it against an
//! inventory before the campaign starts.

pub mod assign;
pub mod carry;
pub mod instructions;
pub mod lint;
pub mod plan;
pub mod xlsx;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::diag::{Code, Problem, Problems};
use crate::node::{Fields, Node, Spanned, Value};
use crate::policy::Track;
use crate::source::{Loc, Source};

/// Top-level fields of a campaign file.
pub const CAMPAIGN_FIELDS: &[&str] = &["id", "period", "tracks"];
/// Fields of one track's settings.
pub const TRACK_FIELDS: &[&str] = &[
    "scope",
    "reviewer",
    "fallback",
    "population",
    "sla_days",
    "carry_forward",
    "carry_forward_max_days",
];

/// Which entitlements a track reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every entitlement.
    All,
    /// Entitlements on `sox_in_scope` systems.
    SoxInScope,
}

crate::names!(Scope {
    All = "all",
    SoxInScope = "sox_in_scope",
});

/// How an entitlement's reviewer is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reviewer {
    /// The owner of the system the entitlement is on.
    SystemOwner,
    /// The holder's manager; for a non-human identity, its owner's manager.
    Manager,
    /// For an AI agent, its first active sponsor; nobody for any other identity.
    Sponsor,
}

crate::names!(Reviewer {
    SystemOwner = "system_owner",
    Manager = "manager",
    Sponsor = "sponsor",
});

/// Whether a delta review (`--since`) may carry the baseline's approvals forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarryForward {
    /// Every row goes to a reviewer again (the default).
    Never,
    /// An approval of an unchanged, unflagged row carries forward (see [`carry`]).
    Unchanged,
}

crate::names!(CarryForward {
    Never = "never",
    Unchanged = "unchanged",
});

/// One track's campaign settings.
#[derive(Debug, Clone)]
pub struct TrackPlan {
    /// The track.
    pub track: Track,
    /// What it reviews (default: SOC everything, SOX the in-scope systems).
    pub scope: Scope,
    /// Who reviews.
    pub reviewer: Reviewer,
    /// Who reviews when the first strategy gives nobody, the holder, or the NHI's owner.
    pub fallback: Option<Reviewer>,
    /// Identity ids allowed to review on this track (e.g. SOX financial control owners);
    /// empty means anyone.
    pub population: Vec<Spanned<String>>,
    /// Days to remediate a revoked entitlement.
    pub sla_days: Option<Spanned<u32>>,
    /// Whether approvals from a baseline carry forward.
    pub carry_forward: CarryForward,
    /// The oldest a carried approval may be, in days at the review date (no limit when
    /// absent).
    pub carry_forward_max_days: Option<Spanned<u32>>,
    /// Where the track's settings are.
    pub loc: Loc,
}

/// A loaded campaign.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// Campaign id.
    pub id: String,
    /// First and last day of the campaign.
    pub period: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Settings per track, in track order.
    pub tracks: Vec<TrackPlan>,
    /// Where the file is.
    pub loc: Loc,
}

/// Reads and decodes the campaign file at `path`, reporting every problem.
pub fn load(path: &Path) -> Result<Campaign, Problems> {
    let src = crate::text::read(path, "--campaign").map_err(|p| Problems(vec![p]))?;
    from_source(&src)
}

/// Decodes a campaign from YAML text already read.
pub fn from_source(src: &Arc<Source>) -> Result<Campaign, Problems> {
    let root = crate::yaml::parse(src).map_err(|p| Problems(vec![p]))?;
    let mut sink = Problems::default();
    let campaign = decode(&root, &mut sink);
    sink.sort();
    match campaign {
        Some(c) if !sink.has_errors() => Ok(c),
        _ => Err(sink),
    }
}

fn decode(root: &Node, sink: &mut Problems) -> Option<Campaign> {
    let f = Fields::new(root, "campaign", CAMPAIGN_FIELDS, sink)?;
    let id = f.req_str("id", sink);
    let period = f.get("period").and_then(|node| {
        let p = Fields::new(node, "campaign period", &["start", "end"], sink)?;
        let (start, end) = (p.req_date("start", sink)?, p.req_date("end", sink)?);
        if end < start {
            sink.push(
                Problem::error(
                    Code::BadValue,
                    Some(p.loc().clone()),
                    "campaign period ends before it starts",
                )
                .with_help("make `end` the same day as `start` or later"),
            );
        }
        Some((start, end))
    });
    let mut tracks = Vec::new();
    match f.get("tracks") {
        None => sink.push(
            Problem::error(
                Code::MissingField,
                Some(f.loc().clone()),
                "campaign is missing required field `tracks`",
            )
            .with_help("add `tracks:` with `soc:` and/or `sox:` settings"),
        ),
        Some(node) => {
            let names: Vec<&str> = Track::CHOICES.iter().map(|(n, _)| *n).collect();
            if let Some(t) = Fields::new(node, "campaign tracks", &names, sink) {
                for (name, track) in Track::CHOICES {
                    if let Some(n) = t.get(name) {
                        tracks.extend(track_plan(n, *track, sink));
                    }
                }
            }
        }
    }
    Some(Campaign {
        id: id?.value,
        period,
        tracks,
        loc: f.loc().clone(),
    })
}

fn track_plan(node: &Node, track: Track, sink: &mut Problems) -> Option<TrackPlan> {
    let f = Fields::new(node, "campaign track", TRACK_FIELDS, sink)?;
    let scope = f.opt_enum("scope", Scope::CHOICES, sink).unwrap_or(match track {
        Track::Soc => Scope::All,
        Track::Sox => Scope::SoxInScope,
    });
    if f.get("reviewer").is_none() {
        sink.push(
            Problem::error(
                Code::MissingField,
                Some(f.loc().clone()),
                format!(
                    "campaign track `{}` is missing required field `reviewer`",
                    track.as_str()
                ),
            )
            .with_help("add `reviewer: system_owner` or `reviewer: manager`"),
        );
    }
    let reviewer = f.opt_enum("reviewer", Reviewer::CHOICES, sink);
    let fallback = f.opt_enum("fallback", Reviewer::CHOICES, sink);
    let sla_days = days(
        &f,
        "sla_days",
        "write the remediation deadline in days, e.g. `sla_days: 30`",
        sink,
    );
    let carry_forward = f
        .opt_enum("carry_forward", CarryForward::CHOICES, sink)
        .unwrap_or(CarryForward::Never);
    let carry_forward_max_days = days(
        &f,
        "carry_forward_max_days",
        "write the age limit of a carried approval in days, e.g. `carry_forward_max_days: 180`",
        sink,
    );
    Some(TrackPlan {
        track,
        scope,
        reviewer: reviewer?,
        fallback,
        population: f.opt_list("population", sink),
        sla_days,
        carry_forward,
        carry_forward_max_days,
        loc: f.loc().clone(),
    })
}

/// The whole number of days above 0 under `key`, if given.
fn days(f: &Fields<'_>, key: &str, help: &str, sink: &mut Problems) -> Option<Spanned<u32>> {
    f.get(key).and_then(|n| match n.value {
        Value::Int(d, _) if d > 0 => u32::try_from(d).ok().map(|d| Spanned::new(d, n.loc.clone())),
        _ => {
            sink.push(
                Problem::error(
                    Code::BadValue,
                    Some(n.loc.clone()),
                    format!("`{key}` must be a whole number of days above 0"),
                )
                .with_help(help),
            );
            None
        }
    })
}
