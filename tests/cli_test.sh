#!/usr/bin/env bash
# End-to-end tests of the tql command line: what a user types, what they see, the exit status.
# Usage: cli_test.sh PATH/TO/tql
set -u
TQL="$1"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
passed=0
failed=0

check() {  # check NAME CONDITION-COMMAND...
  local name="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name" >&2
    [ -f "$T/err" ] && sed 's/^/  stderr: /' "$T/err" | head -5 >&2
  fi
}

run() {  # run EXPECTED_STATUS ARGS... : stdout to $T/out, stderr to $T/err
  local expected="$1"
  shift
  "$TQL" "$@" >"$T/out" 2>"$T/err"
  local status=$?
  if [ "$status" -ne "$expected" ]; then
    echo "  tql $* exited $status, expected $expected" >&2
    return 1
  fi
}

contains() { grep -qF -- "$2" "$1"; }

# --- version and help
check "version" run 0 --version
check "version text" contains "$T/out" "tql 0.1.0"
for cmd in run merge explain check fmt trace import functions gen bench; do
  check "help $cmd" run 0 "$cmd" --help
done
check "alert eval help" run 0 alert eval --help
check "no subcommand is a usage error" run 2
check "unknown flag is a usage error" run 2 run --no-such-flag 'spans'

# --- gen: deterministic, exact counts, logs beside
check "gen" run 0 gen --spans 500 --seed 3 --logs --out "$T/spans.ndjson"
check "gen wrote 500 spans" test "$(wc -l <"$T/spans.ndjson")" -eq 500
check "gen wrote logs" test -s "$T/spans.logs.ndjson"
check "gen again" run 0 gen --spans 500 --seed 3 --out "$T/again.ndjson"
check "same seed same bytes" cmp -s "$T/spans.ndjson" "$T/again.ndjson"
check "gen seed 4" run 0 gen --spans 500 --seed 4 --out "$T/other.ndjson"
check "other seed other bytes" bash -c "! cmp -s '$T/spans.ndjson' '$T/other.ndjson'"

# --- run: formats
check "run table" run 0 run --input "spans=$T/spans.ndjson" 'spans | take 3'
check "table has a header" contains "$T/out" "trace_id"
check "table counts rows" contains "$T/out" "(3 rows)"
check "table prints durations" grep -qE '[0-9.]+(ms|s|us)' "$T/out"
check "table prints RFC 3339" grep -qE '2026-11-24T[0-9:.]+Z' "$T/out"
check "default source name" run 0 run --input "$T/spans.ndjson" 'spans | take 1'
check "logs source name" run 0 run --input "$T/spans.logs.ndjson" 'logs | take 2'

check "run json" run 0 run --input "spans=$T/spans.ndjson" --format json 'spans | take 3'
check "json is an array of 3 objects" node -e '
  const rows = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (!Array.isArray(rows) || rows.length !== 3) process.exit(1);
  const keys = Object.keys(rows[0]);
  if (keys[0] !== "timestamp" || keys[1] !== "duration") process.exit(2);
  if (typeof rows[0].duration !== "number" || !Number.isInteger(rows[0].duration)) process.exit(3);
  if (!/^\d{4}-\d\d-\d\dT.*Z$/.test(rows[0].timestamp)) process.exit(4);' "$T/out"
check "run ndjson" run 0 run --input "spans=$T/spans.ndjson" --format ndjson 'spans | take 4'
check "ndjson has 4 lines" test "$(wc -l <"$T/out")" -eq 4
check "run csv" run 0 run --input "spans=$T/spans.ndjson" --format csv 'spans | limit 2'
check "csv has header + 2 rows" test "$(wc -l <"$T/out")" -eq 3
check "json of no rows" run 0 run --input "spans=$T/spans.ndjson" --format json 'spans | take 0'
check "empty json array" test "$(tr -d '[:space:]' <"$T/out")" = "[]"

printf 'spans\n| take 2\n' >"$T/q.tql"
check "run -f" run 0 run --input "spans=$T/spans.ndjson" --format ndjson -f "$T/q.tql"
check "run -f rows" test "$(wc -l <"$T/out")" -eq 2
check "stats" run 0 run --input "spans=$T/spans.ndjson" --stats --repeat 3 'spans | take 2'
check "stats on stderr" contains "$T/err" "execute: min"

