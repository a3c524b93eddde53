//! The generator. A small xorshift PRNG keeps it deterministic without dependencies; output
//! is written as it is generated, so memory stays flat at any size.

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Counts of what was written.
pub struct Stats {
    systems: usize,
    identities: usize,
    entitlements: usize,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} systems, {} identities, {} entitlements",
            self.systems, self.identities, self.entitlements
        )
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(10_000) < percent * 100
    }

    /// Days ago: below `near` with probability `percent`, else below `far`.
    fn days_ago(&mut self, percent: u64, near: u64, far: u64) -> u64 {
        let limit = if self.chance(percent) { near } else { far };
        self.below(limit)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items.get(i).copied().unwrap_or_default()
    }
}

const FUNCTIONS: &[&str] = &[
    "vendor-master-maintain",
    "payment-approve",
    "bank-account-maintain",
    "purchase-order-create",
    "invoice-approve",
    "journal-entry-create",
    "journal-entry-approve",
    "payroll-maintain",
    "payroll-approve",
    "user-admin",
    "code-change-develop",
    "production-deploy",
];
const NHI_KINDS: &[&str] = &["service_account", "api_key", "token", "workload"];
const DEPARTMENTS: &[&str] = &["Finance", "Engineering", "Sales", "HR", "IT", "Operations", "Legal"];
const PERMISSIONS: &[&str] = &[
    "read", "write", "approve", "admin", "report", "export", "maintain", "operate",
];

/// How the generated estate looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// 60 systems (12 SOX); about 31% of entitlements end up in a finding.
    Default,
    /// A neglected estate at its first review: 200 systems (40 SOX), most grants idle or
    /// without a justification, about one finding per entitlement.
    FindingsHeavy,
}

impl Profile {
    /// The profile called `name` (`default`, `findings-heavy`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "default" => Some(Profile::Default),
            "findings-heavy" => Some(Profile::FindingsHeavy),
            _ => None,
        }
    }

    fn knobs(self) -> Knobs {
        match self {
            Profile::Default => Knobs {
                systems: 60,
                sox_systems: 12,
                used_recently: 85,
                justified: 90,
            },
            Profile::FindingsHeavy => Knobs {
                systems: 200,
                sox_systems: 40,
                used_recently: 40,
                justified: 45,
            },
        }
    }
}

/// The numbers a profile sets.
struct Knobs {
    systems: usize,
    sox_systems: usize,
    /// Percent of entitlements with a last use in the last 30 days (others up to 250).
    used_recently: u64,
    /// Percent of entitlements with a justification and a ticket.
    justified: u64,
}

/// How the JSON is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One record per line, as the README's benchmark has always used.
    Pretty,
    /// The whole document on one line without spaces (`jq -c`, most API clients).
    Minified,
}

