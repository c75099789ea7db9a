#!/usr/bin/env bash
# Runs an example host on the test spans and checks what it prints:
#   run_example.sh HOST... DATA   (HOST may be several words, e.g. `python3 host.py`)
set -euo pipefail
args=("$@")
data="${args[-1]}"
unset 'args[-1]'
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fail() { echo "FAIL: $1"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; exit 1; }

# A summary by service, sorted: the header, then one line per service.
"${args[@]}" "$data" 'spans | where duration >= 100ms | summarize n = count(), slowest = max(duration) by service | sort by service' >"$out" 2>"$err" || fail "the query failed"
grep -q $'^service\tn\tslowest$' "$out" || fail "no header"
grep -q $'^api-gateway\t' "$out" || fail "no api-gateway row"
grep -q "scan spans: 2 column(s), pushed: duration >= 100ms" "$err" || fail "no pushdown report"
[ "$(wc -l <"$out")" -ge 3 ] || fail "too few rows"

# A bad query: the diagnostic with its position, and a non-zero exit.
if "${args[@]}" "$data" 'spans | wher duration > 1s' >"$out" 2>"$err"; then fail "a bad query succeeded"; fi
grep -q "1:9: error: unknown stage 'wher'" "$err" || fail "no diagnostic"

# A file that is not there.
if "${args[@]}" /nonexistent.ndjson 'spans' >"$out" 2>"$err"; then fail "a missing file succeeded"; fi
grep -q "nonexistent" "$err" || fail "no message for a missing file"
echo "ok: ${args[*]}"
