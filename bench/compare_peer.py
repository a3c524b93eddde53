#!/usr/bin/env python3
"""Checks that the Rego peer finds exactly what dualtrack finds on one inventory.

usage: bench/compare_peer.py INVENTORY.json [AS_OF]   (the peer reads one JSON file)
Runs `dualtrack check --format json` and `regorus-peer --query data.dualtrack.findings`
(both built in release) and compares the (rule, identity, entitlement) sets; entitlement
is compared for entitlement-level rules only. Exits 1 on any difference.
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    inventory = sys.argv[1]
    as_of = sys.argv[2] if len(sys.argv) > 2 else "2026-10-01"
    ours = subprocess.run([os.path.join(ROOT, "target", "release", "dualtrack"), "check", "--inventory", inventory,
                           "--as-of", as_of, "--format", "json", "--fail-on", "never"],
                          check=True, capture_output=True, text=True)
    peer = subprocess.run([os.path.join(ROOT, "bench", "regorus-peer", "target", "release", "regorus-peer"),
                           "--inventory", inventory, "--policy", os.path.join(ROOT, "bench", "rego", "dualtrack.rego"),
                           "--as-of", as_of, "--query", "data.dualtrack.findings"],
                          check=True, capture_output=True, text=True)
    theirs = {(f["rule"], f["identity"], f.get("entitlement")) for f in json.loads(peer.stdout)}
    entitlement_rules = {rule for rule, _, ent in theirs if ent is not None}
    mine = set()
    for f in json.loads(ours.stdout)["findings"]:
        ent = f["entitlements"][0] if f["rule"] in entitlement_rules else None
        mine.add((f["rule"], f["identity"], ent))
    print(f"dualtrack {len(mine)} findings, peer {len(theirs)}; "
          f"only dualtrack {len(mine - theirs)}, only peer {len(theirs - mine)}")
    for row in sorted(mine - theirs)[:5]:
        print("  only dualtrack:", row)
    for row in sorted(theirs - mine)[:5]:
        print("  only peer:", row)
    sys.exit(0 if mine == theirs else 1)


if __name__ == "__main__":
    main()
