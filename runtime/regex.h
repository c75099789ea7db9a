//! Regex: an RE2 pattern with a prefilter. RE2's FilteredRE2 lists the literal strings
//! ("atoms") any match must contain; a text without them is rejected by a SIMD substring scan
//! per atom, without running the regex. Telemetry text rarely contains the needle, so most
//! rows never reach RE2.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/status.h"

namespace re2 {
class RE2;
class FilteredRE2;
}  // namespace re2

namespace tql {

class Regex {
 public:
  // `pattern` is RE2 syntax; an invalid one is an error with RE2's message.
  static Result<std::shared_ptr<const Regex>> Make(const std::string& pattern,
                                                   bool case_sensitive = true);
  ~Regex();

  // An unanchored match anywhere in `text`. Thread-safe.
  bool PartialMatch(std::string_view text) const;

  const re2::RE2& re2() const { return *re_; }
  const std::string& pattern() const { return pattern_; }
  // The literals every match contains (lower case), empty when the pattern has none.
  const std::vector<std::string>& atoms() const { return atoms_; }

 private:
  Regex() = default;
  std::string pattern_;
  std::unique_ptr<re2::RE2> re_;
  std::unique_ptr<re2::FilteredRE2> filter_;
  std::vector<std::string> atoms_;
  std::vector<std::string> guards_;  // substrings every atom contains
};

// The compiled regex of a pattern that is only known per row (a column or a parameter used
// as a pattern): the last pattern is kept per thread. Null for an invalid pattern.
const Regex* CachedRegex(const std::string& pattern);

}  // namespace tql
