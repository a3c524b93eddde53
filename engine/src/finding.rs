//! Findings and the report: the data every renderer reads. Ids are stable fingerprints and
//! everything is sorted, so the same inputs give the same bytes.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use crate::policy::{Category, Severity, Track};

/// Whether a finding still needs action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FindingStatus {
    /// Needs remediation.
    Open,
    /// Covered by a live exception.
    Excepted,
}

crate::names!(FindingStatus {
    Open = "open",
    Excepted = "excepted",
});

/// What happened to the access a finding is about since a baseline campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// Not in the baseline.
    New,
    /// In the baseline, with a field of access (its own, its holder's or its system's)
    /// different.
    Changed,
    /// In the baseline, the same.
    Unchanged,
    /// In the baseline, gone now.
    Removed,
}

crate::names!(Change {
    New = "new",
    Changed = "changed",
    Unchanged = "unchanged",
    Removed = "removed",
});

/// One satisfied `forbid`: access that fails a track's criteria.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Fingerprint of rule, track, identity and entitlements.
    pub id: String,
    /// Rule id.
    pub rule: Arc<str>,
    /// Track.
    pub track: Track,
    /// Category.
    pub category: Category,
    /// Severity.
    pub severity: Severity,
    /// Control ids cited.
    pub controls: Arc<[String]>,
    /// Identity id.
    pub identity: String,
    /// Entitlement ids involved, sorted.
    pub entitlements: Vec<String>,
    /// What is wrong, in a sentence.
    pub message: String,
    /// The attribute values that made the rule fire.
    pub evidence: Evidence,
    /// What to do.
    pub remediation: Arc<str>,
    /// Open or excepted.
    pub status: FindingStatus,
    /// File of the record the finding is about.
    pub file: Arc<str>,
    /// Line of that record.
    pub line: u32,
    /// Against a baseline: what happened to the access since (`None` without one).
    pub change: Option<Change>,
}

/// Attribute path → value, sorted by path. A sorted vector rather than a map: a large run
/// has hundreds of thousands of findings with two to five entries each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence(Vec<(Arc<str>, Json)>);

impl Evidence {
    /// Sets `key` (replacing an earlier value).
    pub fn insert(&mut self, key: Arc<str>, value: Json) {
        match self.0.binary_search_by(|(k, _)| (**k).cmp(&*key)) {
            Ok(i) => {
                if let Some(slot) = self.0.get_mut(i) {
                    slot.1 = value;
                }
            }
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .and_then(|i| self.0.get(i))
            .map(|(_, v)| v)
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (&**k, v)))
    }
}

