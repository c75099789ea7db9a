#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (AddressSanitizer + UBSan) in a build of their
# own and runs them: the query parser + binder for PARSE_SECONDS, seeded from every golden
# query, the NDJSON/OTLP reader for READER_SECONDS, and whole queries (parse, bind, plan,
# execute on a small table) for QUERY_SECONDS, seeded from every golden query test. A crash
# fails the test and leaves the input that caused it in WORK/artifacts.
# The mutations start from a fixed seed (TQL_FUZZ_SEED, default 1) so that the test suite is
# repeatable; set TQL_FUZZ_SEED=0 for a random one when hunting.
# Usage: fuzz_test.sh SOURCE_DIR WORK_DIR PARSE_SECONDS READER_SECONDS [QUERY_SECONDS]
set -euo pipefail
src="$1"
work="$2"
parse_seconds="$3"
reader_seconds="$4"
query_seconds="${5:-60}"
seed="${TQL_FUZZ_SEED:-1}"
mkdir -p "$work"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" \
  -DTQL_BUILD_FUZZERS=ON -DTQL_BUILD_TESTS=OFF -DTQL_BUILD_BENCH=OFF -DTQL_WITH_LLVM=OFF >/dev/null
cmake --build "$work/build" --target tql_fuzz_parse tql_fuzz_ndjson_reader tql_fuzz_query

# Seeds: the input of every golden case (syntax and binder files).
rm -rf "$work/corpus" "$work/artifacts"
mkdir -p "$work/corpus/parse" "$work/corpus/reader" "$work/corpus/query" "$work/artifacts"
python3 - "$src" "$work/corpus/parse" "$work/corpus/query" <<'PY'
import glob, hashlib, os, sys
src, out, out_query = sys.argv[1], sys.argv[2], sys.argv[3]

def seeds(dirs, kinds, out):
    """Writes the input of every case of the golden files in `dirs` whose header is in `kinds`."""
    for d in dirs:
        for path in glob.glob(os.path.join(src, "tests", d, "*.test")):
            lines = open(path, "rb").read().split(b"\n")
            i = 0
            while i < len(lines):
                if lines[i].split(b" ")[0] in kinds:
                    j, body = i + 1, []
                    while j < len(lines) and lines[j] != b"----":
                        body.append(lines[j]); j += 1
                    data = b"\n".join(body)
                    open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb").write(data)
                    i = j
                i += 1

seeds(["queries"], (b"query", b"rowsort", b"plan", b"error"), out_query)
seeds(["syntax", "binder"], (b"query", b"error", b"bind"), out)
PY
cp "$src"/fuzz/corpus/ndjson/* "$work/corpus/reader/"
echo "seeds: $(ls "$work/corpus/parse" | wc -l) queries, $(ls "$work/corpus/query" | wc -l) runnable queries"
cd "$work/artifacts"
"$work/build/fuzz/tql_fuzz_parse" -seed="$seed" -max_total_time="$parse_seconds" -max_len=4096 \
  -print_final_stats=1 "$work/corpus/parse" 2>&1 | grep -E "^(Done|stat::number_of_executed_units|==.*ERROR|SUMMARY)" || true
"$work/build/fuzz/tql_fuzz_ndjson_reader" -seed="$seed" -max_total_time="$reader_seconds" -max_len=8192 \
  -print_final_stats=1 "$work/corpus/reader" 2>&1 | grep -E "^(Done|stat::number_of_executed_units|==.*ERROR|SUMMARY)" || true
"$work/build/fuzz/tql_fuzz_query" -seed="$seed" -max_total_time="$query_seconds" -max_len=2048 \
  -timeout=10 -print_final_stats=1 "$work/corpus/query" 2>&1 | grep -E "^(Done|stat::number_of_executed_units|==.*ERROR|SUMMARY)" || true
if compgen -G "crash-*" >/dev/null || compgen -G "leak-*" >/dev/null || compgen -G "timeout-*" >/dev/null; then
  echo "the fuzzers found inputs that fail: $work/artifacts" >&2
  ls "$work/artifacts" >&2
  exit 1
fi
echo "fuzzing: no crash"
