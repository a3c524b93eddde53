#!/usr/bin/env python3
"""End-to-end benchmark of `dualtrack check --format json` on generated inventories.

For each size it generates (once, cached) an inventory with `dualtrack-bench gen`, then in
one run measures, `--repeat` times each: dualtrack's wall time and peak RSS, CPython's
`json.load` of the same file (the floor reference), and the peer: the same default rules
in Rego (bench/rego/dualtrack.rego) run by the regorus crate (bench/regorus-peer). Prints
medians and ratios as a Markdown table. Build first:
  cargo build --release -p dualtrack -p dualtrack-bench
  cargo build --release --manifest-path bench/regorus-peer/Cargo.toml

With `--shapes`, it measures each input shape of the same inventory instead (no peer):
  pretty        one record per line (the generator's own layout; the table above)
  minified      the same inventory on one line (`gen --minified`, as `jq -c` writes it)
  csv           a directory with CSV entitlements (`to-csv`); json.load is of the JSON file
  yaml          one block-style YAML file (`to-yaml`); json.load is of the JSON file
  heavy         the findings-heavy profile (`gen --profile findings-heavy`), about one
                finding per entitlement, one record per line
  heavy-minified  the same on one line
  heavy-csv     the same as a CSV directory
and reports the output size and rate (MB/s of JSON written) beside the times.

With `--drift`, it measures the delta review: `check --since PACK` and `dualtrack drift`
(against the base's evidence pack, and against the base inventory) of each size's
inventory (the base) against a copy a period later (the head, made once by `drift_head`: about 1% of entitlements
removed, 1% added, 1% made privileged, 1% with a new justification, 1% of identities
with a new manager and 0.5% terminated, and observations moved everywhere), beside one
`check` of the head:
  python3 bench/bench.py --drift --sizes 1000000 --no-peer
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release")
PEER = os.path.join(ROOT, "bench", "regorus-peer", "target", "release", "regorus-peer")
REGO = os.path.join(ROOT, "bench", "rego", "dualtrack.rego")
SHAPES = ["pretty", "minified", "csv", "yaml", "heavy", "heavy-minified", "heavy-csv"]


def run_measured(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (seconds, peak RSS in MiB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
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


def bench_tool(*args):
    subprocess.run([os.path.join(BIN, "dualtrack-bench"), *args], check=True)


def shape_input(data, n, shape):
    """The path `check` reads for `shape` at size n, and the JSON file json.load reads;
    both generated (once) under `data`."""
    heavy = shape.startswith("heavy")
    profile = ["--profile", "findings-heavy"] if heavy else []
    stem = f"{'heavy' if heavy else 'inventory'}-{n}"
    pretty = os.path.join(data, f"{stem}.json")
    if not os.path.exists(pretty):
        bench_tool("gen", "--entitlements", str(n), "--out", pretty, *profile)
    kind = shape.removeprefix("heavy").removeprefix("-") or "pretty"
    if kind == "pretty":
        return pretty, pretty
    if kind == "minified":
        path = os.path.join(data, f"{stem}-minified.json")
        if not os.path.exists(path):
            bench_tool("gen", "--entitlements", str(n), "--out", path, "--minified", *profile)
        return path, path
    if kind == "csv":
        path = os.path.join(data, f"{stem}-csv")
        if not os.path.exists(path):
            bench_tool("to-csv", pretty, path)
        return path, pretty
    if kind == "yaml":
        path = os.path.join(data, f"{stem}.yaml")
        if not os.path.exists(path):
            bench_tool("to-yaml", pretty, path)
        return path, pretty
    sys.exit(f"unknown shape {shape}")


def check_cmd(path):
    return [os.path.join(BIN, "dualtrack"), "check", "--inventory", path, "--as-of", "2026-10-01", "--format", "json"]


def sizes_table(args):
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        path = os.path.join(args.data, f"inventory-{n}.json")
        if not os.path.exists(path):
            bench_tool("gen", "--entitlements", str(n), "--out", path)
        walls, rsss, loads = [], [], []
        for _ in range(args.repeat):
            wall, rss, _ = run_measured(check_cmd(path))
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


def input_mib(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)) / 2**20
    return os.path.getsize(path) / 2**20


def shapes_table(args):
    shapes = SHAPES if args.shapes == "all" else args.shapes.split(",")
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        for shape in shapes:
            path, json_path = shape_input(args.data, n, shape)
            walls, rsss, loads, out_bytes = [], [], [], 0
            for _ in range(args.repeat):
                # The output goes to a file (not a pipe), so its size can be reported.
                with tempfile.TemporaryFile(dir=args.data) as out:
                    wall, rss, _ = run_measured(check_cmd(path), stdout=out)
                    out_bytes = out.seek(0, os.SEEK_END)
                walls.append(wall)
                rsss.append(rss)
                loads.append(json_load_seconds(json_path))
            wall, load = statistics.median(walls), statistics.median(loads)
            rows.append((shape, n, input_mib(path), wall, max(rsss), load, out_bytes / 1e6))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"medians of {args.repeat} runs\n")
    print("| shape | entitlements | input MiB | check wall s | peak RSS MiB | json.load s | check / json.load "
          "| output MB | output MB/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape, n, mib, wall, rss, load, out_mb in rows:
        print(f"| {shape} | {n:,} | {mib:.0f} | {wall:.2f} | {rss:.0f} | {load:.2f} | {wall / load:.1f}x "
              f"| {out_mb:.0f} | {out_mb / wall:.0f} |")


def drift_head(base, head, seed=7):
    """Writes `head`: the inventory `base` (one record per line, as `gen` writes it) a
    period later, changed as the module doc says; read and written a line at a time."""
    import json
    import random
    rng = random.Random(seed)
    section, added = None, []
    with open(base) as src, open(head + ".tmp", "w") as out:
        for line in src:
            stripped = line.strip()
            if stripped.startswith('"') and stripped.endswith("["):
                section = stripped.split('"')[1]
                out.write(line)
                continue
            if not stripped.startswith("{\"id\""):
                if section == "entitlements" and stripped == "]" and added:
                    out.write(",\n" + ",\n".join("  " + json.dumps(r) for r in added) + "\n")
                out.write(line)
                continue
            comma = stripped.endswith(",")
            rec = json.loads(stripped.rstrip(","))
            roll = rng.random()
            if section == "identities":
                if "last_seen" in rec:
                    rec["last_seen"] = "2026-09-30"
                if roll < 0.01 and rec.get("kind") == "human" and rec["id"] != "u0000000":
                    rec["manager"] = "u0000000"
                elif roll < 0.015 and rec.get("kind") == "human":
                    rec["status"], rec["terminated_at"] = "terminated", "2026-09-01"
            elif section == "entitlements":
                if roll < 0.3:
                    rec["last_used"] = "2026-09-30"
                if roll < 0.01:
                    # Removed: the previous record already ends with a comma, so this
                    # one leaves its own (a last record is kept).
                    if comma:
                        continue
                elif roll < 0.02:
                    rec["privileged"] = True
                elif roll < 0.03:
                    rec["justification"] = "renewed"
                elif roll < 0.04:
                    new = dict(rec, id="d" + rec["id"][1:], permission=rec["permission"] + "_new")
                    new["privileged"] = rng.random() < 0.25
                    added.append(new)
            out.write("  " + json.dumps(rec) + ("," if comma else "") + "\n")
    os.replace(head + ".tmp", head)


def drift_table(args):
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        base = os.path.join(args.data, f"inventory-{n}.json")
        if not os.path.exists(base):
            bench_tool("gen", "--entitlements", str(n), "--out", base)
        head = os.path.join(args.data, f"inventory-{n}-head.json")
        if not os.path.exists(head):
            drift_head(base, head)
        # The base's evidence pack: the baseline of `check --since` and `drift --base PACK`.
        pack = os.path.join(args.data, f"inventory-{n}-pack")
        if not os.path.exists(os.path.join(pack, "manifest.json")):
            run_measured([os.path.join(BIN, "dualtrack"), "evidence", "--inventory", base,
                          "--as-of", "2026-10-01", "--out", pack])
        dt = os.path.join(BIN, "dualtrack")
        runs = {
            "check": check_cmd(head),
            "check --since PACK": check_cmd(head) + ["--since", pack],
            "drift --base PACK": [dt, "drift", "--base", pack, "--head", head,
                                  "--as-of", "2026-10-01", "--format", "json"],
            "drift --base INVENTORY": [dt, "drift", "--base", base, "--head", head,
                                       "--as-of", "2026-10-01", "--format", "json"],
        }
        measured = {name: [] for name in runs}
        for _ in range(args.repeat):
            for name, cmd in runs.items():
                measured[name].append(run_measured(cmd)[:2])
        for name, ms in measured.items():
            rows.append((n, name, statistics.median(w for w, _ in ms), max(r for _, r in ms)))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"medians of {args.repeat} runs, runs interleaved\n")
    print("| entitlements | run | wall s | peak RSS MiB | / check |")
    print("|---:|---|---:|---:|---:|")
    checks = {n: w for n, name, w, _ in rows if name == "check"}
    for n, name, w, rss in rows:
        print(f"| {n:,} | {name} | {w:.2f} | {rss:.0f} | {w / checks[n]:.2f}x |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", default=os.path.join(TARGET, "bench-data"))
    ap.add_argument("--peer-repeat", type=int, default=1, help="runs of the (slow) Rego peer per size")
    ap.add_argument("--no-peer", action="store_true", help="skip the regorus peer")
    ap.add_argument("--shapes", help=f"`all` or a comma-separated list of {', '.join(SHAPES)}")
    ap.add_argument("--drift", action="store_true", help="measure `drift` against a changed copy, beside `check`")
    args = ap.parse_args()
    os.makedirs(args.data, exist_ok=True)
    if args.drift:
        drift_table(args)
    elif args.shapes:
        shapes_table(args)
    else:
        sizes_table(args)


if __name__ == "__main__":
    main()
