#!/usr/bin/env bash
# examples/ci as a CI job runs it: `make check` passes on the example, and fails on a copy with
# a broken query and on a copy with a query out of canonical form.
set -uo pipefail
tql="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
example="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/ci" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
make -s -C "$example" check TQL="$tql" || { echo "FAIL: make check on examples/ci"; failures=$((failures + 1)); }
cp -r "$example" "$work/broken"
echo 'spans | summarize p99(duration) by' > "$work/broken/queries/slow-checkout.tql"
if make -s -C "$work/broken" check TQL="$tql" > "$work/out" 2>&1; then
  echo "FAIL: make check passed with a broken query"; failures=$((failures + 1))
fi
grep -q "slow-checkout.tql:1:" "$work/out" || { echo "FAIL: no position for the broken query"; cat "$work/out"; failures=$((failures + 1)); }
cp -r "$example" "$work/unformatted"
echo 'spans | WHERE status == "error" | summarize errors = count() by service' > "$work/unformatted/queries/errors-by-service.tql"
if make -s -C "$work/unformatted" check TQL="$tql" > "$work/out" 2>&1; then
  echo "FAIL: make check passed with a query out of canonical form"; failures=$((failures + 1))
fi
echo "example ci: failed: $failures"
[ "$failures" -eq 0 ]
