#!/usr/bin/env bash
# `tql fmt` on every fmt/NAME.tql: what it prints and the file `--write` rewrites against
# NAME.expected (comments kept),
# the rewritten file formats to itself (`fmt --check` exits 0), and `fmt --check` exits 1 on
# the original when it differs. TQL_UPDATE_GOLDEN=1 rewrites the .expected files.
set -uo pipefail
tql="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fmt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
cases=0
for f in "$here"/*.tql; do
  name="$(basename "$f" .tql)"
  cases=$((cases + 1))
  cp "$f" "$work/$name.tql"
  "$tql" fmt --write "$work/$name.tql" > /dev/null 2>&1 || { echo "FAIL: fmt $name"; failures=$((failures + 1)); }
  "$tql" fmt "$f" > "$work/$name.printed" 2>&1
  cmp -s "$work/$name.printed" "$work/$name.tql" \
    || { echo "FAIL: fmt $name prints other text than --write writes"; failures=$((failures + 1)); }
  if [ "${TQL_UPDATE_GOLDEN:-}" = 1 ]; then
    cp "$work/$name.tql" "$here/$name.expected"
  elif ! cmp -s "$work/$name.tql" "$here/$name.expected"; then
    echo "FAIL: fmt $name:"; diff "$here/$name.expected" "$work/$name.tql"; failures=$((failures + 1))
  fi
  "$tql" fmt --check "$work/$name.tql" > /dev/null 2>&1 || { echo "FAIL: fmt of $name is not stable"; failures=$((failures + 1)); }
  if ! cmp -s "$f" "$work/$name.tql"; then
    "$tql" fmt --check "$f" > /dev/null 2>&1 && { echo "FAIL: fmt --check passed $name"; failures=$((failures + 1)); }
  fi
done
echo "fmt cases: $cases, failed: $failures"
[ "$failures" -eq 0 ]
