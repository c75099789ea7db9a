//! `--input [NAME=]FILE`: loading the files a query reads and naming them as sources.
#pragma once

#include <string>
#include <vector>

#include "planner/executor.h"
#include "planner/logical_plan.h"
#include "runtime/json_reader.h"
#include "runtime/status.h"

namespace tql {

struct InputSpec {
  std::string name;  // empty: derived from the file and its format
  std::string path;
};

// Splits `NAME=FILE`; a plain FILE leaves the name empty.
InputSpec ParseInputSpec(const std::string& text);

struct LoadedInputs {
  Catalog catalog;
  SourceTables tables;
  std::vector<std::string> notes;  // e.g. skipped bad lines, for --stats and stderr
};

Result<LoadedInputs> LoadInputs(const std::vector<std::string>& specs, bool skip_bad_lines);

}  // namespace tql
