#!/usr/bin/env python3
"""End-to-end benchmark of `dualtrack check --format json` on generated inventories.

For each size it generates (once, cached) an inventory with `dualtrack-bench gen`, then in
one run measures, `--repeat` times each: dualtrack's wall time and peak RSS, CPython's
`json.load` of the same file (the floor reference), and the peer: the same default rules
in Rego (bench/rego/dualtrack.rego) run by the regorus crate (bench/regorus-peer). Prints
medians and ratios as a Markdown table. Build first:
  cargo build --release -p dualtrack -p dualtrack-bench
  cargo build --release --manifest-path bench/regorus-peer/Cargo.toml
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")
PEER = os.path.join(ROOT, "bench", "regorus-peer", "target", "release", "regorus-peer")
REGO = os.path.join(ROOT, "bench", "rego", "dualtrack.rego")


def run_measured(cmd):
    """Runs cmd with stdout discarded; returns (seconds, peak RSS in MiB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed with {proc.returncode}:\n{err}")
    return elapsed, usage.ru_maxrss / 1024.0, proc.returncode


def json_load_seconds(path):
    code = "import json,sys,time\nt=time.perf_counter()\njson.load(open(sys.argv[1]))\nprint(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code, path], check=True, capture_output=True, text=True)
    return float(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", default=os.path.join(ROOT, "target", "bench-data"))
    ap.add_argument("--peer-repeat", type=int, default=1, help="runs of the (slow) Rego peer per size")
    ap.add_argument("--no-peer", action="store_true", help="skip the regorus peer")
    args = ap.parse_args()
    os.makedirs(args.data, exist_ok=True)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        path = os.path.join(args.data, f"inventory-{n}.json")
        if not os.path.exists(path):
            subprocess.run([os.path.join(BIN, "dualtrack-bench"), "gen", "--entitlements", str(n), "--out", path], check=True)
        walls, rsss, loads = [], [], []
        for _ in range(args.repeat):
            wall, rss, _ = run_measured([os.path.join(BIN, "dualtrack"), "check", "--inventory", path,
                                         "--as-of", "2026-10-01", "--format", "json"])
            walls.append(wall)
            rsss.append(rss)
            loads.append(json_load_seconds(path))
        wall, load = statistics.median(walls), statistics.median(loads)
        peer = None
        if not args.no_peer and os.path.exists(PEER):
            peer_walls = [run_measured([PEER, "--inventory", path, "--policy", REGO, "--as-of", "2026-10-01"])[0]
                          for _ in range(args.peer_repeat)]
            peer = statistics.median(peer_walls)
        rows.append((n, os.path.getsize(path) / 2**20, wall, n / wall, max(rsss), load, wall / load, peer))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"medians of {args.repeat} runs\n")
    print("| entitlements | file MiB | check wall s | entitlements/s | peak RSS MiB | json.load s | check / json.load "
          "| regorus s | regorus / check |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, mib, wall, rate, rss, load, ratio, peer in rows:
        peer_cols = f"{peer:.2f} | {peer / wall:.1f}x" if peer else "– | –"
        print(f"| {n:,} | {mib:.0f} | {wall:.2f} | {rate:,.0f} | {rss:.0f} | {load:.2f} | {ratio:.1f}x | {peer_cols} |")


if __name__ == "__main__":
    main()
