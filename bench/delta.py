#!/usr/bin/env python3
"""Benchmarks the delta review at one size: `check --since PACK` against one `check` of the
same snapshot, and `drift` (pack against inventory, and inventory against inventory).

The base is `dualtrack-bench gen`'s inventory; the head is the base a quarter later: every
`last_used` moved (observations, never a change), and in about 4% of entitlements a change
of access (1% privileged, 1% removed, 1% new grants, 1% a new justification), plus 1% of
identities with a new manager. The base's pack is built once with `dualtrack evidence`
(timed too, as a reference). Medians of --repeat runs; wall time and peak RSS from
/usr/bin/time.

    cargo build --release -p dualtrack -p dualtrack-bench
    python3 bench/delta.py --entitlements 1000000
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "dualtrack")
GEN = os.path.join(ROOT, "target", "release", "dualtrack-bench")
AS_OF = "2026-10-01"


def head_of(base, head):
    """Writes the base a quarter later, one record per line as the generator writes."""
    with open(base) as f:
        inv = json.load(f)
    for n, ident in enumerate(inv.get("identities", [])):
        if n % 100 == 7 and ident.get("manager"):
            m = ident["manager"]
            ident["manager"] = m[:-1] + ("0" if m[-1] != "0" else "1")
    ents = []
    for n, e in enumerate(inv["entitlements"]):
        if "last_used" in e:
            e["last_used"] = "2026-09-30"
        k = n % 100
        if k == 11:
            continue
        if k == 13:
            e["privileged"] = True
        if k == 17:
            e["justification"] = "re-approved for the new role"
        ents.append(e)
        if k == 19:
            ents.append(dict(e, id=e["id"] + "-q4", permission=e["permission"] + "_q4"))
    inv["entitlements"] = ents
    with open(head, "w") as out:
        out.write("{\n")
        sections = list(inv.items())
        for i, (name, records) in enumerate(sections):
            out.write(f'"{name}": [\n')
            out.write(",\n".join("  " + json.dumps(r) for r in records))
            out.write("\n]" + ("," if i + 1 < len(sections) else "") + "\n")
        out.write("}\n")


def timed(args):
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M"] + args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    last = out.stderr.strip().splitlines()[-1]
    m = re.match(r"([\d.]+) (\d+)", last)
    if out.returncode not in (0, 1) or not m:
        sys.exit(f"{' '.join(args)} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return float(m.group(1)), int(m.group(2)) / 1024


def median_of(args, repeat):
    runs = [timed(args) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--entitlements", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dir", help="keep the generated files here (default: a temporary directory)")
    a = p.parse_args()
    work = a.dir or tempfile.mkdtemp(prefix="dualtrack-delta-")
    os.makedirs(work, exist_ok=True)
    base = os.path.join(work, "base.json")
    head = os.path.join(work, "head.json")
    pack = os.path.join(work, "pack")
    if not os.path.exists(base):
        subprocess.run([GEN, "gen", "--entitlements", str(a.entitlements), "--out", base], check=True)
    if not os.path.exists(head):
        head_of(base, head)
    t_pack, m_pack = timed([BIN, "evidence", "--inventory", base, "--as-of", AS_OF, "--out", pack])
    rows = []
    check = [BIN, "check", "--inventory", head, "--as-of", AS_OF, "--format", "json"]
    t_check, m_check = median_of(check, a.repeat)
    rows.append(("check (head)", t_check, m_check))
    rows.append(("check --since pack", *median_of(check + ["--since", pack], a.repeat)))
    drift = [BIN, "drift", "--head", head, "--as-of", AS_OF, "--format", "json"]
    has_drift = subprocess.run([BIN, "drift", "--help"], capture_output=True).returncode == 0
    if has_drift:
        rows.append(("drift --base pack", *median_of(drift + ["--base", pack], a.repeat)))
        rows.append(("drift --base inventory", *median_of(drift + ["--base", base], a.repeat)))
    print(f"{a.entitlements:,} entitlements; evidence pack of the base: {t_pack:.1f} s, {m_pack:.0f} MiB")
    print("| run | wall s (median) | / check | peak RSS MiB |")
    print("|---|---:|---:|---:|")
    for name, t, m in rows:
        print(f"| {name} | {t:.2f} | {t / t_check:.2f}x | {m:.0f} |")


if __name__ == "__main__":
    main()