# --- OTLP input, auto-detected
cat >"$T/otlp.json" <<'JSON'
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
"name":"GET /","kind":2,"startTimeUnixNano":"1795514400000000000","endTimeUnixNano":"1795514400500000000",
"status":{"code":1}}]}]}]}
JSON
check "otlp run" run 0 run --input "$T/otlp.json" --format ndjson 'spans | take 5'
check "otlp columns" contains "$T/out" '"duration":500000000,"trace_id":"0af7651916cd43dd8448eb211c80319c"'
check "otlp service" contains "$T/out" '"service":"api"'

# --- errors: query errors exit 1 with position, input errors exit 2
check "syntax error" run 1 run --input "spans=$T/spans.ndjson" 'spans | take'
check "syntax error position" contains "$T/err" '1:13: error: expected a number or a $parameter after '"'"'take'"'"''
check "unknown source" run 1 run --input "spans=$T/spans.ndjson" 'spnas | take 1'
check "did you mean" contains "$T/err" "did you mean 'spans'?"
check "missing input file" run 2 run --input "spans=$T/nope.ndjson" 'spans | take 1'
check "missing file named" contains "$T/err" "nope.ndjson"
printf '{"a":1}\n{"a":\n{"a":2}\n' >"$T/bad.ndjson"
check "malformed input line" run 2 run --input "t=$T/bad.ndjson" 't | take 1'
check "malformed line number" contains "$T/err" "line 2"
check "skip bad lines" run 0 run --skip-bad-lines --input "t=$T/bad.ndjson" --format ndjson 't | take 5'
check "skip bad lines rows" test "$(wc -l <"$T/out")" -eq 2
check "skip bad lines note" contains "$T/err" "skipped 1 bad line"
check "bad param" run 2 run --input "spans=$T/spans.ndjson" --param nonsense 'spans | take 1'
check "both query and file" run 2 run --input "spans=$T/spans.ndjson" -f "$T/q.tql" 'spans'
check "invalid utf-8 query" run 1 run --input "spans=$T/spans.ndjson" "$(printf 'spans | take 1 // \xff')"
check "invalid utf-8 message" contains "$T/err" "not valid UTF-8"

# --- explain
check "explain" run 0 explain --input "spans=$T/spans.ndjson" 'spans | take 5'
check "explain limit" contains "$T/out" "Limit 5"
check "explain scan" contains "$T/out" "Scan spans columns=[timestamp, duration"

# --- check and fmt for CI
mkdir -p "$T/queries/nested"
printf 'spans | take 10\n' >"$T/queries/good.tql"
printf 'spans\n| take\n' >"$T/queries/nested/bad.tql"
check "check finds errors" run 1 check "$T/queries"
check "check names file:line:col" contains "$T/err" "$T/queries/nested/bad.tql:2:7: error:"
check "check passes good files" run 0 check "$T/queries/good.tql"
check "check missing path" run 1 check "$T/missing"
check "fmt --check sees a change" run 1 fmt --check "$T/queries/good.tql"
check "fmt --check lists the file" contains "$T/out" "good.tql"
check "fmt prints the canonical text" run 0 fmt "$T/queries/good.tql"
check "fmt prints it" test "$(cat "$T/out")" = "$(printf 'spans\n| take 10')"
check "fmt changes no file" test "$(cat "$T/queries/good.tql")" = "spans | take 10"
check "fmt --write rewrites" run 0 fmt --write "$T/queries/good.tql"
check "fmt canonical text" test "$(cat "$T/queries/good.tql")" = "$(printf 'spans\n| take 10')"
check "fmt --check clean" run 0 fmt --check "$T/queries/good.tql"

