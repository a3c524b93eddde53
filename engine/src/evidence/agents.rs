//! The narrative's "AI agents" section: which agents each track reviewed, how many are
//! accountable through an active sponsor, how they act, and which control objective the
//! track tested for them (the seed asks that an approval of a non-human identity state the
//! objective it tested).

use std::fmt::Write as _;

use crate::escape::code;
use crate::inventory::{Acts, Identity, IdentityKind, Inventory, Status};
use crate::policy::Track;

use super::TrackView;

/// The control objective a track tests for AI agents.
fn objective(track: Track) -> &'static str {
    match track {
        Track::Soc => {
            "every agent is accountable to an active sponsor, holds no standing privileged \
             access, acts within the access of the people it acts for, and is in use \
             (SOC-AGENT-001 to SOC-AGENT-004; SOC 2 CC6.2 and CC6.3, OWASP ASI03, NIST AI RMF \
             GOVERN 1.6 and GOVERN 2.1, ISO/IEC 42001 A.3.2)"
        }
        Track::Sox => {
            "no agent completes, together with a person it acts for or is sponsored by, a \
             segregation-of-duties conflict on in-scope systems; no autonomous agent holds \
             privileged access to them; and every agent with in-scope access has an active \
             sponsor (SOX-AGENT-001 to SOX-AGENT-003; SOX ITGC access to programs and data, \
             OWASP ASI03)"
        }
    }
}

fn has_active_sponsor(agent: &Identity, inv: &Inventory) -> bool {
    agent.sponsors.iter().any(|s| {
        inv.identity(&s.value)
            .is_some_and(|p| p.kind == IdentityKind::Human && p.status == Status::Active)
    })
}

/// The agents a track reviewed: every agent on SOC, those with in-scope access on SOX.
fn in_scope(inv: &Inventory, track: Track) -> Vec<&Identity> {
    let agents = inv.identities.iter().filter(|i| i.is_agent());
    match track {
        Track::Soc => agents.collect(),
        Track::Sox => agents
            .filter(|a| {
                inv.entitlements
                    .iter()
                    .any(|e| *e.identity.value == *a.id && inv.system(&e.system.value).is_some_and(|s| s.sox_in_scope))
            })
            .collect(),
    }
}

/// Writes the section; nothing when the inventory holds no AI agent.
pub fn section(out: &mut String, inv: &Inventory, ctx: &TrackView<'_>) {
    if !inv.identities.iter().any(Identity::is_agent) {
        return;
    }
    let agents = in_scope(inv, ctx.track);
    let sponsored = agents.iter().filter(|a| has_active_sponsor(a, inv)).count();
    let acting = |how: Option<Acts>| agents.iter().filter(|a| a.acts == how).count();
    let _ = writeln!(out, "\n## AI agents\n");
    let _ = writeln!(
        out,
        "| measure | count |\n|---|---:|\n| AI agents in scope | {} |\n| with an active sponsor | {sponsored} |\n| without an active sponsor | {} |\n| acting autonomously | {} |\n| acting on behalf of people | {} |\n| how they act not recorded | {} |",
        agents.len(),
        agents.len() - sponsored,
        acting(Some(Acts::Autonomous)),
        acting(Some(Acts::OnBehalfOf)),
        acting(None),
    );
    let _ = writeln!(
        out,
        "\nControl objective tested for them on this track: {}. Agents are non-human identities, so every other rule of the track applied to them as well.",
        objective(ctx.track)
    );
    let mut flagged: Vec<&str> = ctx
        .findings
        .iter()
        .filter(|f| agents.iter().any(|a| a.id == f.identity))
        .map(|f| f.identity.as_str())
        .collect();
    flagged.sort_unstable();
    flagged.dedup();
    if flagged.is_empty() {
        let _ = writeln!(out, "\nNo agent in scope has a finding on this track.");
    } else {
        let names: Vec<String> = flagged.iter().map(|a| code(a)).collect();
        let _ = writeln!(out, "\nAgents with findings on this track: {}.", names.join(", "));
    }
}
