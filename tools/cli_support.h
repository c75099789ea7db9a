//! What every `tql` subcommand shares: its exit statuses, the usage-error message, and reading
//! a whole file.
#pragma once

#include <string>

namespace tql {

// 0 ok, 1 a query error (diagnostics on stderr), 2 a usage or input error (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitQueryError = 1;
inline constexpr int kExitUsageError = 2;

// Prints `tql: MESSAGE` to stderr and returns kExitUsageError.
int UsageError(const std::string& message);

// The whole file as bytes; false when it cannot be read.
bool ReadTextFile(const std::string& path, std::string* out);
// The same for a file named on the command line: a failure is reported as
// `FILE: error: cannot read the file`.
bool ReadSourceFile(const std::string& path, std::string* out);

}  // namespace tql
