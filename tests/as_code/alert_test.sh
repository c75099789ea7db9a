#!/usr/bin/env bash
# `tql alert eval` over alerts/events.ndjson (quiet 10:00-10:10, slow checkout errors
# 10:10-10:15, quiet again 10:20-10:30) at several times, against alerts/expected.txt; then
# on generated data, each alert's row count against the same question asked with an explicit
# time range through `tql run`. TQL_UPDATE_GOLDEN=1 rewrites expected.txt.
set -uo pipefail
tql="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$here/alerts"
actual=""
for at in 2026-11-24T10:05:00Z 2026-11-24T10:12:00Z 2026-11-24T10:15:00Z 2026-11-24T10:19:00Z \
          2026-11-24T10:21:00Z; do
  actual+="== --at $at"$'\n'
  actual+="$("$tql" alert eval alerts.tql.yaml --input spans=events.ndjson --at "$at" --format json 2>&1; echo "exit: $?")"$'\n'
done
actual+="== table, default time"$'\n'
actual+="$("$tql" alert eval alerts.tql.yaml --input spans=events.ndjson 2>&1; echo "exit: $?")"$'\n'
actual+="== --explain: the window reaches the scan"$'\n'
actual+="$("$tql" alert eval alerts.tql.yaml --input spans=events.ndjson --at 2026-11-24T10:12:00Z --explain 2>&1 > /dev/null; echo "exit: $?")"$'\n'
actual+="== several sources: union stage, union source, join; every scan in the window"$'\n'
for at in 2026-11-24T09:00:00Z 2026-11-24T10:12:00Z 2026-11-24T10:30:00Z; do
  actual+="-- --at $at"$'\n'
  actual+="$("$tql" alert eval sources.tql.yaml --input spans=events.ndjson --input logs=logs.ndjson --at "$at" --format json 2>&1; echo "exit: $?")"$'\n'
done
actual+="$("$tql" alert eval sources.tql.yaml --input spans=events.ndjson --input logs=logs.ndjson --at 2026-11-24T10:12:00Z --explain 2>&1 > /dev/null | grep -E '^alert|pushdown'; echo "exit: $?")"$'\n'
actual+="== a source without the input"$'\n'
actual+="$("$tql" alert eval alerts.tql.yaml --input logs=events.ndjson 2>&1; echo "exit: $?")"$'\n'
actual+="== a broken manifest"$'\n'
actual+="$("$tql" alert eval ../check/m14-condition-column.tql.yaml --input spans=events.ndjson 2>&1; echo "exit: $?")"$'\n'
failures=0
if [ "${TQL_UPDATE_GOLDEN:-}" = 1 ]; then
  printf '%s' "$actual" > expected.txt
elif [ "$actual" != "$(cat expected.txt)"$'\n' ]; then
  echo "FAIL: alert eval outputs differ from alerts/expected.txt"
  diff expected.txt <(printf '%s' "$actual") | head -40
  failures=$((failures + 1))
fi

# Both engines give the same outcomes as the default (auto).
for engine in interp jit; do
  for at in 2026-11-24T10:12:00Z 2026-11-24T10:15:00Z; do
    want="$("$tql" alert eval alerts.tql.yaml --input spans=events.ndjson --at "$at" --format json)"
    got="$("$tql" alert eval alerts.tql.yaml --input spans=events.ndjson --at "$at" --format json --engine "$engine")"
    if [ "$got" != "$want" ]; then
      echo "FAIL: --engine $engine at $at: $got"; failures=$((failures + 1))
    fi
  done
done

# Generated data: the alert's count is the rows of the query over [at - window, at).
"$tql" gen --spans 3000 --seed 11 --out "$work/spans.ndjson" > /dev/null 2>&1
cat > "$work/gen.tql.yaml" <<'YAML'
version: 1
queries:
  - id: by-service
    query: spans | summarize n = count(), slow = countif(duration > 100ms) by service
alerts:
  - id: busy
    query: by-service
    condition: n > 150
    window: 2s
  - id: slow
    query: by-service
    condition: slow >= 3
    window: 1s
YAML
checks=0
for at in 2026-11-24T10:00:00.5Z 2026-11-24T10:00:01Z 2026-11-24T10:00:02Z 2026-11-24T10:00:05Z; do
  got="$("$tql" alert eval "$work/gen.tql.yaml" --input spans="$work/spans.ndjson" --at "$at" --format json)"
  busy="$("$tql" run --input spans="$work/spans.ndjson" --format csv "spans | where timestamp >= datetime($at) - 2s and timestamp < datetime($at) | summarize n = count(), slow = countif(duration > 100ms) by service | where n > 150 | count" | tail -1 | tr -d "\r")"
  slow="$("$tql" run --input spans="$work/spans.ndjson" --format csv "spans | where timestamp >= datetime($at) - 1s and timestamp < datetime($at) | summarize n = count(), slow = countif(duration > 100ms) by service | where slow >= 3 | count" | tail -1 | tr -d "\r")"
  want_busy="\"id\": \"busy\", \"state\": \"$([ "$busy" -gt 0 ] && echo firing || echo ok)\", \"rows\": $busy"
  want_slow="\"id\": \"slow\", \"state\": \"$([ "$slow" -gt 0 ] && echo firing || echo ok)\", \"rows\": $slow"
  checks=$((checks + 1))
  if [[ "$got" != *"$want_busy"* || "$got" != *"$want_slow"* ]]; then
    echo "FAIL: at $at: got $got; want $want_busy and $want_slow"
    failures=$((failures + 1))
  fi
done
echo "alert eval: golden outputs and $checks generated-data checks, failed: $failures"
[ "$failures" -eq 0 ]
