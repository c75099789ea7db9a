//! The observability-as-code commands: `tql check` (queries, manifests and Baselime files),
//! `tql import` (Baselime to TQL) and `tql alert eval` (docs/observability-as-code.md).
#pragma once

#include <string>
#include <vector>

namespace tql {

class KernelCompiler;

// Exit status: 0 when nothing has an error (warnings may print), 1 otherwise, 2 for usage.
int CheckCommand(const std::vector<std::string>& paths, const std::string& schema_file);

struct ImportOptions {
  std::string path;
  std::string query;  // print only this query's TQL
  std::string out;    // write ID.tql files and tql.yaml here
};
int ImportCommand(const ImportOptions& options);

struct AlertEvalOptions {
  std::string manifest;
  std::vector<std::string> inputs;
  std::string at;  // RFC 3339; empty: the latest timestamp in the inputs + 1 ns
  std::string format = "table";
  bool explain = false;  // also print each alert's query and plan (stderr)
  // Compiles the plans' filters (the JIT); null: the interpreter. `adaptive`: start on the
  // interpreter while kernels compile (`--engine auto`).
  KernelCompiler* compiler = nullptr;
  bool adaptive = false;
};
int AlertEvalCommand(const AlertEvalOptions& options);

}  // namespace tql
