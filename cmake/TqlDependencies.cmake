# Every dependency is a Debian package found through CMake's own mechanisms; none is vendored.
# docs/dependencies.md says why each one is here.

find_package(fmt REQUIRED)                 # formatting
find_package(simdjson REQUIRED)            # NDJSON / OTLP readers, JSON paths
find_package(xsimd REQUIRED)               # SIMD kernels of the interpreter
# Debian's xsimd config links an `xtl` target that no package provides; xsimd is header-only,
# so use its headers through a target of our own.
get_target_property(TQL_XSIMD_INCLUDE xsimd INTERFACE_INCLUDE_DIRECTORIES)
add_library(tql_xsimd INTERFACE)
target_include_directories(tql_xsimd SYSTEM INTERFACE ${TQL_XSIMD_INCLUDE})
find_package(CLI11 REQUIRED)               # CLI argument parsing
find_package(antlr4-runtime REQUIRED)      # parser runtime (4.9)
find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)   # regular expressions
pkg_check_modules(YAML_CPP REQUIRED IMPORTED_TARGET yaml-cpp)  # manifests and Baselime files, with node positions

find_program(ANTLR4_TOOL NAMES antlr4 REQUIRED)       # parser generator, run at build time
find_package(Java COMPONENTS Runtime REQUIRED)

if(TQL_WITH_LLVM)
  # LLVM's version file only accepts an exact major.minor, so check the major ourselves.
  find_package(LLVM REQUIRED CONFIG HINTS /usr/lib/llvm-19/lib/cmake/llvm)
  if(NOT LLVM_VERSION_MAJOR EQUAL 19)
    message(FATAL_ERROR "tql needs LLVM 19, found ${LLVM_PACKAGE_VERSION} at ${LLVM_DIR}")
  endif()
  message(STATUS "LLVM ${LLVM_PACKAGE_VERSION} from ${LLVM_DIR}")
endif()

if(TQL_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(TQL_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
