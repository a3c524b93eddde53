//! Benchmark peer for dualtrack: the built-in rule pack written in Rego
//! (`bench/rego/dualtrack.rego`), evaluated by Microsoft's `regorus` over the same inventory.
//!
//! ```text
//! regorus-peer --inventory FILE.json --policy bench/rego/dualtrack.rego --as-of 2026-10-01
//! ```
//!
//! The inventory JSON becomes `data` as it is (`data.systems`, `data.identities`,
//! `data.entitlements`), the review date is `input.as_of`, and the query is
//! `data.dualtrack.findings`. Prints `{"findings": N, "by_rule": {rule: count}}` with sorted
//! keys. Every derivation (dates, counts, SoD functions and pairs) happens in the Rego.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use regorus::{Engine, Value};

/// Same allocator as the dualtrack binaries, so the comparison is about the engines.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: regorus-peer --inventory FILE.json --policy bench/rego/dualtrack.rego \
--as-of YYYY-MM-DD [--query data.dualtrack.RULE]";

struct Args {
    inventory: String,
    policy: String,
    as_of: String,
    /// `--query RULE`: print that rule's value as JSON instead (for checking the policy).
    query: Option<String>,
}

fn parse_args() -> Result<Args> {
    let (mut inventory, mut policy, mut as_of, mut query) = (None, None, None, None);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let slot = match flag.as_str() {
            "--inventory" => &mut inventory,
            "--policy" => &mut policy,
            "--as-of" => &mut as_of,
            "--query" => &mut query,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        };
        let Some(value) = it.next() else {
            bail!("`{flag}` needs a value\n{USAGE}");
        };
        *slot = Some(value);
    }
    match (inventory, policy, as_of) {
        (Some(inventory), Some(policy), Some(as_of)) => Ok(Args {
            inventory,
            policy,
            as_of,
            query,
        }),
        _ => bail!("{USAGE}"),
    }
}

const ENTRY: &str = "data.dualtrack.findings";

/// Loads the policy, the inventory as `data` and `input.as_of`, and evaluates `rule`.
fn evaluate(args: &Args, rule: &str) -> Result<Value> {
    let mut engine = Engine::new();
    engine
        .add_policy_from_file(&args.policy)
        .with_context(|| format!("loading policy `{}`", args.policy))?;
    let data =
        Value::from_json_file(&args.inventory).with_context(|| format!("reading inventory `{}`", args.inventory))?;
    engine.add_data(data).context("adding the inventory as data")?;
    let mut input = Value::new_object();
    input
        .as_object_mut()?
        .insert(Value::from("as_of"), Value::from(args.as_of.as_str()));
    engine.set_input(input);
    engine
        .eval_rule(rule.to_owned())
        .with_context(|| format!("evaluating {rule}"))
}

fn run() -> Result<serde_json::Value> {
    let args = parse_args()?;
    if let Some(q) = &args.query {
        let v = evaluate(&args, q)?;
        return Ok(serde_json::from_str(&v.to_json_str()?)?);
    }
    let findings = evaluate(&args, ENTRY)?;
    let items: Vec<&Value> = match &findings {
        Value::Set(s) => s.iter().collect(),
        Value::Array(a) => a.iter().collect(),
        other => bail!("{ENTRY} is not a set: {other:?}"),
    };
    let rule_key = Value::from("rule");
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    for f in &items {
        let rule = f
            .as_object()?
            .get(&rule_key)
            .context("a finding has no `rule`")?
            .as_string()?;
        *by_rule.entry(rule.to_string()).or_default() += 1;
    }
    // serde_json's map is sorted (no `preserve_order`), so the keys print sorted.
    let mut out = serde_json::Map::new();
    out.insert("by_rule".to_owned(), serde_json::to_value(&by_rule)?);
    out.insert("findings".to_owned(), serde_json::Value::from(items.len()));
    Ok(serde_json::Value::Object(out))
}

fn main() -> ExitCode {
    match run() {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("regorus-peer: {e:#}");
            ExitCode::FAILURE
        }
    }
}
