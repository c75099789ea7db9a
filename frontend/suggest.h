//! "Did you mean": the closest candidate to a misspelled name by edit distance.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tql {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), ASCII
// case-insensitive.
int EditDistance(std::string_view a, std::string_view b);

// The candidate nearest to `name` if it is close enough to be a plausible typo.
std::optional<std::string> ClosestName(std::string_view name,
                                       const std::vector<std::string>& candidates);

}  // namespace tql
