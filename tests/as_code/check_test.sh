#!/usr/bin/env bash
# `tql check` on every case of check/ (a file or a folder; options from CASE.args): its exact
# output and exit status against CASE.expected; and on every file of valid/: no output, exit 0.
# TQL_UPDATE_GOLDEN=1 rewrites the .expected files from the current behaviour.
set -uo pipefail
tql="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
failures=0
cases=0
cd "$here/check"
for c in *; do
  case "$c" in *.expected | *.args) continue ;; esac
  cases=$((cases + 1))
  # CASE.args: options given before the case's path (e.g. --schema SAMPLE).
  args=()
  [ -f "$c.args" ] && read -r -a args < "$c.args"
  actual="$("$tql" check "${args[@]}" "$c" 2>&1; echo "exit: $?")"
  if [ "${TQL_UPDATE_GOLDEN:-}" = 1 ]; then
    printf '%s\n' "$actual" > "$c.expected"
  elif [ "$actual" != "$(cat "$c.expected" 2>/dev/null)" ]; then
    echo "FAIL: check $c"
    diff <(cat "$c.expected" 2>/dev/null) <(printf '%s\n' "$actual") | head -20
    failures=$((failures + 1))
  fi
done
cd "$here/valid"
actual="$("$tql" check . 2>&1; echo "exit: $?")"
cases=$((cases + 1))
if [ "$actual" != "exit: 0" ]; then
  echo "FAIL: check of valid/ printed:"
  printf '%s\n' "$actual"
  failures=$((failures + 1))
fi
echo "check cases: $cases, failed: $failures"
[ "$cases" -gt 40 ] && [ "$failures" -eq 0 ]
