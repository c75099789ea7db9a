//! Text forms of timestamps (RFC 3339) and durations (`1.25s`, `250ms`, `1h2m3s`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tql {

inline constexpr int64_t kNanosPerMicro = 1'000;
inline constexpr int64_t kNanosPerMilli = 1'000'000;
inline constexpr int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr int64_t kNanosPerMinute = 60 * kNanosPerSecond;
inline constexpr int64_t kNanosPerHour = 60 * kNanosPerMinute;
inline constexpr int64_t kNanosPerDay = 24 * kNanosPerHour;

// Parses `YYYY-MM-DD[(T|t| )HH:MM[:SS[.fraction]]][Z|z|(+|-)HH[:]MM]` into nanoseconds since
// the Unix epoch. A missing offset means UTC. Returns nullopt for anything else, including
// out-of-range fields (month 13, 25:00) and results outside the int64 nanosecond range.
std::optional<int64_t> ParseTimestamp(std::string_view text);

// RFC 3339 in UTC with a `Z`; the fraction has 0, 3, 6 or 9 digits, the fewest that are exact.
std::string FormatTimestamp(int64_t nanos_since_epoch);

// Go-style: `0s`, `3ns`, `1.5us`, `250ms`, `1.25s`, `1m30s`, `26h3m0.5s`; negative with `-`.
std::string FormatDuration(int64_t nanos);

// A single-unit duration as TQL writes it: NUMBER UNIT with UNIT one of d h m s ms us ns
// (NUMBER may have a fraction and `_` separators). Returns nullopt on a bad unit or overflow.
// `exact`, when given, is set to false if the value is not a whole number of nanoseconds
// (`1.5ns`), which is then truncated.
std::optional<int64_t> ParseDuration(std::string_view text, bool* exact = nullptr);

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);

}  // namespace tql
