#!/usr/bin/env bash
# Installs the build into a fresh prefix, then builds a project outside the source tree
# against it twice: with find_package(tql) and with pkg-config. Both must build and run.
#   run.sh BUILD_DIR SOURCE_DIR WORK_DIR DATA
set -euo pipefail
build=$1 src=$2 work=$3 data=$4
rm -rf "$work" && mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

# find_package(tql)
cmake -S "$src/tests/consumer" -B "$work/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer_c" "$data" | grep -q "rows" || { echo "FAIL: consumer_c"; exit 1; }
"$work/cmake/consumer_cpp" "$data" | grep -q "^slow spans: " || { echo "FAIL: consumer_cpp"; exit 1; }

# pkg-config
libdir=$(dirname "$(find "$prefix" -name tql.pc)")
export PKG_CONFIG_PATH="$libdir"
[ "$(pkg-config --modversion tql)" != "" ] || { echo "FAIL: pkg-config finds no tql"; exit 1; }
cc "$src/tests/consumer/consumer.c" $(pkg-config --cflags --libs tql) \
   -Wl,-rpath,"$(pkg-config --variable=libdir tql)" -o "$work/pc_consumer"
"$work/pc_consumer" "$data" | grep -q "rows" || { echo "FAIL: pkg-config consumer"; exit 1; }

# The library exports only tql_ symbols.
lib=$(find "$prefix" -name 'libtql.so.*.*' | head -1)
others=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^tql_' || true)
[ -z "$others" ] || { echo "FAIL: libtql exports more than tql_ symbols:"; echo "$others" | head; exit 1; }
echo "ok: find_package and pkg-config consumers built and ran"
