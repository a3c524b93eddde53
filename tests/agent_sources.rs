//! AI agents from real exports (issue 23, item 3): Entra Agent ID through the `entra`
//! importer, Okta for AI Agents through `okta`, the SCIM agent extension draft's `Agent`
//! resources through `scim`. Each gives `ai_agent` identities whose sponsors are the HR
//! people their exports name (a sponsor outside the extract stays visible, as a warning and
//! in the finding), and `check` on the sources file reports the agent rules on them. The
//! agent fields survive the CSV inventory form: written by `import --format csv`, read
//! back, the same sponsors, `acts`, delegators and parent, and the same findings.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value as Json;

use crate::common::{check_json as check, dualtrack, dualtrack_in, fired, parts, root};

const SOURCES: &str = "tests/fixtures/sources/agents/sources.yaml";
const AGENTS: &str = "tests/fixtures/agents/inventory.yaml";

const TRIAGE: &str = "entra:object:1b7313c4-05d0-4a08-88e3-7b76c003a0a2";
const PAYABLES: &str = "entra:object:2c8424d5-16e1-4b19-99f4-8c87d114b1b3";
const FORECAST: &str = "entra:object:3d9535e6-27f2-4c2a-aa05-9d98e225c2c4";
const VENDOR: &str = "entra:object:4ea646f7-38a3-4d3b-bb16-aea9f336d3d5";
const BLUEPRINT: &str = "entra:app:631a96bc-a705-4eda-9f99-fdaf9f54f6a2";
const AGENT_USER: &str = "entra:invoice-triage-agent@acme.example";

/// (rule, identity) of every finding of an agent rule.
fn agent_findings(report: &Json) -> BTreeSet<(String, String)> {
    fired(report)
        .into_iter()
        .filter(|(rule, _)| rule.contains("-AGENT-"))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter().map(|(r, i)| ((*r).to_owned(), (*i).to_owned())).collect()
}

/// `import --sources SOURCES --out DIR --format FORMAT`, asserting success.
fn import(sources: &str, out: &Path, format: &str) {
    let (code, _, stderr) = parts(&dualtrack(&[
        "import",
        "--sources",
        sources,
        "--out",
        out.to_str().unwrap(),
        "--format",
        format,
    ]));
    assert_eq!(code, 0, "{stderr}");
}

/// The identities `import --format json` writes for `sources`.
fn identities(sources: &str) -> Vec<Json> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("inventory");
    import(sources, &out, "json");
    let text = std::fs::read_to_string(out.join("identities.json")).unwrap();
    let doc: Json = serde_json::from_str(&text).unwrap();
    doc["identities"].as_array().unwrap().clone()
}

fn by_id<'a>(records: &'a [Json], id: &str) -> &'a Json {
    records
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no identity `{id}`"))
}

