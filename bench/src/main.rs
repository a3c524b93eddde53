//! Developer tools: `dualtrack-bench gen` writes a deterministic, realistic synthetic
//! inventory in the format of `docs/inventory.md` (people and NHIs, SOX and non-SOX
//! systems, SoD functions, terminated people, missing usage and owner data, about ten
//! entitlements per identity); `dualtrack-bench phases` times each phase of a `check` run for profiling;
//! `dualtrack-bench to-csv` rewrites such an inventory as a directory with CSV entitlements.

mod phases;

/// mimalloc: the evaluation allocates many small, short-lived values from two threads;
/// glibc malloc spent a fifth of a 1M-entitlement run in malloc/free and consolidation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use dualtrack_bench::generate;

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: dualtrack-bench gen --entitlements N --out PATH.json [--seed S] [--profile default|findings-heavy] [--minified]\n       dualtrack-bench phases INVENTORY\n       dualtrack-bench to-csv INVENTORY.json DIR\n       dualtrack-bench to-yaml INVENTORY.json OUT.yaml"
    );
    ExitCode::from(2)
}

fn to_csv(args: &[String]) -> ExitCode {
    let [json, dir] = args else { return usage() };
    match dualtrack_bench::to_csv::convert(std::path::Path::new(json), std::path::Path::new(dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot convert {json}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn to_yaml(args: &[String]) -> ExitCode {
    let [json, out] = args else { return usage() };
    match dualtrack_bench::to_yaml::convert(std::path::Path::new(json), std::path::Path::new(out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot convert {json}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("gen") => {}
        Some("phases") => return phases::run(it.as_slice()),
        Some("to-csv") => return to_csv(it.as_slice()),
        Some("to-yaml") => return to_yaml(it.as_slice()),
        _ => return usage(),
    }
    let (mut n, mut out, mut seed) = (None, None, 42u64);
    let (mut profile, mut layout) = (Some(generate::Profile::Default), generate::Layout::Pretty);
    while let Some(flag) = it.next() {
        if flag == "--minified" {
            layout = generate::Layout::Minified;
            continue;
        }
        let value = it.next();
        match (flag.as_str(), value) {
            ("--entitlements", Some(v)) => n = v.replace('_', "").parse::<usize>().ok(),
            ("--out", Some(v)) => out = Some(v.clone()),
            ("--seed", Some(v)) => seed = v.parse().unwrap_or(42),
            ("--profile", Some(v)) => profile = generate::Profile::from_name(v),
            _ => return usage(),
        }
    }
    let (Some(n), Some(out), Some(profile)) = (n, out, profile) else {
        return usage();
    };
    match generate::write_with(std::path::Path::new(&out), n, seed, profile, layout) {
        Ok(stats) => {
            eprintln!("{out}: {stats}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {out}: {e}");
            ExitCode::FAILURE
        }
    }
}