/// The stable fingerprint of a finding.
pub fn fingerprint(rule: &str, track: Track, identity: &str, entitlements: &[String]) -> String {
    let mut h = Sha256::new();
    for part in [rule, track.as_str(), identity] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for e in entitlements {
        h.update(e.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(16);
    for b in digest.iter().take(8) {
        id.push(char::from(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0')));
        id.push(char::from(HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0')));
    }
    id
}

impl Finding {
    /// The sort key: identity, track, rule, entitlements.
    pub(crate) fn key(&self) -> (&str, Track, &str, &[String]) {
        (&self.identity, self.track, &self.rule, &self.entitlements)
    }

    /// The finding as JSON, in the findings contract's field order.
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }
}

#[derive(serde::Serialize)]
struct Location<'a> {
    file: &'a str,
    line: u32,
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Finding", 13)?;
        m.serialize_field("id", &self.id)?;
        m.serialize_field("rule", &self.rule)?;
        m.serialize_field("track", self.track.as_str())?;
        m.serialize_field("category", self.category.as_str())?;
        m.serialize_field("severity", self.severity.as_str())?;
        m.serialize_field("controls", &self.controls)?;
        m.serialize_field("identity", &self.identity)?;
        m.serialize_field("entitlements", &self.entitlements)?;
        m.serialize_field("message", &self.message)?;
        m.serialize_field("evidence", &self.evidence)?;
        m.serialize_field("remediation", &self.remediation)?;
        m.serialize_field("status", self.status.as_str())?;
        if let Some(c) = self.change {
            m.serialize_field("change", c.as_str())?;
        }
        m.serialize_field(
            "location",
            &Location {
                file: &self.file,
                line: self.line,
            },
        )?;
        m.end()
    }
}

/// The outcome of one `check` run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The review date.
    pub as_of: DateTime<Utc>,
    /// Tracks evaluated.
    pub tracks: Vec<Track>,
    /// Identities in the inventory.
    pub identities: usize,
    /// Entitlements in the inventory.
    pub entitlements: usize,
    /// Entitlements evaluated per track (every one, once per track).
    pub evaluated: BTreeMap<Track, usize>,
    /// Rules per track.
    pub rules: BTreeMap<Track, usize>,
    /// Findings, sorted.
    pub findings: Vec<Finding>,
}

impl Report {
    /// A report with no findings yet and every per-track count at zero.
    pub fn empty(inv: &crate::inventory::Inventory, pack: &crate::Pack, opts: &crate::Options) -> Self {
        Report {
            as_of: opts.as_of,
            tracks: opts.tracks.clone(),
            identities: inv.identities.len(),
            entitlements: inv.entitlements.len(),
            evaluated: opts.tracks.iter().map(|t| (*t, 0)).collect(),
            rules: opts
                .tracks
                .iter()
                .map(|t| (*t, pack.rules.iter().filter(|r| r.track == *t).count()))
                .collect(),
            findings: Vec::new(),
        }
    }

    /// A report of `findings` (sorted) with the counts of `tally`.
    pub fn from_tally(tally: &Tally, findings: Vec<Finding>) -> Self {
        Report {
            as_of: tally.as_of,
            tracks: tally.tracks.clone(),
            identities: tally.identities,
            entitlements: tally.entitlements,
            evaluated: tally.evaluated.clone(),
            rules: tally.rules.clone(),
            findings,
        }
    }

    /// Sorts findings by identity, track, rule, entitlements.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| a.key().cmp(&b.key()));
    }

    /// Open findings at or above `min`.
    pub fn open_at_or_above(&self, min: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.status == FindingStatus::Open && f.severity >= min)
            .count()
    }

    /// Findings per (track, severity).
    pub fn counts(&self) -> BTreeMap<(Track, Severity), usize> {
        let mut out = BTreeMap::new();
        for f in &self.findings {
            *out.entry((f.track, f.severity)).or_insert(0) += 1;
        }
        out
    }

    /// The counts the summary is made of.
    pub fn tally(&self) -> Tally {
        let mut t = Tally {
            as_of: self.as_of,
            tracks: self.tracks.clone(),
            identities: self.identities,
            entitlements: self.entitlements,
            evaluated: self.evaluated.clone(),
            rules: self.rules.clone(),
            ..Tally::default()
        };
        t.add_counts(&Counts::of(&self.findings));
        t
    }

    /// The summary object of the findings contract.
    pub fn summary_json(&self) -> Json {
        self.tally().summary_json()
    }

    /// The report as the findings-contract JSON object.
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }
}

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Report", 3)?;
        m.serialize_field("as_of", &self.as_of.to_rfc3339_opts(SecondsFormat::Secs, true))?;
        m.serialize_field("summary", &self.summary_json())?;
        m.serialize_field("findings", &self.findings)?;
        m.end()
    }
}

/// The counts a report's summary is made of, kept up as findings go by: a streamed run
/// writes findings out as it goes and never holds them all.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// The review date.
    pub as_of: DateTime<Utc>,
    /// Tracks evaluated.
    pub tracks: Vec<Track>,
    /// Identities in the inventory.
    pub identities: usize,
    /// Entitlements in the inventory.
    pub entitlements: usize,
    /// Entitlements evaluated per track.
    pub evaluated: BTreeMap<Track, usize>,
    /// Rules per track.
    pub rules: BTreeMap<Track, usize>,
    /// Findings seen.
    pub findings: usize,
    /// Of which open.
    pub open: usize,
    pub(crate) by_track: BTreeMap<&'static str, usize>,
    pub(crate) by_category: BTreeMap<&'static str, usize>,
    pub(crate) by_severity: BTreeMap<&'static str, usize>,
    pub(crate) open_by_severity: BTreeMap<Severity, usize>,
}

