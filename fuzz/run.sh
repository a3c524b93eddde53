#!/usr/bin/env bash
# Runs one fuzz target for SECONDS (default 600) on one core, going on past findings
# (saved under artifacts/TARGET/), with the dictionary that fits it. Extra arguments go to
# libFuzzer. The log is logs/TARGET.log. Run ./seed.sh first.
#
#   ./run.sh inventory_json 600
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: ./run.sh TARGET [SECONDS] [LIBFUZZER-ARGS...]}
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))
case $target in
  inventory_*) dict=dicts/inventory.dict ;;
  *) dict=dicts/policy.dict ;;
esac
mkdir -p logs "corpus/$target"
# The targets write each input to a scratch directory: keep it in memory when possible.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR=/dev/shm
fi
# Each fuzzing process keeps its scratch directory until it exits; remove them after.
trap 'rm -rf "${TMPDIR:-/tmp}"/dualtrack-fuzz-*' EXIT
# -O -a -s none: optimised, with debug assertions and overflow checks, no sanitizer (the
# engine has no unsafe code; a panic, an abort or a stack overflow is what is looked for).
# -fork=1 with -ignore_*: one worker process, restarted after a crash, so one finding does
# not end the run.
cargo +nightly fuzz run -O -a -s none "$target" "corpus/$target" -- \
  -dict="$dict" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
  -max_total_time="$seconds" -print_final_stats=1 "$@" >"logs/$target.log" 2>&1
