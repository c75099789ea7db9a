#!/usr/bin/env bash
# Every Baselime query spec of baselime/ imported (`tql import FILE --query ID`) and run on
# generated data (2000 spans and their logs, seed 42, as the sources `spans` and `logs`): the
# translation and the rows, against baselime/NAME.expected. The whole folder also passes
# `tql check`, and the manifest `tql import --out` writes checks too.
# TQL_UPDATE_GOLDEN=1 rewrites the .expected files from the current behaviour.
set -uo pipefail
tql="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$tql" gen --spans 2000 --seed 42 --logs --out "$work/spans.ndjson" > /dev/null 2>&1
failures=0
cases=0
cd "$here/baselime"
for f in *.baselime.yml; do
  id="${f%.baselime.yml}"
  cases=$((cases + 1))
  translated="$("$tql" import "$f" --query "$id" 2>&1)"
  actual="$translated"$'\n'"----"$'\n'
  actual+="$("$tql" run --input spans="$work/spans.ndjson" --input logs="$work/spans.logs.ndjson" \
               "$translated" 2>&1; echo "exit: $?")"
  if [ "${TQL_UPDATE_GOLDEN:-}" = 1 ]; then
    printf '%s\n' "$actual" > "$id.expected"
  elif [ "$actual" != "$(cat "$id.expected" 2>/dev/null)" ]; then
    echo "FAIL: $f"
    diff <(cat "$id.expected" 2>/dev/null) <(printf '%s\n' "$actual") | head -20
    failures=$((failures + 1))
  fi
done
if ! out="$("$tql" check . 2>&1)" || [ -n "$out" ]; then
  echo "FAIL: tql check baselime/ printed:"; printf '%s\n' "$out"; failures=$((failures + 1))
fi
for f in *.baselime.yml ../../../../shared/baselime-examples/*.yml; do
  [ -f "$f" ] || continue
  rm -rf "$work/out"
  if ! "$tql" import "$f" --out "$work/out" > /dev/null 2>&1 || ! out="$("$tql" check "$work/out" 2>&1)" \
     || [ -n "$out" ]; then
    echo "FAIL: import $f --out: the manifest does not check:"; printf '%s\n' "$out"
    failures=$((failures + 1))
  fi
done
echo "baselime import cases: $cases, failed: $failures"
[ "$cases" -ge 40 ] && [ "$failures" -eq 0 ]
