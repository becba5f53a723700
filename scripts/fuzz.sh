#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME (default 3s) each.
# Long campaigns: FUZZTIME=10m scripts/fuzz.sh, or one target:
#   go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 10m ./evidence/
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-3s}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "-- $pkg $target ($fuzztime)"
    if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1; then
      continue
    fi
    # A finding always comes with "Failing input written to ...". Without
    # one, a "context deadline exceeded" only means the time budget ran out
    # while a slow input (the emulator targets boot a machine per input) was
    # still running: the fuzzer's own shutdown, not a bug in the code.
    if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
      echo "   (time budget ended during an input; no failing input)"
      continue
    fi
    cat "$log"
    status=1
  done
done
exit $status
