#include "tools/inputs.h"

#include <fmt/format.h>

namespace tql {

InputSpec ParseInputSpec(const std::string& text) {
  const size_t eq = text.find('=');
  // A name is an identifier; `a=b` where `a` has a slash is a path with '=' in it.
  if (eq != std::string::npos && eq > 0 && text.find('/') > eq) {
    return {text.substr(0, eq), text.substr(eq + 1)};
  }
  return {"", text};
}

Result<LoadedInputs> LoadInputs(const std::vector<std::string>& specs, bool skip_bad_lines) {
  LoadedInputs loaded;
  JsonReadOptions options;
  options.skip_bad_lines = skip_bad_lines;
  for (const std::string& text : specs) {
    InputSpec spec = ParseInputSpec(text);
    JsonReadStats stats;
    TQL_ASSIGN_OR_RETURN(Table table, ReadJsonFile(spec.path, options, &stats));
    std::string name = spec.name.empty() ? DefaultSourceName(spec.path, stats.format) : spec.name;
    if (loaded.tables.contains(name)) {
      return Status::InvalidInput("two inputs are named '{}'; name them with --input NAME=FILE",
                                  name);
    }
    if (stats.skipped_lines > 0) {
      loaded.notes.push_back(fmt::format("{}: skipped {} bad line(s); first: {}", spec.path,
                                         stats.skipped_lines, stats.skipped_errors.front()));
    }
    loaded.catalog.Add(name, table.schema);
    loaded.tables.emplace(std::move(name), std::move(table));
  }
  return loaded;
}

}  // namespace tql