# --- the binder through the CLI
printf 'spans\n| where stauts == "error"\n' >"$T/typo.tql"
check "check with a schema is strict" run 1 check --schema "$T/spans.ndjson" "$T/typo.tql"
check "strict names suggest" contains "$T/err" "typo.tql:2:9: error: unknown column 'stauts'; did you mean 'status'?"
check "check without a schema accepts unknown names" run 0 check "$T/typo.tql"
printf 'spans\n| where duration > "abc"\n' >"$T/types.tql"
check "check finds type errors" run 1 check "$T/types.tql"
check "type error message" contains "$T/err" "2:9: error: cannot compare duration with string"
check "run warns about a typo" run 0 run --input "spans=$T/spans.ndjson" 'spans | where stauts == "error"'
check "typo warning" contains "$T/err" "warning: unknown column 'stauts' reads as null; did you mean 'status'?"
check "match runs" run 0 run --format csv --input "spans=$T/spans.ndjson" 'spans | match {} | count'
check "match {} keeps every span" contains "$T/out" "500"
check "match counts against the memory limit" run 1 run --memory-limit 1KB --input "spans=$T/spans.ndjson" 'spans | match {} | count'
check "match memory message" contains "$T/err" "the spans of a match needs more than the memory limit"
check "match warns without linking columns" run 0 run --input "spans=$T/spans.ndjson" 'spans | project-away parent_id | match {} > {}'
check "match names the missing column" contains "$T/err" "warning: match needs the column 'parent_id' to link spans"
check "explain -v prints the bound query" run 0 explain -v --input "spans=$T/spans.ndjson" 'spans | project service, n = 1'
check "explain shows result columns" contains "$T/out" '-> service: string, n: int'
check "explain shows the plan" contains "$T/out" 'Project [service, n = 1]'
check "run filters" run 0 run --format csv --input "spans=$T/spans.ndjson" 'spans | where duration > 1s | count'
check "run --param binds" run 0 run --format csv --param min=1s --input "spans=$T/spans.ndjson" 'spans | where duration > $min | count'
check "unbound parameter is an error" run 1 run --input "spans=$T/spans.ndjson" 'spans | where duration > $min | count'
check "unbound parameter message" contains "$T/err" '$min has no value'
check "summarize runs" run 0 run --format csv --input "spans=$T/spans.ndjson" 'spans | summarize n = count() by service | sort by n desc | take 1'
check "summarize output" contains "$T/out" 'service,n'
check "functions lists aggregates" run 0 functions
check "functions shows p99" contains "$T/out" "p99(x) -> quantile type"

# --- partial aggregation: shards of the input, merged, give the single-pass answer
check "gen for shards" run 0 gen --spans 7000 --seed 5 --out "$T/all.ndjson"
split -n l/3 -d "$T/all.ndjson" "$T/shard-"
Q='spans | where duration > 1ms | summarize n = count(), u = dcount(user.id), p = p99(duration), s = sum(duration) by service | sort by n desc, service'
check "single pass" run 0 run --format csv --input "spans=$T/all.ndjson" "$Q"
cp "$T/out" "$T/single.csv"
for i in 00 01 02; do
  check "partial $i" run 0 run --input "spans=$T/shard-$i" --partial "$T/p$i.part" "$Q"
  check "partial $i prints nothing" test ! -s "$T/out"
done
check "merge" run 0 merge --format csv "$T/p00.part" "$T/p01.part" "$T/p02.part"
check "merge equals the single pass" cmp -s "$T/out" "$T/single.csv"
check "partial of another query" run 0 run --input "spans=$T/shard-00" --partial "$T/other.part" 'spans | summarize count() by kind'
check "merging other queries is an error" run 1 merge "$T/p00.part" "$T/other.part"
check "other query message" contains "$T/err" "made by another query or parameters"
printf 'not a partial' >"$T/junk.part"
check "merging junk is an error" run 1 merge "$T/junk.part"
check "junk message" contains "$T/err" "not a partial state written by 'tql run --partial'"
head -c 100 "$T/p00.part" >"$T/cut.part"
check "a truncated partial is an error" run 1 merge "$T/cut.part"
check "partial needs a summarize" run 1 run --input "spans=$T/shard-00" --partial "$T/x.part" 'spans | take 3'
check "needs-summarize message" contains "$T/err" "a partial run needs a summarize"
check "take before summarize cannot split" run 1 run --input "spans=$T/shard-00" --partial "$T/x.part" 'spans | take 3 | summarize count()'
check "cannot-split message" contains "$T/err" "take before it cannot run on each shard apart"

