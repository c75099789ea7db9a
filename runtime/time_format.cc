#include "runtime/time_format.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace tql {

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Eras of 400 years make the calendar periodic; March-based years put Feb 29 last.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* year, unsigned* month, unsigned* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = y + (*month <= 2);
}

namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ == s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  bool Eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  // Exactly n decimal digits.
  bool Digits(int n, int* out) {
    int v = 0;
    for (int k = 0; k < n; ++k) {
      char c = peek();
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
      ++i_;
    }
    *out = v;
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

bool IsLeap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

std::optional<int64_t> ParseTimestamp(std::string_view text) {
  Cursor c(text);
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!c.Digits(4, &year) || !c.Eat('-') || !c.Digits(2, &month) || !c.Eat('-') ||
      !c.Digits(2, &day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > DaysInMonth(year, static_cast<unsigned>(month))) {
    return std::nullopt;
  }
  int64_t frac_nanos = 0;
  int64_t offset_seconds = 0;
  if (!c.done()) {
    if (!(c.Eat('T') || c.Eat('t') || c.Eat(' '))) return std::nullopt;
    if (!c.Digits(2, &hour) || !c.Eat(':') || !c.Digits(2, &minute)) return std::nullopt;
    if (c.Eat(':')) {
      if (!c.Digits(2, &second)) return std::nullopt;
      if (c.Eat('.') || c.Eat(',')) {
        int digits = 0;
        while (c.peek() >= '0' && c.peek() <= '9') {
          int d;
          c.Digits(1, &d);
          if (digits < 9) frac_nanos = frac_nanos * 10 + d;
          ++digits;
        }
        if (digits == 0) return std::nullopt;
        for (int k = digits; k < 9; ++k) frac_nanos *= 10;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
    if (c.Eat('Z') || c.Eat('z')) {
    } else if (c.peek() == '+' || c.peek() == '-') {
      const int sign = c.peek() == '-' ? -1 : 1;
      c.Eat(c.peek());
      int oh, om;
      if (!c.Digits(2, &oh)) return std::nullopt;
      c.Eat(':');
      if (!c.Digits(2, &om) || oh > 23 || om > 59) return std::nullopt;
      offset_seconds = sign * (oh * 3600 + om * 60);
    }
    if (!c.done()) return std::nullopt;
  }
  if (second == 60) second = 59;  // a leap second reads as the last second of its minute
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  // int64 nanoseconds span years 1677..2262.
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / kNanosPerSecond - 1;
  if (secs > kMaxSeconds || secs < -kMaxSeconds) return std::nullopt;
  return secs * kNanosPerSecond + frac_nanos;
}

std::string FormatTimestamp(int64_t ns) {
  int64_t secs = ns / kNanosPerSecond;
  int64_t frac = ns % kNanosPerSecond;
  if (frac < 0) {
    frac += kNanosPerSecond;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, rem / 3600,
                                rem / 60 % 60, rem % 60);
  if (frac != 0) {
    if (frac % 1'000'000 == 0) {
      out += fmt::format(".{:03}", frac / 1'000'000);
    } else if (frac % 1000 == 0) {
      out += fmt::format(".{:06}", frac / 1000);
    } else {
      out += fmt::format(".{:09}", frac);
    }
  }
  out += 'Z';
  return out;
}

namespace {

// Appends v / unit with up to `unit`'s decimal digits, trailing zeros dropped.
void AppendFraction(std::string* out, uint64_t v, uint64_t unit, int digits) {
  *out += fmt::format("{}", v / unit);
  uint64_t frac = v % unit;
  if (frac == 0) return;
  std::string f = fmt::format("{:0{}}", frac, digits);
  while (!f.empty() && f.back() == '0') f.pop_back();
  *out += '.';
  *out += f;
}

}  // namespace

std::string FormatDuration(int64_t nanos) {
  if (nanos == 0) return "0s";
  std::string out;
  // Work in uint64 so that INT64_MIN negates.
  uint64_t v = nanos < 0 ? 0 - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  if (nanos < 0) out += '-';
  if (v < static_cast<uint64_t>(kNanosPerMicro)) {
    out += fmt::format("{}ns", v);
  } else if (v < static_cast<uint64_t>(kNanosPerMilli)) {
    AppendFraction(&out, v, kNanosPerMicro, 3);
    out += "us";
  } else if (v < static_cast<uint64_t>(kNanosPerSecond)) {
    AppendFraction(&out, v, kNanosPerMilli, 6);
    out += "ms";
  } else {
    const uint64_t hours = v / kNanosPerHour;
    const uint64_t minutes = v / kNanosPerMinute % 60;
    const uint64_t rest = v % kNanosPerMinute;
    if (hours > 0) out += fmt::format("{}h", hours);
    if (hours > 0 || minutes > 0) out += fmt::format("{}m", minutes);
    AppendFraction(&out, rest, kNanosPerSecond, 9);
    out += 's';
  }
  return out;
}

std::optional<int64_t> ParseDuration(std::string_view text, bool* exact) {
  if (exact != nullptr) *exact = true;
  size_t i = 0;
  std::string digits;
  bool seen_dot = false;
  for (; i < text.size(); ++i) {
    char ch = text[i];
    if (ch >= '0' && ch <= '9') {
      digits += ch;
    } else if (ch == '_' && !digits.empty()) {
      continue;
    } else if (ch == '.' && !seen_dot) {
      seen_dot = true;
      digits += ch;
    } else {
      break;
    }
  }
  if (digits.empty() || digits == ".") return std::nullopt;
  const std::string_view unit = text.substr(i);
  int64_t scale;
  if (unit == "d")
    scale = kNanosPerDay;
  else if (unit == "h")
    scale = kNanosPerHour;
  else if (unit == "m")
    scale = kNanosPerMinute;
  else if (unit == "s")
    scale = kNanosPerSecond;
  else if (unit == "ms")
    scale = kNanosPerMilli;
  else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
    scale = kNanosPerMicro;
  else if (unit == "ns")
    scale = 1;
  else
    return std::nullopt;

  const size_t dot = digits.find('.');
  const std::string whole = digits.substr(0, dot);
  int64_t w = 0;
  if (!whole.empty()) {
    auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), w);
    if (ec != std::errc() || p != whole.data() + whole.size()) return std::nullopt;
  }
  int64_t result;
  if (__builtin_mul_overflow(w, scale, &result)) return std::nullopt;
  if (dot != std::string::npos) {
    // Exact decimal fraction of the unit, truncated below one nanosecond.
    int64_t num = 0, den = 1;
    for (char ch : digits.substr(dot + 1)) {
      if (den > std::numeric_limits<int64_t>::max() / 10 / scale) {
        if (ch != '0' && exact != nullptr) *exact = false;
        continue;
      }
      num = num * 10 + (ch - '0');
      den *= 10;
    }
    if (exact != nullptr && num * scale % den != 0) *exact = false;
    // num < den and den * scale stays below INT64_MAX / 10, so the product cannot overflow.
    const int64_t part = num * scale / den;
    if (__builtin_add_overflow(result, part, &result)) return std::nullopt;
  }
  return result;
}

}  // namespace tql
