//! The baseline of a delta review: the previous campaign's evidence pack, verified against
//! its manifest before anything in it is read. The pack keeps what a later campaign
//! compares with — the inventory it reviewed, its findings and the decisions it verified —
//! under `baseline/`, written here ([`files`]) and read back here ([`load`]).

pub mod change;
pub mod state;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;

use crate::artefact::{self, File};
use crate::campaign::carry::Previous;
use crate::diag::{Code, Problem, Problems};
use crate::finding::Report;
use crate::inventory::{Entitlement, Inventory};
use crate::node::{parse_date, Value};
use crate::policy::Track;
use crate::worklist::Verdict;
use state::{Ent, Ident, Sys};

pub use change::{Change, Classified};
pub use state::State;

/// The reviewed inventory, as JSON Lines, compressed.
pub const INVENTORY: &str = "baseline/inventory.jsonl.gz";
/// The findings reported, one JSON object per line, compressed.
pub const FINDINGS: &str = "baseline/findings.jsonl.gz";
/// The latest decision per track and entitlement, as verified (only with decisions).
pub const DECISIONS: &str = "baseline/decisions.csv";

/// Columns of [`DECISIONS`].
const DECISION_COLUMNS: [&str; 5] = ["track", "entitlement", "reviewer", "decision", "decided_at"];

/// One finding of the baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseFinding {
    /// Finding id (a fingerprint of rule, track, identity and entitlements).
    pub id: String,
    /// Track.
    pub track: Track,
    /// Rule id.
    pub rule: String,
    /// Severity name.
    pub severity: String,
    /// `open` or `excepted`.
    pub status: String,
    /// Identity id.
    pub identity: String,
    /// Entitlement ids.
    pub entitlements: Vec<String>,
}

impl From<&crate::Finding> for BaseFinding {
    fn from(f: &crate::Finding) -> Self {
        BaseFinding {
            id: f.id.clone(),
            track: f.track,
            rule: f.rule.to_string(),
            severity: f.severity.as_str().to_owned(),
            status: f.status.as_str().to_owned(),
            identity: f.identity.clone(),
            entitlements: f.entitlements.clone(),
        }
    }
}

/// One decision of the baseline campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseDecision {
    /// Who decided.
    pub reviewer: String,
    /// Approve, revoke or modify.
    pub verdict: Verdict,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// A verified baseline pack, read.
#[derive(Debug)]
pub struct Baseline {
    /// The pack directory as given.
    pub pack: String,
    /// The campaign id the pack was built with, if any.
    pub campaign: Option<String>,
    /// The review date of the pack.
    pub as_of: DateTime<Utc>,
    /// SHA-256 of the pack's `manifest.json`.
    pub manifest_sha256: String,
    /// Days to remediate a revoke, per track, as the baseline campaign set them.
    pub sla_days: BTreeMap<Track, u32>,
    /// The inventory it reviewed.
    pub state: State,
    /// Its findings, in report order (read by [`load_with_findings`] only).
    pub findings: Vec<BaseFinding>,
    /// Its decisions, by track and entitlement id.
    pub decisions: BTreeMap<(Track, String), BaseDecision>,
}

impl Baseline {
    /// What a report says about the baseline it compared with.
    pub fn about(&self) -> serde_json::Value {
        json!({
            "campaign": self.campaign,
            "as_of": self.as_of.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "pack": self.pack,
            "manifest_sha256": self.manifest_sha256,
        })
    }

    /// The campaign id, or the pack's review date when it was built without a campaign.
    pub fn label(&self) -> String {
        self.campaign
            .clone()
            .unwrap_or_else(|| format!("pack of {}", self.as_of.format("%Y-%m-%d")))
    }
}

/// What a delta review's campaign reads from the baseline.
impl crate::campaign::carry::Since for Baseline {
    fn campaign(&self) -> String {
        self.label()
    }

    fn as_of(&self) -> DateTime<Utc> {
        self.as_of
    }

    fn change(&self, e: &Entitlement, inv: &Inventory) -> (Change, Vec<String>) {
        let holder = inv.identity(&e.identity.value).map(Ident::of);
        let system = inv.system(&e.system.value).map(Sys::of);
        let c = self
            .state
            .classify(&e.id, &Ent::digest_of(e), holder.as_ref(), system.as_ref());
        (c.change, c.fields)
    }