/// A date `days` before 2026-10-01 (the benchmark's `--as-of`), as `YYYY-MM-DD`.
fn date_before(days: u64) -> String {
    // Civil-from-days (Howard Hinnant's algorithm) on days since 1970-01-01.
    let as_of: i64 = 20_727; // 2026-10-01
    let z = as_of - i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Writes an inventory of about `entitlements` entitlements to `path` as one JSON file
/// (the default profile, one record per line).
pub fn write(path: &Path, entitlements: usize, seed: u64) -> std::io::Result<Stats> {
    write_with(path, entitlements, seed, Profile::Default, Layout::Pretty)
}

/// Writes an inventory of about `entitlements` entitlements of `profile` to `path` as one
/// JSON file laid out as `layout`.
pub fn write_with(
    path: &Path,
    entitlements: usize,
    seed: u64,
    profile: Profile,
    layout: Layout,
) -> std::io::Result<Stats> {
    let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut w = Lines {
        out: file,
        one_line: layout == Layout::Minified,
    };
    let stats = generate(&mut w, entitlements, seed, &profile.knobs())?;
    w.out.flush()?;
    Ok(stats)
}

/// Writes lines as they are given, or all on one line without the spaces after `:` and
/// `,` and the indentation (generated values hold no such sequence).
struct Lines<W: Write> {
    out: W,
    one_line: bool,
}

impl<W: Write> Lines<W> {
    fn line(&mut self, text: &str) -> std::io::Result<()> {
        if self.one_line {
            let text = text.trim_start().replace("\": ", "\":").replace(", \"", ",\"");
            self.out.write_all(text.replace('\n', "").as_bytes())
        } else {
            self.out.write_all(text.as_bytes())?;
            self.out.write_all(b"\n")
        }
    }
}

fn generate<W: Write>(w: &mut Lines<W>, entitlements: usize, seed: u64, k: &Knobs) -> std::io::Result<Stats> {
    let mut rng = Rng(seed.max(1));
    let identities = (entitlements / 10).max(1);
    let humans = identities * 4 / 5;
    w.line("{\n\"systems\": [")?;
    for s in 0..k.systems {
        let sep = if s + 1 == k.systems { "" } else { "," };
        let owner = if rng.chance(95) {
            format!(", \"owner\": \"u{:07}\"", rng.below(humans as u64))
        } else {
            String::new()
        };
        let env = if s % 3 == 0 { "staging" } else { "production" };
        w.line(&format!("  {{\"id\": \"sys{s:03}\", \"name\": \"System {s}\", \"sox_in_scope\": {}, \"environment\": \"{env}\"{owner}}}{sep}", s < k.sox_systems))?;
    }
    w.line("],\n\"identities\": [")?;
    for i in 0..identities {
        let sep = if i + 1 == identities { "" } else { "," };
        let mut rec = String::with_capacity(256);
        if i < humans {
            let status = if rng.chance(2) {
                "terminated"
            } else if rng.chance(1) {
                "disabled"
            } else {
                "active"
            };
            rec.push_str(&format!("  {{\"id\": \"u{i:07}\", \"kind\": \"human\", \"display_name\": \"User {i}\", \"status\": \"{status}\", \"department\": \"{}\"", rng.pick(DEPARTMENTS)));
            if status == "terminated" {
                rec.push_str(&format!(", \"terminated_at\": \"{}\"", date_before(rng.below(200))));
            }
            if rng.chance(97) {
                rec.push_str(&format!(
                    ", \"last_seen\": \"{}\"",
                    date_before(rng.days_ago(90, 30, 200))
                ));
            }
            if i > 0 {
                rec.push_str(&format!(", \"manager\": \"u{:07}\"", rng.below(i as u64)));
            }
        } else {
            let kind = rng.pick(NHI_KINDS);
            rec.push_str(&format!(
                "  {{\"id\": \"n{i:07}\", \"kind\": \"{kind}\", \"display_name\": \"{kind} {i}\""
            ));
            if rng.chance(94) {
                rec.push_str(&format!(", \"owner\": \"u{:07}\"", rng.below(humans as u64)));
            }
            if rng.chance(85) {
                rec.push_str(&format!(
                    ", \"last_seen\": \"{}\"",
                    date_before(rng.days_ago(85, 20, 300))
                ));
            }
            if rng.chance(80) {
                rec.push_str(&format!(
                    ", \"credential_rotated_at\": \"{}\"",
                    date_before(rng.below(400))
                ));
            }
            if rng.chance(70) {
                rec.push_str(&format!(
                    ", \"credential_expires_at\": \"{}\"",
                    date_before(0).replacen("2026", if rng.chance(80) { "2027" } else { "2029" }, 1)
                ));
            }
            if rng.chance(3) {
                rec.push_str(", \"interactive_login\": true");
            }
            if rng.chance(2) {
                rec.push_str(", \"tags\": {\"shared\": \"true\"}");
            }
        }
        rec.push('}');
        w.line(&format!("{rec}{sep}"))?;
    }
    w.line("],\n\"entitlements\": [")?;
    let mut written = 0usize;
    for e in 0..entitlements {
        // Entitlements are grouped by identity, about ten each.
        let i = (e * identities / entitlements).min(identities - 1);
        let prefix = if i < humans { "u" } else { "n" };
        let sys = rng.below(k.systems as u64);
        let perm = format!("{}_{}", rng.pick(PERMISSIONS), e % 97);
        let mut rec = format!("  {{\"id\": \"e{e:08}\", \"identity\": \"{prefix}{i:07}\", \"system\": \"sys{sys:03}\", \"permission\": \"{perm}\"");
        if rng.chance(10) {
            rec.push_str(", \"privileged\": true");
        }
        if sys < k.sox_systems as u64 && rng.chance(30) {
            let f = rng.pick(FUNCTIONS);
            rec.push_str(&format!(", \"functions\": [\"{f}\"]"));
        }
        rec.push_str(&format!(", \"granted_at\": \"{}\"", date_before(30 + rng.below(700))));
        if rng.chance(92) {
            rec.push_str(&format!(
                ", \"last_used\": \"{}\"",
                date_before(rng.days_ago(k.used_recently, 30, 250))
            ));
        }
        if rng.chance(k.justified) {
            rec.push_str(", \"justification\": \"needed for role\", \"ticket\": \"CHG-1\"");
        }
        rec.push('}');
        let sep = if e + 1 == entitlements { "" } else { "," };
        w.line(&format!("{rec}{sep}"))?;
        written += 1;
    }
    w.line("]\n}")?;
    Ok(Stats {
        systems: k.systems,
        identities,
        entitlements: written,
    })
}

#[cfg(test)]
mod tests {
    use super::date_before;

    #[test]
    fn dates_count_back_from_the_benchmark_as_of() {
        assert_eq!(date_before(0), "2026-10-01");
        assert_eq!(date_before(1), "2026-09-30");
        assert_eq!(date_before(365), "2025-10-01");
    }
}