/// Findings counted by what a [`Tally`] counts them by (track, category, severity, open),
/// so that a worker can count its findings and hand over a few numbers instead of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(Vec<((Track, Category, Severity, bool), usize)>);

impl Counts {
    /// Counts one finding.
    pub fn add(&mut self, f: &Finding) {
        let key = (f.track, f.category, f.severity, f.status == FindingStatus::Open);
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => self.0.push((key, 1)),
        }
    }

    /// The counts of `findings`.
    pub fn of(findings: &[Finding]) -> Self {
        let mut c = Self::default();
        for f in findings {
            c.add(f);
        }
        c
    }
}

impl Tally {
    /// Adds findings counted elsewhere (on the thread that made them).
    pub fn add_counts(&mut self, counts: &Counts) {
        for &((track, category, severity, open), n) in &counts.0 {
            self.findings += n;
            *self.by_track.entry(track.as_str()).or_default() += n;
            *self.by_category.entry(category.as_str()).or_default() += n;
            *self.by_severity.entry(severity.as_str()).or_default() += n;
            if open {
                self.open += n;
                *self.open_by_severity.entry(severity).or_default() += n;
            }
        }
    }

    /// Open findings at or above `min`.
    pub fn open_at_or_above(&self, min: Severity) -> usize {
        self.open_by_severity.range(min..).map(|(_, n)| n).sum()
    }

    /// The summary object of the findings contract.
    pub fn summary_json(&self) -> Json {
        let per_track = |m: &BTreeMap<Track, usize>| -> Json {
            Json::Object(
                self.tracks
                    .iter()
                    .map(|t| (t.as_str().to_owned(), Json::from(m.get(t).copied().unwrap_or(0))))
                    .collect(),
            )
        };
        json!({
            "identities": self.identities,
            "entitlements": self.entitlements,
            "evaluated": per_track(&self.evaluated),
            "rules": per_track(&self.rules),
            "findings": self.findings,
            "open": self.open,
            "by_track": self.by_track,
            "by_category": self.by_category,
            "by_severity": self.by_severity,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn finding(track: Track, category: Category, severity: Severity, status: FindingStatus) -> Finding {
        Finding {
            id: String::new(),
            rule: Arc::from("R"),
            track,
            category,
            severity,
            controls: Arc::from(Vec::new()),
            identity: "a".to_owned(),
            entitlements: Vec::new(),
            message: String::new(),
            evidence: Evidence::default(),
            remediation: Arc::from(""),
            status,
            file: Arc::from("inv.json"),
            line: 1,
            change: None,
        }
    }

    #[test]
    fn counts_made_in_pieces_give_the_summary_of_every_finding() {
        use Category::{Conflicting, Stale};
        use FindingStatus::{Excepted, Open};
        use Severity::{High, Low};
        use Track::{Soc, Sox};
        let all = [
            finding(Soc, Stale, Low, Open),
            finding(Soc, Stale, Low, Open),
            finding(Sox, Conflicting, High, Excepted),
            finding(Sox, Stale, High, Open),
            finding(Soc, Conflicting, Low, Excepted),
        ];
        // As the workers hand them over: an identity's findings at a time.
        let mut tally = Tally {
            tracks: Track::ALL.to_vec(),
            ..Tally::default()
        };
        for piece in [&all[..1], &all[1..4], &all[4..], &[]] {
            tally.add_counts(&Counts::of(piece));
        }
        let summary = tally.summary_json();
        assert_eq!(summary["findings"], 5);
        assert_eq!(summary["open"], 3);
        assert_eq!(summary["by_track"], json!({"soc": 3, "sox": 2}));
        assert_eq!(summary["by_category"], json!({"conflicting": 2, "stale": 3}));
        assert_eq!(summary["by_severity"], json!({"high": 2, "low": 3}));
        assert_eq!(tally.open_at_or_above(High), 1);
        assert_eq!(tally.open_at_or_above(Low), 3);
    }
}
