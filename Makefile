# Two entry points for people and CI: `make demo` and `make test`.
# Both install what they need (scripts/setup) and build with Ninja and ccache.

BUILD_DIR ?= build
BUILD_TYPE ?= Release
export CCACHE_DIR ?= $(HOME)/.cache/tql-ccache
# Paths relative to the checkout in ccache keys: clones in other folders share the cache.
export CCACHE_BASEDIR ?= $(CURDIR)
JOBS ?= $(shell nproc)
TQL := $(BUILD_DIR)/tools/tql

.PHONY: all setup configure build test demo bench bench-duckdb configure-asan asan asan-api clean

all: build

setup:
	@bash scripts/setup

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

configure: setup $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

demo: build
	@mkdir -p $(BUILD_DIR)/demo
	$(TQL) gen --spans 20000 --seed 7 --logs --out $(BUILD_DIR)/demo/spans.ndjson
	$(TQL) run --input spans=$(BUILD_DIR)/demo/spans.ndjson \
	  'spans | where http.status_code >= 500 | project timestamp, service, name, duration | top 10 by duration'

# One core, pinned: a benchmark that migrates between cores here varies by 1.7x.
BENCH_CPU ?= 0
bench: build
	taskset -c $(BENCH_CPU) $(BUILD_DIR)/bench/tql_bench_scan
	taskset -c $(BENCH_CPU) $(BUILD_DIR)/bench/tql_bench_frontend
	taskset -c $(BENCH_CPU) $(BUILD_DIR)/bench/tql_bench_ingest
	taskset -c $(BENCH_CPU) $(BUILD_DIR)/bench/tql_bench_jit
	taskset -c $(BENCH_CPU) $(BUILD_DIR)/bench/tql_bench_api

# The executor against DuckDB, one thread each, in one run, on 10M generated spans and their
# logs (generated once into BENCH_DATA, about 6.4 GB of NDJSON).
# SUITE=executor (the default), aggregate or jit: bench/queries/SUITE.tql against
# bench/duckdb/SUITE.sql; ENGINE=interp (the default), jit or both.
BENCH_DATA ?= $(HOME)/.cache/tql-bench
SUITE ?= executor
ENGINE ?= interp
bench-duckdb: build
	taskset -c $(BENCH_CPU) node bench/compare_duckdb.mjs $(TQL) $(BENCH_DATA) --suite $(SUITE) --engine $(ENGINE)

# The unit and CLI tests under AddressSanitizer and UBSan (a build of its own, about 7 minutes).
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
configure-asan: setup
	cmake -S . -B $(BUILD_DIR)-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DTQL_BUILD_BENCH=OFF \
	  -DCMAKE_CXX_FLAGS="$(SANITIZE)" -DCMAKE_C_FLAGS="$(SANITIZE)" \
	  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
	  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"

asan: configure-asan
	cmake --build $(BUILD_DIR)-asan -j $(JOBS)
	ctest --test-dir $(BUILD_DIR)-asan --output-on-failure -j $(JOBS) -E fuzz_parser_and_reader

# Only the embedding API's tests (C, C++, the DuckDB producer, the example hosts) under the
# sanitizers: the C API must run clean under ASan and UBSan.
asan-api: configure-asan
	cmake --build $(BUILD_DIR)-asan -j $(JOBS) --target tql_c_api_test tql_cpp_api_test \
	  tql_duckdb_arrow_test tql_example_c_host tql_example_cpp_host
	ctest --test-dir $(BUILD_DIR)-asan --output-on-failure -R "c_api|CppApi|duckdb_arrow|example_c"

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR)-asan
