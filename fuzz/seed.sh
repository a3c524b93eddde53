#!/usr/bin/env bash
# Seeds each fuzz target's corpus (fuzz/corpus/<target>/, gitignored) from the repository's
# fixtures: tests/fixtures/**, tests/corpus/**, examples/acme/**, policies/**. Safe to run again: it only
# adds files. YAML inventories are also converted to JSON and CSV when python3 with PyYAML
# is available (it is optional: without it those seeds are skipped).
#
# Inventory directories become one seed with the three files joined by the byte 0x1e
# (systems, identities, entitlements), which the inventory targets split again.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=..
C=corpus
mkdir -p "$C"/{inventory_yaml,inventory_json,inventory_csv,rules_yaml,cedar,exceptions,campaign,decisions,policytest} \
  "$C"/{source_hr_csv,source_hr_xlsx,source_aws_credential_report,source_aws_authorization_details,source_scim,source_entra,source_entra_csv,source_okta,source_baton,decisions_xlsx,source_sap}

# seed TARGET NAME FILE...: FILEs joined by 0x1e (one file: copied as is).
seed() {
  local target=$1 name=$2
  shift 2
  local out="$C/$target/$name" first=1
  : >"$out"
  for f in "$@"; do
    if [ $first -eq 0 ]; then printf '\x1e' >>"$out"; fi
    first=0
    cat "$f" >>"$out"
  done
}

# seed_cat FILE...: FILEs joined by 0x1e, to stdout.
seed_cat() {
  local first=1
  for f in "$@"; do
    if [ $first -eq 0 ]; then printf '\x1e'; fi
    first=0
    cat "$f"
  done
}

# flat PATH: a seed name from a repository path.
flat() { echo "${1#"$ROOT"/}" | tr '/' '_'; }

# --- exports, one importer each (tests/fixtures/sources)
S="$ROOT/tests/fixtures/sources"
for f in "$S"/acme/hr/*.csv "$S"/*/hr.csv "$S"/hr-local/*.csv; do seed source_hr_csv "$(flat "$f")" "$f"; done
seed source_aws_credential_report acme "$S/acme/aws/credential_report.csv"
for f in "$S/acme/aws/gaad.json" "$S/gaad-truncated.json"; do seed source_aws_authorization_details "$(flat "$f")" "$f"; done
for f in "$S"/acme/scim/*.json "$S"/rfc7643/*.json; do seed source_scim "$(flat "$f")" "$f"; done
for f in "$S"/entra/graph/*.json "$S"/graph-ps51/graph/*.json; do seed source_entra "$(flat "$f")" "$f"; done
for f in "$S"/entra-csv/*.csv; do seed source_entra_csv "$(flat "$f")" "$f"; done
for f in "$S"/okta/export/*.json; do seed source_okta "$(flat "$f")" "$f"; done
# SAP: the four tables joined by 0x1e (USR02, AGR_USERS, AGR_1251, AGR_AGRS); the SE16N
# text form starts with a tab so the target writes it as .txt.
P="$S/sap"
seed source_sap csv "$P/csv/USR02.csv" "$P/csv/AGR_USERS.csv" "$P/csv/AGR_1251.csv" "$P/csv/AGR_AGRS.csv"
{ printf '\t'; seed_cat "$P/txt/USR02.txt" "$P/txt/AGR_USERS.txt" "$P/txt/AGR_1251.txt" "$P/txt/AGR_AGRS.txt"; } >"$C/source_sap/txt"
for f in "$S"/baton/export/*.json; do seed source_baton "$(flat "$f")" "$f"; done
# AI agents come through the same importers (tests/fixtures/sources/agents).
for f in "$S"/agents/entra/*.json; do seed source_entra "$(flat "$f")" "$f"; done
for f in "$S"/agents/okta/*.json "$S"/agents/okta/ai-agents/*/owners.json; do seed source_okta "$(flat "$f")" "$f"; done
for f in "$S"/agents/scim/*.json; do seed source_scim "$(flat "$f")" "$f"; done
# Workbooks: written by the tests at run time; any .xlsx under fuzz/seeds/xlsx is a seed.
for f in seeds/xlsx/*.xlsx; do
  [ -e "$f" ] && seed source_hr_xlsx "$(basename "$f")" "$f" && seed decisions_xlsx "$(basename "$f")" "$f"
done

# --- inventories: YAML files and directories
for f in "$ROOT"/tests/fixtures/rules/*.yaml "$ROOT"/tests/corpus/*/*/inventory.yaml; do
  seed inventory_yaml "$(flat "$f")" "$f"
done
seed inventory_yaml acme-dir "$ROOT"/examples/acme/{systems,identities,entitlements}.yaml
seed inventory_yaml missing-section "$ROOT"/tests/corpus/bad/inventory-dir-missing-section/inv/{systems,identities}.yaml /dev/null