# --- the JIT: the same answers as the interpreter, and its IR on request
JQ='spans | where duration > 5ms and (http.status_code >= 500 or isnull(user.id)) and service != "cart" | summarize n = count() by service | sort by service'
check "interpreter" run 0 run --format csv --input "spans=$T/all.ndjson" "$JQ"
cp "$T/out" "$T/interp.csv"
check "jit" run 0 run --engine jit --stats --format csv --input "spans=$T/all.ndjson" "$JQ"
check "jit equals the interpreter" cmp -s "$T/out" "$T/interp.csv"
check "jit stats" contains "$T/err" "engine: jit: 1 kernel(s) compiled"
check "auto" run 0 run --engine auto --stats --format csv --input "spans=$T/all.ndjson" "$JQ"
check "auto equals the interpreter" cmp -s "$T/out" "$T/interp.csv"
check "auto stats" contains "$T/err" "engine: auto:"
check "explain --ir" run 0 explain --ir --input "spans=$T/all.ndjson" "$JQ"
check "explain --ir says what compiled" contains "$T/out" 'update summarize by service over spans with 3 filter conjunct(s): compiled'
check "explain --ir, two string columns" run 0 explain --ir --input "spans=$T/all.ndjson" 'spans | where duration > 5ms and user.id != service | count'
check "explain --ir says what did not" contains "$T/out" 'compiled (on the interpreter: user.id != service)'
check "explain --ir prints the kernel" contains "$T/out" "define i64 @tql_filter_0"
# engines_agree NAME QUERY: the query on the interpreter, adaptively and on the JIT (last, with
# --stats, so $T/err holds the JIT's statistics) prints the same rows.
engines_agree() {
  local name="$1" query="$2"
  check "$name, interpreter" run 0 run --engine interp --format csv --input "spans=$T/all.ndjson" "$query"
  cp "$T/out" "$T/interp.csv"
  check "$name, auto" run 0 run --engine auto --format csv --input "spans=$T/all.ndjson" "$query"
  check "$name, auto equals the interpreter" cmp -s "$T/out" "$T/interp.csv"
  check "$name, jit" run 0 run --engine jit --stats --format csv --input "spans=$T/all.ndjson" "$query"
  check "$name, jit equals the interpreter" cmp -s "$T/out" "$T/interp.csv"
}
FQ='spans | where duration > 5ms | summarize n = count(), total = sum(duration) by bin(timestamp, 1m) | sort by timestamp'
engines_agree "fused update" "$FQ"
check "fused update, one kernel" contains "$T/err" "engine: jit: 1 kernel(s) compiled"
check "explain --ir, a fused update" run 0 explain --ir --input "spans=$T/all.ndjson" "$FQ"
check "explain --ir says the update compiled" contains "$T/out" 'update summarize by bin(timestamp, 1m0s) over spans with 1 filter conjunct(s): compiled'
check "explain --ir prints the update's kernel" contains "$T/out" "@tql_update_0("
PQ='spans | extend ms = duration / 1ms, big = http.status_code >= 500, m = http.status_code % 7, u = tolower(service) | project span_id, ms, big, m, u | sort by span_id | take 20'
engines_agree "projection" "$PQ"
check "explain --ir, a projection" run 0 explain --ir --input "spans=$T/all.ndjson" "$PQ"
check "explain --ir says which columns compiled" contains "$T/out" 'column(s) compiled: ms, big, m'
EQ='spans | extend ms = duration / 1ms, doubled = http.status_code * 2 | where ms > 2 | summarize total = sum(doubled), n = countif(doubled > 900) by slow = bin(duration, 10ms) | sort by slow'
engines_agree "fused through extend" "$EQ"
check "explain --ir, fused through extend" run 0 explain --ir --input "spans=$T/all.ndjson" "$EQ"
check "explain --ir says the update through extend compiled" contains "$T/out" 'update summarize by bin(duration, 10ms) over spans with 1 filter conjunct(s): compiled'

check "bench both engines" run 0 bench --engine both --repeat 2 --format json --input "spans=$T/all.ndjson" "q: $JQ | count"
check "bench times the interpreter" contains "$T/out" '"engine":"interp"'
check "bench times the jit" contains "$T/out" '"engine":"jit"'

# --- the memory limit of summarize
check "a small memory limit stops a big group-by" run 1 run --memory-limit 256KB --input "spans=$T/all.ndjson" 'spans | summarize count() by span_id | count'
check "memory limit message" contains "$T/err" "summarize needs more than the memory limit of 256.0 KiB"
check "a big enough limit runs" run 0 run --memory-limit 1GiB --input "spans=$T/all.ndjson" 'spans | summarize count() by span_id | count'
check "a malformed limit is a usage error" run 2 run --memory-limit lots --input "spans=$T/all.ndjson" 'spans | count'

# --- threads, row and time limits
"$TQL" gen --spans 40000 --seed 9 --out "$T/many.ndjson" 2>/dev/null
"$TQL" run --format csv --input "spans=$T/many.ndjson" 'spans | summarize n = count(), d = sum(duration), u = dcount(user.id) by service | sort by service' >"$T/one" 2>/dev/null
check "a summarize on 2 threads" run 0 run --threads 2 --stats --format csv --input "spans=$T/many.ndjson" 'spans | summarize n = count(), d = sum(duration), u = dcount(user.id) by service | sort by service'
check "gives the answer of one thread" cmp -s "$T/out" "$T/one"
check "over every batch" contains "$T/err" "rows scanned: 40000 in 5 batch(es)"
check "a row limit stops the scan" run 1 run --row-limit 10 --input "spans=$T/all.ndjson" 'spans | count'
check "row limit message" contains "$T/err" "row limit of 10 rows"
check "a row limit above the input runs" run 0 run --row-limit 100000000 --input "spans=$T/all.ndjson" 'spans | count'
check "a time limit must be positive" run 2 run --time-limit 0 --input "spans=$T/all.ndjson" 'spans | count'
check "a big enough time limit runs" run 0 run --time-limit 60000 --input "spans=$T/all.ndjson" 'spans | count'

