#include "tools/cli_support.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tql {

int UsageError(const std::string& message) {
  fmt::print(stderr, "tql: {}\n", message);
  return kExitUsageError;
}

bool ReadTextFile(const std::string& path, std::string* out) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool ReadSourceFile(const std::string& path, std::string* out) {
  if (ReadTextFile(path, out)) return true;
  fmt::print(stderr, "{}: error: cannot read the file\n", path);
  return false;
}

}  // namespace tql