/// The sponsors of `identity`, as written.
fn sponsors(identity: &Json) -> Vec<&str> {
    identity["sponsors"]
        .as_array()
        .map(|l| l.iter().map(|s| s.as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[test]
fn each_importer_gives_the_agent_findings_of_its_exports() {
    let (code, r, stderr) = check(SOURCES);
    assert_eq!(code, 1, "{stderr}");
    let want = pairs(&[
        // Entra: Raj (P2) left, so the payables agent's one sponsor is not active; it
        // holds an app role on an in-scope system.
        ("SOC-AGENT-001", PAYABLES),
        ("SOX-AGENT-003", PAYABLES),
        // No sponsor expanded on it at all.
        ("SOC-AGENT-001", FORECAST),
        // A sponsor outside the extract (a contractor of another tenant).
        ("SOC-AGENT-001", VENDOR),
        // A directory role held with no end: standing privilege.
        ("SOC-AGENT-002", TRIAGE),
        // Okta: an owner (by ORN) who is not in the export.
        ("SOC-AGENT-001", "okta:agent:wlp3nobody00000000g4"),
        // SCIM: an owner id that names no user or group of the export.
        ("SOC-AGENT-001", "agenthub:agent:Expense auditor"),
    ]);
    assert_eq!(agent_findings(&r), want);
    // The unknown sponsors stay visible: a DT106 warning each, at the line naming them
    // (the blueprint outside the export is the fourth).
    for (name, at) in [
        ("ex.contractor@partner.example", "entra/agent-by-powershell.json:12:"),
        ("00u9gone0000000g4", "okta/ai-agents.json:27:"),
        ("0d7f6e5c-4b3a-4291-8e7d-6c5b4a392817", "scim/agents.json:67:"),
    ] {
        let warning = format!("⚠ `sponsors` names unknown identity `{name}`");
        let block = stderr
            .split(warning.as_str())
            .nth(1)
            .unwrap_or_else(|| panic!("no DT106 warning for `{name}`: {stderr}"));
        let next = block.lines().nth(1).unwrap_or_default();
        assert!(next.contains(at), "`{name}` located at {at}: {next}");
    }
    assert!(
        stderr.contains("DT106") && stderr.contains("0 error(s), 4 warning(s)"),
        "{stderr}"
    );
    // The finding says which sponsor was named and that its status is unknown.
    let vendor = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "SOC-AGENT-001" && f["identity"] == VENDOR)
        .unwrap();
    let message = vendor["message"].as_str().unwrap();
    assert!(message.contains("1 named") && message.contains("unknown"), "{message}");
    assert!(
        vendor["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("entra/agent-by-powershell.json"),
        "{vendor}"
    );
}

#[test]
fn entra_agents_keep_their_sponsors_blueprint_and_assignments() {
    let ids = identities(SOURCES);
    let triage = by_id(&ids, TRIAGE);
    assert_eq!(triage["kind"], "ai_agent");
    assert_eq!(sponsors(triage), ["P1"], "Ann by her user principal name");
    assert_eq!(triage["parent"], BLUEPRINT, "from `agentIdentityBlueprintId`");
    assert!(triage["created_at"]
        .as_str()
        .unwrap()
        .starts_with("2026-02-17T19:10:35"));
    assert!(triage.get("acts").is_none(), "Graph does not say how an agent acts");
    assert_eq!(sponsors(by_id(&ids, PAYABLES)), ["P2"], "Raj by his mail");
    assert!(by_id(&ids, FORECAST).get("sponsors").is_none());
    // Windows PowerShell 5.1's form (UTF-16LE, `\/Date(ms)\/`): the agent's own
    // properties in `AdditionalProperties`.
    let vendor = by_id(&ids, VENDOR);
    assert_eq!(vendor["kind"], "ai_agent");
    assert_eq!(vendor["status"], "disabled");
    assert_eq!(vendor["created_at"], "2026-01-01T00:00:00Z");
    assert_eq!(sponsors(vendor), ["ex.contractor@partner.example"]);
    // The blueprint and its principal are one application identity, owned by Ann.
    let blueprint = by_id(&ids, BLUEPRINT);
    assert_eq!(blueprint["kind"], "service_account");
    assert_eq!(blueprint["owner"], "P1");
    assert_eq!(blueprint["tags"]["entra_type"], "agentIdentityBlueprint");
    // The agent user is an agent too, never correlated to a person.
    let user = by_id(&ids, AGENT_USER);
    assert_eq!(user["kind"], "ai_agent");
    assert_eq!(user["parent"], TRIAGE, "its `identityParentId`");
    assert_eq!(sponsors(user), ["P3"], "its sponsor is a group: Mia, its member");
    assert!(user.get("uncorrelated").is_none(), "{user}");
}

#[test]
fn okta_and_scim_agents_take_their_owners_as_sponsors() {
    let ids = identities(SOURCES);
    let demo = by_id(&ids, "okta:agent:wlpx9jQ16k9V8IFEL0g3");
    assert_eq!(demo["kind"], "ai_agent");
    assert_eq!(demo["display_name"], "Demo Agent");
    assert_eq!(sponsors(demo), ["P1"], "from `ai-agents/<id>/owners.json`");
    assert_eq!(demo["tags"]["okta_app"], "Support Portal");
    // A group owner stands for its members; the staged agent stays reviewable.
    let triage = by_id(&ids, "okta:agent:wlp2triage0000000g4");
    assert_eq!(sponsors(triage), ["P1", "P2"]);
    assert_eq!(triage["tags"]["never_activated"], "true");
    assert_eq!(triage["tags"]["platform"], "Homegrown");
    // SCIM: a user owner, a group owner (its members) and a parent agent.
    let bot = by_id(&ids, "agenthub:agent:Helpdesk bot");
    assert_eq!((bot["kind"].as_str(), sponsors(bot)), (Some("ai_agent"), vec!["P1"]));
    let eu = by_id(&ids, "agenthub:agent:Helpdesk bot (EU)");
    assert_eq!(sponsors(eu), ["P3"]);
    assert_eq!(eu["parent"], "agenthub:agent:Helpdesk bot");
}

/// Every imported agent as `import` writes it, for review: a change in what an importer
/// reads shows up here.
#[test]
fn imported_agents_as_written() {
    let mut agents: Vec<Json> = identities(SOURCES)
        .into_iter()
        .filter(|i| i["kind"] == "ai_agent" || i["tags"]["entra_type"].is_string())
        .collect();
    agents.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    insta::assert_json_snapshot!("imported_agents", agents);
}

#[test]
fn scim_agent_entitlements_are_access_on_the_scim_system() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("inventory");
    import(SOURCES, &out, "json");
    let text = std::fs::read_to_string(out.join("entitlements.json")).unwrap();
    let doc: Json = serde_json::from_str(&text).unwrap();
    let held: BTreeSet<String> = doc["entitlements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["identity"]
                .as_str()
                .unwrap()
                .starts_with("agenthub:agent:Helpdesk bot")
        })
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    let want: BTreeSet<String> = [
        "agenthub:agent:Helpdesk bot:agenthub:entitlement/tickets.write",
        "agenthub:agent:Helpdesk bot:agenthub:role/responder",
        "agenthub:agent:Helpdesk bot (EU):agenthub:entitlement/tickets.read",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(held, want);
}

/// The agent fields of every `ai_agent` identity: (id, sponsors, acts, delegators, parent).
type AgentFields = BTreeSet<(String, Vec<String>, Option<String>, Vec<String>, Option<String>)>;

fn agent_fields(identities: &[Json]) -> AgentFields {
    let list = |v: &Json| -> Vec<String> {
        v.as_array()
            .map(|l| l.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    identities
        .iter()
        .filter(|i| i["kind"] == "ai_agent")
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_owned(),
                list(&i["sponsors"]),
                i["acts"].as_str().map(str::to_owned),
                list(&i["delegators"]),
                i["parent"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn agent_fields_survive_the_csv_inventory_form() {
    let tmp = tempfile::tempdir().unwrap();
    // The native agent fixture (every field set somewhere) and the imported agents, each
    // written as a CSV inventory, then read back through a sources file of its own.
    let native = tmp.path().join("native.yaml");
    let fixture = root().join(AGENTS);
    std::fs::write(&native, format!("sources: []\ninventory: [{}]\n", fixture.display())).unwrap();
    for (sources, label) in [
        (native.to_str().unwrap().to_owned(), "native"),
        (SOURCES.to_owned(), "imported"),
    ] {
        let csv_dir = tmp.path().join(format!("{label}-csv"));
        import(&sources, &csv_dir, "csv");
        let header = std::fs::read_to_string(csv_dir.join("identities.csv")).unwrap();
        for column in ["sponsors", "acts", "delegators", "parent"] {
            assert!(header.lines().next().unwrap().contains(column), "{label}: {column}");
        }
        let back = tmp.path().join(format!("{label}-back.yaml"));
        std::fs::write(&back, format!("sources: []\ninventory: [{}]\n", csv_dir.display())).unwrap();
        let before = agent_fields(&identities(&sources));
        let after = agent_fields(&identities(back.to_str().unwrap()));
        assert!(
            before.iter().any(|(_, s, _, _, p)| s.len() > 1 || p.is_some()),
            "{label}: the fixture sets the fields"
        );
        if label == "native" {
            assert!(before.iter().any(|(_, _, a, d, _)| a.is_some() && !d.is_empty()));
        }
        assert_eq!(before, after, "{label}: agent fields after the CSV round trip");
        // And the CSV inventory gives the same agent findings.
        let (_, a, _) = check(&sources);
        let (_, b, stderr) = check(csv_dir.to_str().unwrap());
        assert_eq!(agent_findings(&a), agent_findings(&b), "{label}: {stderr}");
        assert!(!agent_findings(&a).is_empty(), "{label}");
    }
}

#[test]
fn bad_agent_input_is_a_coded_diagnostic_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let files = [
        (
            "sources.yaml",
            "sources:\n  - type: okta\n    path: okta/\n  - type: scim\n    path: scim.json\n  - type: entra\n    path: entra.json\n",
        ),
        (
            "okta/ai-agents.json",
            "{\"data\": [\n  {\"id\": \"wlp1\", \"status\": \"RETIRED\", \"profile\": {\"name\": \"A\"}},\n  {\"status\": \"ACTIVE\", \"profile\": {\"name\": \"B\"}}\n]}\n",
        ),
        (
            "scim.json",
            "{\"Resources\": [\n  {\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:Agent\"], \"active\": true},\n  {\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:Agent\"], \"name\": \"c\",\n   \"owners\": [{\"display\": \"no value\"}]}\n]}\n",
        ),
        (
            "entra.json",
            "[\n  {\"@odata.type\": \"#microsoft.graph.agentIdentity\", \"displayName\": \"no id\"},\n  {\"agentIdentityBlueprintId\": \"bp\", \"id\": \"x1\", \"createdDateTime\": \"last week\"}\n]\n",
        ),
    ];
    for (name, text) in files {
        let path = tmp.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let (code, _, stderr) = parts(&dualtrack_in(
        tmp.path(),
        &["check", "--inventory", "sources.yaml", "--as-of", "2026-10-01"],
    ));
    assert_eq!(code, 3, "{stderr}");
    for (what, code, at) in [
        ("unknown AI agent status", "DT108", "okta/ai-agents.json:2"),
        ("agent without id", "DT901", "okta/ai-agents.json:3"),
        ("SCIM agent without name or id", "DT901", "scim.json:2"),
        ("owner without value", "DT901", "scim.json:4"),
        ("Entra agent without appId or id", "DT901", "entra.json:2"),
        ("bad date", "DT107", "entra.json:3"),
    ] {
        // Each diagnostic starts with its code line, then its message and location.
        let located = format!("─[{at}:");
        let found = stderr
            .split('\n')
            .fold(Vec::<String>::new(), |mut blocks, line| {
                if line.starts_with("DT") || blocks.is_empty() {
                    blocks.push(String::new());
                }
                if let Some(b) = blocks.last_mut() {
                    b.push_str(line);
                    b.push('\n');
                }
                blocks
            })
            .iter()
            .any(|b| b.starts_with(code) && b.contains(&located));
        assert!(found, "{what}: {code} at {at}: {stderr}");
    }
}