# --- trace: one request as a waterfall and as a JSON tree (exact outputs in tests/trace/)
D="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TR="$D/queries/data/traces.ndjson"
check "trace" run 0 trace T1 --input "spans=$TR"
check "trace waterfall: nested spans, errors, offsets" diff -u "$D/trace/T1.txt" "$T/out"
check "no colour when stdout is not a terminal" bash -c "! grep -q $'\x1b' '$T/out'"
check "trace of orphans" run 0 trace T3 --input "spans=$TR"
check "orphans are roots, and say so" diff -u "$D/trace/T3.txt" "$T/out"
check "trace with logs" run 0 trace t2 --input "spans=$D/queries/data/spans.ndjson" \
  --input "logs=$D/queries/data/logs.ndjson"
check "logs under their spans, error messages" diff -u "$D/trace/t2.txt" "$T/out"
check "trace json" run 0 trace t5 --format json --input "spans=$D/queries/data/spans.ndjson" \
  --input "logs=$D/queries/data/logs.ndjson"
check "nested JSON, a log without a span at the top" diff -u "$D/trace/t5.json" "$T/out"
check "--color always" run 0 trace T1 --color always --input "spans=$TR"
check "colour escapes" grep -q $'\x1b\\[' "$T/out"
check "trace --stats" run 0 trace T1 --stats --repeat 3 --input "spans=$TR"
check "trace stats" contains "$T/err" "rows scanned: 30 in 1 batch(es)"
check "unknown trace id" run 1 trace nope --input "spans=$TR"
check "unknown trace id message" contains "$T/err" "no span has trace_id 'nope'"
check "trace needs spans" run 2 trace T1 --input "logs=$D/queries/data/logs.ndjson"
check "trace needs spans message" contains "$T/err" "give --input spans=FILE"
check "trace id with a quote" run 1 trace 'a"b' --input "spans=$TR"
awk 'BEGIN { for (i = 0; i < 100000; i++) {
  p = i ? sprintf(",\"parent_id\":\"s%d\"", i - 1) : "";
  printf "{\"timestamp\":\"2026-11-24T10:00:00Z\",\"duration\":%d,\"trace_id\":\"deep\",\"span_id\":\"s%d\"%s,\"name\":\"n%d\"}\n", 100000 - i, i, p, i } }' >"$T/chain.ndjson"
check "trace of a 100000-deep chain" run 0 trace deep --input "spans=$T/chain.ndjson"
check "deep spans stop moving right and say their depth" contains "$T/out" "[99999] n99999"
check "json of a 100000-deep chain" run 0 trace deep --format json --input "spans=$T/chain.ndjson"
check "match over a 100000-deep chain" run 0 run --format csv --input "spans=$T/chain.ndjson" 'spans | match { name == "n0" } >> { name == "n99999" } | count'
check "the deepest span descends from the root" bash -c "tr -d '\\r' <'$T/out' | grep -qx 1"
printf '{"trace_id":12,"span_id":"a","name":"job","timestamp":"2026-11-24T10:00:00Z","duration":5}\n' >"$T/intid.ndjson"
check "trace with an int trace_id" run 0 trace 12 --input "spans=$T/intid.ndjson"
check "int trace_id found" contains "$T/out" "1 span · "
printf '{"timestamp":"2026-11-24T10:00:00Z","message":"no trace here"}\n' >"$T/notrace.ndjson"
check "logs without trace_id are left out" run 0 trace 12 --input "spans=$T/intid.ndjson" --input "logs=$T/notrace.ndjson"
check "and the view says so" contains "$T/err" "the logs have no trace_id column; showing spans only"
check "generated trace" run 0 trace "$(head -1 "$T/spans.ndjson" | sed 's/.*"trace_id":"\([0-9a-f]*\)".*/\1/')" \
  --input "spans=$T/spans.ndjson" --input "logs=$T/spans.logs.ndjson"
check "generated trace has logs" contains "$T/out" " logs · started "

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
