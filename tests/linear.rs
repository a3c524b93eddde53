//! Reading an inventory costs memory in proportion to the input, whatever its shape: the
//! same records on one line (minified JSON, as `jq -c` and most API clients write it) and
//! one record per line allocate about the same, and twice the records allocate about
//! twice as much. Bytes are counted by the allocator, so nothing here is timed; a record
//! window padded to its column (a copy of the line so far per record) fails it by orders
//! of magnitude.

use std::alloc::System;
use std::path::Path;
use std::process::Command;

use dualtrack_engine::open;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

/// Counts the allocations of the whole process, on every thread, so the test measures in a
/// process of its own where nothing else runs.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Set in the child process that measures.
const ALONE: &str = "DUALTRACK_LINEAR_ALONE";

/// An inventory of `identities` identities with two entitlements each, as JSON records
/// joined by `sep` (`"\n"` for one record per line, `""` for one line).
fn inventory(identities: usize, sep: &str) -> String {
    let systems: Vec<String> = (0..20)
        .map(|s| {
            format!(
                r#"{{"id": "sys{s:02}", "name": "System {s}", "sox_in_scope": {}}}"#,
                s < 5
            )
        })
        .collect();
    let people: Vec<String> = (0..identities)
        .map(|i| {
            format!(r#"{{"id": "u{i:06}", "kind": "human", "display_name": "User {i}", "status": "active", "last_seen": "2026-09-01"}}"#)
        })
        .collect();
    let grants: Vec<String> = (0..identities * 2)
        .map(|e| {
            format!(
                r#"{{"id": "e{e:07}", "identity": "u{:06}", "system": "sys{:02}", "permission": "read", "granted_at": "2026-01-01", "last_used": "2026-09-01"}}"#,
                e / 2,
                e % 20
            )
        })
        .collect();
    let list = |records: &[String]| format!("[{sep}{}{sep}]", records.join(&format!(",{sep}")));
    format!(
        "{{{sep}\"systems\": {},{sep}\"identities\": {},{sep}\"entitlements\": {}{sep}}}{sep}",
        list(&systems),
        list(&people),
        list(&grants)
    )
}

/// Bytes allocated to index the inventory at `path` and read back every identity's
/// entitlements, as `check` does.
fn bytes_to_read(path: &Path) -> usize {
    let region = Region::new(GLOBAL);
    let idx = open::index(path).expect("the inventory is valid");
    let mut read = 0;
    for i in 0..idx.inventory.identities.len() {
        let fetched = idx.fetch(i);
        assert!(fetched.problems.is_empty(), "{:?}", fetched.problems);
        read += fetched.entitlements.len();
    }
    assert_eq!(read, idx.entitlement_count());
    drop(idx);
    region.change().bytes_allocated
}

#[test]
fn memory_is_linear_in_the_input_for_every_json_shape() {
    if std::env::var_os(ALONE).is_some() {
        measure();
        return;
    }
    // Run this test again, alone, in a child process of this binary: the harness runs other
    // tests on other threads meanwhile, and their allocations would be counted too.
    let path = concat!(module_path!(), "::memory_is_linear_in_the_input_for_every_json_shape");
    let name = path.split_once("::").map_or(path, |(_, name)| name); // as the harness lists it
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(ALONE, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the measuring run failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "the measuring run ran no test:\n{stdout}"
    );
}

/// Reads inventories of each shape and size and compares the bytes allocated.
fn measure() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let n = 2000;
    let pretty = bytes_to_read(&write("pretty.json", inventory(n, "\n")));
    let minified = bytes_to_read(&write("minified.json", inventory(n, "")));
    let minified_twice = bytes_to_read(&write("minified-2x.json", inventory(2 * n, "")));
    // Padding each record to its column would allocate about n² × 140 bytes (over 500 MB
    // here) for the one-line file; the reading itself is a few MB.
    assert!(
        minified * 4 <= pretty * 5,
        "one line allocates {minified} bytes, one record per line {pretty}"
    );
    assert!(
        minified_twice * 10 <= minified * 22,
        "{n} identities on one line allocate {minified} bytes, {} allocate {minified_twice}",
        2 * n
    );
}
