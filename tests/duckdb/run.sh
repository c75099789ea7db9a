#!/usr/bin/env bash
# Differential test: the cases of queries.test through tql and through DuckDB (see README.md).
# Usage: run.sh NODE TQL_BINARY WORK_DIR
set -euo pipefail
if [[ $# -ne 3 ]]; then
  echo "usage: run.sh NODE TQL_BINARY WORK_DIR" >&2
  exit 2
fi
node="$1"
tql="$2"
work="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# differential.mjs imports @duckdb/node-api from the repository's node_modules (Node resolves
# packages from the importing file's directory upwards).
if [[ ! -d "$root/node_modules/@duckdb/node-api" ]]; then
  echo "run.sh: $root/node_modules/@duckdb/node-api is missing: run scripts/setup" >&2
  exit 1
fi
mkdir -p "$work"
exec "$node" "$here/differential.mjs" "$tql" "$work"
