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
shared="$here/../../../shared/baselime-examples"  # the real files, beside the checkout
if [ ! -d "$shared" ]; then
  echo "FAIL: no $shared: the real Baselime examples are read from ../shared beside the checkout"
  exit 1
fi
cd "$here/baselime"
for f in *.baselime.yml; do
  id="${f%.baselime.yml}"
  cases=$((cases + 1))
  translated="$("$tql" import "$f" --query "$id" 2>&1)"
  actual="$translated"$'\n'"----"$'\n'
  actual+="$("$tql" run --input spans="$work/spans.ndjson" --input logs="$work/spans.logs.ndjson" \
               "$translated" 2>&1; echo "exit: $?")"
  # The interpreter and the JIT agree on every translation.
  for engine in interp jit; do
    other="$("$tql" run --engine "$engine" --input spans="$work/spans.ndjson" \
               --input logs="$work/spans.logs.ndjson" "$translated" 2>&1; echo "exit: $?")"
    if [ "$translated"$'\n'"----"$'\n'"$other" != "$actual" ]; then
      echo "FAIL: $f: --engine $engine gives other rows"; failures=$((failures + 1))
    fi
  done
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
for f in *.baselime.yml "$shared"/*.yml ../import/ops ../valid/service; do
  [ -f "$f" ] || continue
  rm -rf "$work/out"
  if ! "$tql" import "$f" --out "$work/out" > /dev/null 2>&1 || ! out="$("$tql" check "$work/out" 2>&1)" \
     || [ -n "$out" ]; then
    echo "FAIL: import $f --out: the manifest does not check:"; printf '%s\n' "$out"
    failures=$((failures + 1))
  fi
done
# Whole projects: the manifest `tql import` prints, against import/NAME.expected.
for project in "$shared/basic.baselime.yml" "$shared/orl-queries-sample.yml" "$here/valid/service" \
               "$here/import/ops"; do
  name="$(basename "$project")"
  name="${name%%.*}"
  cases=$((cases + 1))
  actual="$(cd "$(dirname "$project")" && "$tql" import "$(basename "$project")" 2>&1; echo "exit: $?")"
  if [ "${TQL_UPDATE_GOLDEN:-}" = 1 ]; then
    printf '%s\n' "$actual" > "$here/import/$name.expected"
  elif [ "$actual" != "$(cat "$here/import/$name.expected" 2>/dev/null)" ]; then
    echo "FAIL: import $name"
    diff <(cat "$here/import/$name.expected" 2>/dev/null) <(printf '%s\n' "$actual") | head -20
    failures=$((failures + 1))
  fi
done
# --query prints one query; an unknown id is a usage error with "did you mean".
actual="$("$tql" import "$here/import/ops" --query gateway-latency 2>&1; echo "exit: $?")"
actual+=$'\n'"$("$tql" import "$here/import/ops" --query gateway-latenc 2>&1 | sed "s|$here/||"; echo "exit: ${PIPESTATUS[0]}")"
if [ "${TQL_UPDATE_GOLDEN:-}" = 1 ]; then
  printf '%s\n' "$actual" > "$here/import/query.expected"
elif [ "$actual" != "$(cat "$here/import/query.expected")" ]; then
  echo "FAIL: import --query"; diff "$here/import/query.expected" <(printf '%s\n' "$actual"); failures=$((failures + 1))
fi
# Broken input: problems printed, exit 1, nothing written.
rm -rf "$work/out"
if "$tql" import "$here/check/f01-folder" --out "$work/out" > /dev/null 2>&1 || [ -e "$work/out" ]; then
  echo "FAIL: import of a broken folder succeeded or wrote files"; failures=$((failures + 1))
fi
# A folder without Baselime files is an error, not an empty manifest.
mkdir -p "$work/empty/.github"
echo "on: push" > "$work/empty/.github/ci.yml"
if out="$("$tql" import "$work/empty" 2>&1)" || [[ "$out" != *"no Baselime files here"* ]]; then
  echo "FAIL: import of a folder without Baselime files: $out"; failures=$((failures + 1))
fi
echo "baselime import cases: $cases, failed: $failures"
[ "$cases" -ge 40 ] && [ "$failures" -eq 0 ]