# --- inventories: JSON
for f in "$ROOT"/tests/corpus/*/*/inventory.json; do
  seed inventory_json "$(flat "$f")" "$f"
done

# --- inventories: CSV (entitlements alone beside the target's fixed systems/identities,
# and whole directories)
seed inventory_csv good-entitlements.csv "$ROOT/tests/fixtures/good/csv-dir/entitlements.csv"
seed inventory_csv good-csv-dir "$ROOT"/tests/fixtures/good/csv-dir/{systems,identities,entitlements}.csv
for d in "$ROOT"/tests/corpus/*/*/inv; do
  if [ -e "$d/systems.csv" ] && [ -e "$d/identities.csv" ] && [ -e "$d/entitlements.csv" ]; then
    seed inventory_csv "$(flat "$d")-entitlements.csv" "$d/entitlements.csv"
    seed inventory_csv "$(flat "$d")" "$d"/{systems,identities,entitlements}.csv
  fi
done

# --- YAML inventories as JSON and CSV
if python3 -c 'import yaml' 2>/dev/null; then
  python3 - "$ROOT" "$C" <<'PY'
import csv, io, json, pathlib, sys, yaml

root, corpus = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
SEP = b"\x1e"

def load(path):
    try:
        return yaml.safe_load(path.read_text())
    except Exception:
        return None

def cell(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ";".join(str(x) for x in v)
    if isinstance(v, dict):
        return ";".join(f"{k}={x}" for k, x in v.items())
    return "" if v is None else str(v)

def to_csv(records):
    records = [r for r in records or [] if isinstance(r, dict)]
    keys = []
    for r in records:
        keys += [k for k in r if k not in keys]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(keys or ["id"])
    for r in records:
        w.writerow([cell(r.get(k)) for k in keys])
    return out.getvalue().encode()

def js(v):
    return json.dumps(v, indent=2, default=str).encode()

inventories = {}
for f in sorted((root / "tests/fixtures/rules").glob("*.yaml")):
    doc = load(f)
    if isinstance(doc, dict):
        inventories[f"rules_{f.stem}"] = doc
acme = {s: (load(root / f"examples/acme/{s}.yaml") or {}).get(s, []) for s in ("systems", "identities", "entitlements")}
inventories["acme"] = acme

for name, doc in inventories.items():
    sections = [doc.get(s) or [] for s in ("systems", "identities", "entitlements")]
    (corpus / "inventory_json" / f"{name}.json").write_bytes(js(doc))
    (corpus / "inventory_json" / f"{name}-dir").write_bytes(SEP.join(js(s) for s in sections))
    (corpus / "inventory_csv" / f"{name}-dir").write_bytes(SEP.join(to_csv(s) for s in sections))
PY
else
  echo "seed.sh: python3 with PyYAML not found; JSON and CSV conversions of the YAML inventories skipped" >&2
fi

# --- policy packs: YAML rule files and SoD matrices, .cedar files
for f in "$ROOT"/policies/soc/*.yaml "$ROOT"/policies/sox/*.yaml \
  "$ROOT"/tests/fixtures/lint/*/soc/*.yaml "$ROOT"/tests/fixtures/lint/*/sox/*.yaml \
  "$ROOT"/tests/corpus/*/*/pack/soc/*.yaml "$ROOT"/tests/corpus/*/*/pack/sox/*.yaml; do
  [ -e "$f" ] && seed rules_yaml "$(flat "$f")" "$f"
done
for f in "$ROOT"/policies/sox/*.cedar "$ROOT"/tests/fixtures/lint/*/sox/*.cedar "$ROOT"/tests/corpus/*/*/pack/so[cx]/*.cedar; do
  [ -e "$f" ] && seed cedar "$(flat "$f")" "$f"
done

# --- review inputs and policy tests
for f in "$ROOT"/tests/fixtures/exceptions/*.yaml "$ROOT"/tests/corpus/*/*/exceptions.yaml; do
  seed exceptions "$(flat "$f")" "$f"
done
for f in "$ROOT"/tests/fixtures/campaign/*.yaml "$ROOT"/tests/corpus/*/*/campaign.yaml; do
  seed campaign "$(flat "$f")" "$f"
done
for f in "$ROOT"/tests/fixtures/decisions/*.csv "$ROOT"/tests/corpus/*/*/decisions.csv; do
  seed decisions "$(flat "$f")" "$f"
done
for f in "$ROOT"/policies/tests/*.test.yaml "$ROOT"/tests/corpus/*/*/pack/*.test.yaml; do
  seed policytest "$(flat "$f")" "$f"
done

# --- the committed seeds (small hand-written inputs for paths the fixtures miss)
if [ -d seeds ]; then
  for d in seeds/*/; do
    t=$(basename "$d")
    mkdir -p "$C/$t"
    cp "$d"* "$C/$t/" 2>/dev/null || true
  done
fi

for d in "$C"/*/; do
  printf '%-16s %3d seeds\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)"
done
