//! Times each phase of a `check` run (schema, pack, inventory, evaluation, rendering) so a
//! profile can say where the time goes.

use std::process::ExitCode;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use dualtrack_engine::{eval, open, policy, render, Model, Track};

/// `dualtrack-bench phases INVENTORY`.
pub fn run(args: &[String]) -> ExitCode {
    let Some(path) = args.first() else {
        eprintln!("usage: dualtrack-bench phases INVENTORY");
        return ExitCode::from(2);
    };
    let t = Instant::now();
    let Ok(model) = Model::load() else {
        return ExitCode::FAILURE;
    };
    let t_model = t.elapsed();
    let t = Instant::now();
    let Ok(pack) = policy::load(policy::builtin_files(), &model) else {
        return ExitCode::FAILURE;
    };
    let t_pack = t.elapsed();
    let t = Instant::now();
    let Ok((inv, _)) = open::load(std::path::Path::new(path)) else {
        return ExitCode::FAILURE;
    };
    let t_load = t.elapsed();
    let opts = eval::Options {
        as_of: Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).single().unwrap_or_default(),
        tracks: Track::ALL.to_vec(),
    };
    let t = Instant::now();
    let Ok(report) = eval::evaluate(&inv, &pack, &model, &opts) else {
        return ExitCode::FAILURE;
    };
    let t_eval = t.elapsed();
    let t = Instant::now();
    let out = render::json(&report);
    let t_render = t.elapsed();
    println!(
        "schema {:?}  pack {:?}  inventory {:?}  evaluate {:?}  render {:?}  ({} entitlements, {} findings, {} bytes)",
        t_model,
        t_pack,
        t_load,
        t_eval,
        t_render,
        inv.entitlements.len(),
        report.findings.len(),
        out.len()
    );
    ExitCode::SUCCESS
}
