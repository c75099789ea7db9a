#!/usr/bin/env bash
# Writes OTLP/JSON with the real OpenTelemetry JS SDK, then checks tql reads it right.
# Usage: otel_sdk_test.sh NODE CHECK_BINARY WORK_DIR
set -euo pipefail
node="$1"
check="$2"
work="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$work"
"$node" "$here/write_otlp.mjs" "$work/traces.json" "$work/logs.json"
TQL_OTLP_TRACES="$work/traces.json" TQL_OTLP_LOGS="$work/logs.json" "$check"
