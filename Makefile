# Two entry points for people and CI: `make demo` and `make test`.
# Both install what they need (scripts/setup) and build with Ninja and ccache.

BUILD_DIR ?= build
BUILD_TYPE ?= Release
export CCACHE_DIR ?= $(HOME)/.cache/tql-ccache
# Paths relative to the checkout in ccache keys: clones in other folders share the cache.
export CCACHE_BASEDIR ?= $(CURDIR)
JOBS ?= $(shell nproc)
TQL := $(BUILD_DIR)/tools/tql

.PHONY: all setup configure build test demo bench clean

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
	$(TQL) run --input spans=$(BUILD_DIR)/demo/spans.ndjson 'spans | take 10'

# One core, pinned: a benchmark that migrates between cores here varies by 1.7x.
BENCH_CPU ?= 0
bench: build
	taskset -c $(BENCH_CPU) $(BUILD_DIR)/bench/tql_bench_scan
	taskset -c $(BENCH_CPU) $(BUILD_DIR)/bench/tql_bench_frontend
	taskset -c $(BENCH_CPU) $(BUILD_DIR)/bench/tql_bench_ingest

clean:
	rm -rf $(BUILD_DIR)
