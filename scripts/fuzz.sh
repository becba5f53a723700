#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME (default 3s) each.
# Long campaigns: FUZZTIME=10m scripts/fuzz.sh, or one target:
#   go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 10m ./evidence/
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-3s}"
status=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "-- $pkg $target ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/fuzz.$$.log 2>&1; then
      cat /tmp/fuzz.$$.log; status=1
    fi
  done
done
rm -f /tmp/fuzz.$$.log
exit $status