    fn previous(&self, track: Track, id: &str) -> Option<Previous> {
        self.decisions.get(&(track, id.to_owned())).map(|d| Previous {
            verdict: d.verdict,
            reviewer: d.reviewer.clone(),
            decided_at: d.decided_at,
        })
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    // Fast compression: a million entitlements compress in about a second. The header has
    // no time or name, so the same inventory gives the same bytes.
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    // Writing to a `Vec` cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// The `baseline/` files of a pack. `carried` are approvals carried forward from an
/// earlier baseline: they are this campaign's approvals too (with their reviewer and
/// date), so they can carry again.
pub fn files(
    inv: &Inventory,
    report: &Report,
    decisions: Option<&crate::decisions::Decisions>,
    carried: &[(Track, String, Previous)],
) -> Vec<File> {
    let mut lines = Vec::new();
    // Writing to a `Vec` cannot fail.
    let _ = crate::inventory::write::json_lines(inv, &mut lines);
    let mut out = vec![(INVENTORY.to_owned(), gzip(&lines))];
    let mut found = Vec::new();
    for f in &report.findings {
        let line = json!({
            "id": f.id,
            "track": f.track.as_str(),
            "rule": &*f.rule,
            "severity": f.severity.as_str(),
            "status": f.status.as_str(),
            "identity": f.identity,
            "entitlements": f.entitlements,
        });
        let _ = serde_json::to_writer(&mut found, &line);
        found.push(b'\n');
    }
    out.push((FINDINGS.to_owned(), gzip(&found)));
    let mut rows: BTreeMap<(Track, &str), Previous> = carried
        .iter()
        .map(|(t, id, p)| ((*t, id.as_str()), p.clone()))
        .collect();
    for ((track, id), dec) in decisions.iter().flat_map(|d| d.latest.iter()) {
        rows.insert(
            (*track, id.as_str()),
            Previous {
                verdict: dec.verdict,
                reviewer: dec.reviewer.clone(),
                decided_at: dec.decided_at,
            },
        );
    }
    if decisions.is_some() || !rows.is_empty() {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(DECISION_COLUMNS);
        for ((track, id), p) in &rows {
            let _ = w.write_record([
                track.as_str(),
                id,
                &p.reviewer,
                p.verdict.as_str(),
                &p.decided_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ]);
        }
        out.push((DECISIONS.to_owned(), w.into_inner().unwrap_or_default()));
    }
    out
}

/// Verifies the pack at `dir` and reads its baseline; `flag` names the option that gave
/// it. `Err` names every file that does not match the manifest, or says why the pack
/// cannot serve (an older format, a baseline file that cannot be read).
pub fn load(dir: &Path, flag: &str) -> Result<Baseline, Problems> {
    read(dir, flag, false)
}

/// [`load`], with the pack's findings too (`drift` compares them; the delta review of a
/// campaign does not need them, and a million-entitlement pack holds hundreds of thousands).
pub fn load_with_findings(dir: &Path, flag: &str) -> Result<Baseline, Problems> {
    read(dir, flag, true)
}

fn read(dir: &Path, flag: &str, with_findings: bool) -> Result<Baseline, Problems> {
    // The baseline files are parsed once their own bytes verify, while the rest of the pack
    // is still being hashed; a pack that does not verify is refused all the same.
    let (verified, parsed) =
        artefact::verify::pack_reading(dir, flag, "baseline/", |kept| parse_kept(kept, with_findings))?;
    let manifest = &verified.manifest;
    let at = |key: &str| match &manifest.value {
        Value::Map(m) => m.iter().find(|(k, _, _)| k == key).map(|(_, n, _)| n),
        _ => None,
    };
    let text = |key: &str| {
        at(key).and_then(|n| match &n.value {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        })
    };
    let bad = |what: String| {
        Problems(vec![Problem::error(Code::PackFormat, Some(manifest.loc.clone()), what)
            .with_help("build the pack again with this version of `dualtrack evidence`")])
    };
    let as_of = text("as_of")
        .and_then(|t| parse_date(&t))
        .ok_or_else(|| bad("the pack's manifest has no `as_of` review date".to_owned()))?;
    let mut sla_days = BTreeMap::new();
    if let Some(Value::Map(m)) = at("sla_days").map(|n| &n.value) {
        for (k, n, _) in m {
            if let (Some((_, t)), Value::Int(d, _)) = (Track::CHOICES.iter().find(|(name, _)| name == k), &n.value) {
                if let Ok(d) = u32::try_from(*d) {
                    sla_days.insert(*t, d);
                }
            }
        }
    }
    let (state, findings, decisions) = parsed.map_err(bad)?;
    Ok(Baseline {
        pack: dir.display().to_string(),
        campaign: text("campaign"),
        as_of,
        manifest_sha256: verified.manifest_sha256,
        sla_days,
        state,
        findings,
        decisions,
    })
}

/// What the baseline files of a verified pack hold.
type Parsed = (State, Vec<BaseFinding>, BTreeMap<(Track, String), BaseDecision>);

/// The state, the findings (when asked for) and the decisions of a pack's baseline files;
/// `Err` says which file is not what `evidence` writes.
fn parse_kept(kept: &BTreeMap<String, Vec<u8>>, with_findings: bool) -> Result<Parsed, String> {
    let file = |name: &str| -> Result<&[u8], String> {
        kept.get(name)
            .map(Vec::as_slice)
            .ok_or_else(|| format!("the pack has no `{name}`"))
    };
    // The pack matches its manifest, so what inflates here is what `evidence` wrote.
    let unzip = |name: &str| file(name).map(|b| std::io::BufReader::new(GzDecoder::new(b)));
    let state = State::from_json_lines(unzip(INVENTORY)?).map_err(|e| format!("`{INVENTORY}`: {e}"))?;
    let findings = if with_findings {
        read_findings(unzip(FINDINGS)?).map_err(|e| format!("`{FINDINGS}`: {e}"))?
    } else {
        Vec::new()
    };
    let decisions = if kept.contains_key(DECISIONS) {
        read_decisions(file(DECISIONS)?).map_err(|e| format!("`{DECISIONS}`: {e}"))?
    } else {
        BTreeMap::new()
    };
    Ok((state, findings, decisions))
}

fn track_of(name: &str) -> Option<Track> {
    Track::CHOICES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

fn read_findings(input: impl std::io::BufRead + Send) -> Result<Vec<BaseFinding>, String> {
    let mut out = Vec::new();
    state::each_line(input, finding_line, |found| {
        out.extend(found);
        Ok(())
    })?;
    Ok(out)
}

/// One line of `baseline/findings.jsonl.gz` (`None` for an empty one).
fn finding_line(line: &[u8]) -> Result<Option<BaseFinding>, String> {
    /// The line as written, its text borrowed where it has no escape.
    #[derive(serde::Deserialize)]
    struct Line<'a> {
        #[serde(borrow, default)]
        id: Cow<'a, str>,
        #[serde(borrow)]
        track: Cow<'a, str>,
        #[serde(borrow, default)]
        rule: Cow<'a, str>,
        #[serde(borrow, default)]
        severity: Cow<'a, str>,
        #[serde(borrow, default)]
        status: Cow<'a, str>,
        #[serde(borrow, default)]
        identity: Cow<'a, str>,
        #[serde(borrow, default)]
        entitlements: Vec<Cow<'a, str>>,
    }
    if line.is_empty() {
        return Ok(None);
    }
    let l: Line<'_> = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    Ok(Some(BaseFinding {
        id: l.id.into_owned(),
        track: track_of(&l.track).ok_or_else(|| "no track".to_owned())?,
        rule: l.rule.into_owned(),
        severity: l.severity.into_owned(),
        status: l.status.into_owned(),
        identity: l.identity.into_owned(),
        entitlements: l.entitlements.into_iter().map(Cow::into_owned).collect(),
    }))
}

fn read_decisions(bytes: &[u8]) -> Result<BTreeMap<(Track, String), BaseDecision>, String> {
    let mut out = BTreeMap::new();
    let mut r = ::csv::Reader::from_reader(bytes);
    for (n, row) in r.records().enumerate() {
        let row = row.map_err(|e| e.to_string())?;
        let cell = |i: usize| row.get(i).unwrap_or_default();
        let line = n + 2;
        let track = track_of(cell(0)).ok_or_else(|| format!("line {line}: unknown track"))?;
        let verdict = Verdict::CHOICES
            .iter()
            .find(|(v, _)| *v == cell(3))
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("line {line}: unknown decision"))?;
        let decided_at = parse_date(cell(4)).ok_or_else(|| format!("line {line}: bad date"))?;
        out.insert(
            (track, cell(1).to_owned()),
            BaseDecision {
                reviewer: cell(2).to_owned(),
                verdict,
                decided_at,
            },
        );
    }
    Ok(out)
}
