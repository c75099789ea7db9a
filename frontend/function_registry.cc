#include "frontend/function_registry.h"

#include <fmt/format.h>

#include <algorithm>

namespace tql {

namespace {

using T = TypeId;

bool IsNumber(T t) {
  return t == T::kInt || t == T::kFloat;
}
bool IsNumberOrDuration(T t) {
  return IsNumber(t) || t == T::kDuration;
}

// Argument `i` must satisfy `ok`; unknown and dynamic values always do.
template <typename Pred>
bool Want(const CallArgs& a, size_t i, Pred ok, std::string_view what, std::string* error) {
  if (i >= a.types.size() || IsLooselyTyped(a.types[i]) || ok(a.types[i])) return true;
  *error = fmt::format("argument {} must be {}, not {}", i + 1, what, TypeName(a.types[i]));
  a.rejected = static_cast<int>(i);
  return false;
}

bool WantString(const CallArgs& a, size_t i, std::string* e) {
  return Want(
      a, i, [](T t) { return t == T::kString; }, "a string", e);
}
bool WantInt(const CallArgs& a, size_t i, std::string* e) {
  return Want(
      a, i, [](T t) { return t == T::kInt; }, "an int", e);
}
bool WantNumber(const CallArgs& a, size_t i, std::string* e) {
  return Want(a, i, IsNumber, "a number", e);
}
bool WantBool(const CallArgs& a, size_t i, std::string* e) {
  return Want(
      a, i, [](T t) { return t == T::kBool; }, "a bool", e);
}
bool WantTimestamp(const CallArgs& a, size_t i, std::string* e) {
  return Want(
      a, i, [](T t) { return t == T::kTimestamp; }, "a timestamp", e);
}
bool WantDuration(const CallArgs& a, size_t i, std::string* e) {
  return Want(
      a, i, [](T t) { return t == T::kDuration || t == T::kInt; }, "a duration", e);
}
bool WantConstant(const CallArgs& a, size_t i, std::string_view what, std::string* e) {
  if (i >= a.constant.size() || a.constant[i]) return true;
  *e = fmt::format("argument {} must be a constant {}", i + 1, what);
  a.rejected = static_cast<int>(i);
  return false;
}

// The type of a group of values that must agree (iif branches, coalesce, case values).
std::optional<T> CommonType(const std::vector<T>& types, std::string* error) {
  T result = T::kNull;
  for (T t : types) {
    if (t == T::kNull || t == result) continue;
    if (result == T::kNull) {
      result = t;
    } else if (IsNumber(result) && IsNumber(t)) {
      result = T::kFloat;
    } else if ((result == T::kDuration && t == T::kInt) ||
               (result == T::kInt && t == T::kDuration)) {
      result = T::kDuration;
    } else if (result == T::kDynamic || t == T::kDynamic) {
      result = T::kDynamic;
    } else {
      *error =
          fmt::format("the values have different types: {} and {}", TypeName(result), TypeName(t));
      return std::nullopt;
    }
  }
  return result;
}

// --- scalar rules

std::optional<T> SameNumber(const CallArgs& a, std::string* e) {
  if (!Want(a, 0, IsNumberOrDuration, "a number or a duration", e)) return std::nullopt;
  return a.types[0] == T::kNull ? T::kFloat : a.types[0];
}
std::optional<T> RoundRule(const CallArgs& a, std::string* e) {
  if (!Want(a, 0, IsNumberOrDuration, "a number or a duration", e) || !WantInt(a, 1, e)) {
    return std::nullopt;
  }
  return a.types[0] == T::kNull ? T::kFloat : a.types[0];
}
std::optional<T> FloatOfNumbers(const CallArgs& a, std::string* e) {
  for (size_t i = 0; i < a.types.size(); ++i) {
    if (!WantNumber(a, i, e)) return std::nullopt;
  }
  return T::kFloat;
}
std::optional<T> CommonOfAll(const CallArgs& a, std::string* e) {
  for (size_t i = 0; i < a.types.size(); ++i) {
    if (!Want(
            a, i,
            [](T t) { return IsNumberOrDuration(t) || t == T::kTimestamp || t == T::kString; },
            "a number, duration, timestamp or string", e)) {
      return std::nullopt;
    }
  }
  return CommonType(a.types, e);
}
std::optional<T> IntOfString(const CallArgs& a, std::string* e) {
  if (!WantString(a, 0, e)) return std::nullopt;
  return T::kInt;
}
std::optional<T> StringOfString(const CallArgs& a, std::string* e) {
  if (!WantString(a, 0, e)) return std::nullopt;
  return T::kString;
}
std::optional<T> SubstringRule(const CallArgs& a, std::string* e) {
  if (!WantString(a, 0, e) || !WantInt(a, 1, e) || !WantInt(a, 2, e)) return std::nullopt;
  return T::kString;
}
std::optional<T> StrcatRule(const CallArgs&, std::string*) {
  return T::kString;
}
std::optional<T> ReplaceRule(const CallArgs& a, std::string* e) {
  for (size_t i = 0; i < 3; ++i) {
    if (!WantString(a, i, e)) return std::nullopt;
  }
  return T::kString;
}
std::optional<T> ReplaceRegexRule(const CallArgs& a, std::string* e) {
  if (!ReplaceRule(a, e) || !WantConstant(a, 1, "regular expression", e)) return std::nullopt;
  return T::kString;
}
std::optional<T> ExtractRule(const CallArgs& a, std::string* e) {
  if (!WantString(a, 0, e) || !WantConstant(a, 0, "regular expression", e) || !WantInt(a, 1, e) ||
      !WantString(a, 2, e)) {
    return std::nullopt;
  }
  return T::kString;
}
std::optional<T> SplitRule(const CallArgs& a, std::string* e) {
  if (!WantString(a, 0, e) || !WantString(a, 1, e)) return std::nullopt;
  return T::kDynamic;
}
std::optional<T> IndexofRule(const CallArgs& a, std::string* e) {
  if (!WantString(a, 0, e) || !WantString(a, 1, e)) return std::nullopt;
  return T::kInt;
}
std::optional<T> CoalesceRule(const CallArgs& a, std::string* e) {
  return CommonType(a.types, e);
}
std::optional<T> IifRule(const CallArgs& a, std::string* e) {
  if (!WantBool(a, 0, e)) return std::nullopt;
  return CommonType({a.types[1], a.types[2]}, e);
}
std::optional<T> CaseRule(const CallArgs& a, std::string* e) {
  if (a.types.size() % 2 == 0) {
    *e = "case takes pairs of condition and value, then an else value";
    return std::nullopt;
  }
  std::vector<T> values;
  for (size_t i = 0; i + 1 < a.types.size(); i += 2) {
    if (!WantBool(a, i, e)) return std::nullopt;
    values.push_back(a.types[i + 1]);
  }
  values.push_back(a.types.back());
  return CommonType(values, e);
}
std::optional<T> BoolOfAny(const CallArgs&, std::string*) {
  return T::kBool;
}
std::optional<T> ToString(const CallArgs&, std::string*) {
  return T::kString;
}
std::optional<T> ToInt(const CallArgs&, std::string*) {
  return T::kInt;
}
std::optional<T> ToFloat(const CallArgs&, std::string*) {
  return T::kFloat;
}
std::optional<T> ToBool(const CallArgs&, std::string*) {
  return T::kBool;
}
std::optional<T> ToTimestamp(const CallArgs& a, std::string* e) {
  if (!Want(
          a, 0, [](T t) { return t != T::kBool; }, "text, a number or a timestamp", e)) {
    return std::nullopt;
  }
  return T::kTimestamp;
}
std::optional<T> ToDuration(const CallArgs& a, std::string* e) {
  if (!Want(
          a, 0, [](T t) { return t != T::kBool && t != T::kTimestamp; },
          "text, a number or a duration", e)) {
    return std::nullopt;
  }
  return T::kDuration;
}
std::optional<T> ParseJsonRule(const CallArgs& a, std::string* e) {
  if (!WantString(a, 0, e)) return std::nullopt;
  return T::kDynamic;
}
std::optional<T> BinRule(const CallArgs& a, std::string* e) {
  const T v = a.types[0];
  if (v == T::kTimestamp || v == T::kDuration) {
    if (!WantDuration(a, 1, e)) return std::nullopt;
    return v;
  }
  if (!Want(a, 0, IsNumber, "a number, duration or timestamp", e) || !WantNumber(a, 1, e)) {
    return std::nullopt;
  }
  return v == T::kNull ? T::kFloat : (a.types[1] == T::kFloat ? T::kFloat : v);
}
std::optional<T> NowRule(const CallArgs&, std::string*) {
  return T::kTimestamp;
}
std::optional<T> AgoRule(const CallArgs& a, std::string* e) {
  if (!WantDuration(a, 0, e)) return std::nullopt;
  return T::kTimestamp;
}
std::optional<T> DatetimeRule(const CallArgs& a, std::string* e) {
  if (!WantString(a, 0, e)) return std::nullopt;
  return T::kTimestamp;
}
std::optional<T> DatetimePartRule(const CallArgs& a, std::string* e) {
  if (!WantString(a, 0, e) || !WantConstant(a, 0, "part name", e) || !WantTimestamp(a, 1, e)) {
    return std::nullopt;
  }
  return T::kInt;
}
std::optional<T> FormatDatetimeRule(const CallArgs& a, std::string* e) {
  if (!WantTimestamp(a, 0, e) || !WantString(a, 1, e)) return std::nullopt;
  return T::kString;
}
std::optional<T> StartOfDayRule(const CallArgs& a, std::string* e) {
  if (!WantTimestamp(a, 0, e)) return std::nullopt;
  return T::kTimestamp;
}
std::optional<T> HashRule(const CallArgs&, std::string*) {
  return T::kInt;
}

// --- aggregate rules

std::optional<T> IntResult(const CallArgs&, std::string*) {
  return T::kInt;
}
std::optional<T> CountifRule(const CallArgs& a, std::string* e) {
  if (!WantBool(a, 0, e)) return std::nullopt;
  return T::kInt;
}
std::optional<T> SumRule(const CallArgs& a, std::string* e) {
  if (!Want(a, 0, IsNumberOrDuration, "a number or a duration", e)) return std::nullopt;
  return IsLooselyTyped(a.types[0]) ? T::kFloat : a.types[0];
}
std::optional<T> AvgRule(const CallArgs& a, std::string* e) {
  if (!Want(a, 0, IsNumberOrDuration, "a number or a duration", e)) return std::nullopt;
  return T::kFloat;
}
std::optional<T> SameAsInput(const CallArgs& a, std::string*) {
  return a.types[0];
}
std::optional<T> OrderedInput(const CallArgs& a, std::string* e) {
  (void)e;  // every type orders: false < true, strings by code point, dynamic by JSON text
  return a.types[0];
}
// Quantiles keep durations and timestamps; numbers interpolate to float.
std::optional<T> QuantileType(T input) {
  if (input == T::kDuration || input == T::kTimestamp) return input;
  return T::kFloat;
}
std::optional<T> QuantileRule(const CallArgs& a, std::string* e) {
  if (!Want(
          a, 0, [](T t) { return IsNumberOrDuration(t) || t == T::kTimestamp; },
          "a number, duration or timestamp", e)) {
    return std::nullopt;
  }
  if (a.types.size() > 1 &&
      (!WantNumber(a, 1, e) || !WantConstant(a, 1, "percentile between 0 and 100", e))) {
    return std::nullopt;
  }
  return QuantileType(a.types[0]);
}
std::optional<T> StatsRule(const CallArgs& a, std::string* e) {
  if (!Want(a, 0, IsNumberOrDuration, "a number or a duration", e)) return std::nullopt;
  return T::kFloat;
}
std::optional<T> ArgRule(const CallArgs& a, std::string* e) {
  if (a.types[0] == T::kDynamic || a.types[0] == T::kBool) {
    *e = fmt::format("argument 1 must be an ordered value, not {}", TypeName(a.types[0]));
    return std::nullopt;
  }
  return a.types[1];
}
std::optional<T> RateRule(const CallArgs& a, std::string* e) {
  if (!a.types.empty() && !Want(a, 0, IsNumberOrDuration, "a number", e)) return std::nullopt;
  return T::kFloat;
}
std::optional<T> HistogramRule(const CallArgs& a, std::string* e) {
  if (!Want(
          a, 0, [](T t) { return IsNumberOrDuration(t) || t == T::kTimestamp; },
          "a number, duration or timestamp", e) ||
      !WantConstant(a, 1, "bucket size", e)) {
    return std::nullopt;
  }
  return T::kDynamic;
}
std::optional<T> CollectRule(const CallArgs& a, std::string* e) {
  if (a.types.size() > 1 && (!WantInt(a, 1, e) || !WantConstant(a, 1, "limit", e))) {
    return std::nullopt;
  }
  return T::kDynamic;
}

constexpr FunctionKind kS = FunctionKind::kScalar;
constexpr FunctionKind kA = FunctionKind::kAggregate;

std::vector<FunctionInfo> BuildTable() {
  std::vector<FunctionInfo> t = {
      // math
      {"abs", kS, 1, 1, SameNumber, "abs(x: number | duration) -> same", "absolute value",
       "abs(-3) == 3"},
      {"round", kS, 1, 2, RoundRule, "round(x: number | duration [, digits: int]) -> same",
       "rounds half away from zero to `digits` decimals (default 0)", "round(2.567, 1) == 2.6"},
      {"floor", kS, 1, 1, SameNumber, "floor(x: number | duration) -> same",
       "largest integer not above x", "floor(2.7) == 2.0"},
      {"ceil", kS, 1, 1, SameNumber, "ceil(x: number | duration) -> same",
       "smallest integer not below x", "ceil(2.1) == 3.0"},
      {"sqrt", kS, 1, 1, FloatOfNumbers, "sqrt(x: number) -> float",
       "square root; null for negative x", "sqrt(16) == 4.0"},
      {"exp", kS, 1, 1, FloatOfNumbers, "exp(x: number) -> float", "e to the power x",
       "exp(0) == 1.0"},
      {"log", kS, 1, 1, FloatOfNumbers, "log(x: number) -> float",
       "natural logarithm; null for x <= 0", "log(exp(2)) == 2.0"},
      {"log10", kS, 1, 1, FloatOfNumbers, "log10(x: number) -> float",
       "base-10 logarithm; null for x <= 0", "log10(1000) == 3.0"},
      {"pow", kS, 2, 2, FloatOfNumbers, "pow(x: number, y: number) -> float", "x to the power y",
       "pow(2, 10) == 1024.0"},
      {"min_of", kS, 2, -1, CommonOfAll, "min_of(a, b, ...) -> common type",
       "the least of its arguments (nulls ignored)", "min_of(3, 1, 2) == 1"},
      {"max_of", kS, 2, -1, CommonOfAll, "max_of(a, b, ...) -> common type",
       "the greatest of its arguments (nulls ignored)", "max_of(3, 1, 2) == 3"},
      // strings
      {"strlen", kS, 1, 1, IntOfString, "strlen(s: string) -> int",
       "length in characters (code points)", "strlen(\"héllo\") == 5"},
      {"tolower", kS, 1, 1, StringOfString, "tolower(s: string) -> string", "lower case",
       "tolower(\"GET\") == \"get\""},
      {"toupper", kS, 1, 1, StringOfString, "toupper(s: string) -> string", "upper case",
       "toupper(\"get\") == \"GET\""},
      {"substring", kS, 2, 3, SubstringRule,
       "substring(s: string, start: int [, length: int]) -> string",
       "characters from `start` (0-based), `length` of them or to the end",
       "substring(\"checkout\", 0, 5) == \"check\""},
      {"trim", kS, 1, 1, StringOfString, "trim(s: string) -> string",
       "without leading and trailing white space", "trim(\"  a \") == \"a\""},
      {"strcat", kS, 1, -1, StrcatRule, "strcat(a, b, ...) -> string",
       "its arguments as text, concatenated (nulls as empty)", "strcat(\"a\", 1) == \"a1\""},
      {"replace", kS, 3, 3, ReplaceRule, "replace(s: string, find: string, with: string) -> string",
       "every occurrence of `find` replaced", "replace(\"a-b-c\", \"-\", \"+\") == \"a+b+c\""},
      {"replace_regex", kS, 3, 3, ReplaceRegexRule,
       "replace_regex(s: string, regex: string, with: string) -> string",
       "every match of the RE2 `regex` replaced; `\\1` in `with` is a group",
       "replace_regex(\"a1b22\", \"[0-9]+\", \"#\") == \"a#b#\""},
      {"extract", kS, 3, 3, ExtractRule, "extract(regex: string, group: int, s: string) -> string",
       "the `group` of the first RE2 match in `s` (0: the whole match); null without a match",
       "extract(\"user-([0-9]+)\", 1, \"user-42\") == \"42\""},
      {"split", kS, 2, 2, SplitRule, "split(s: string, separator: string) -> dynamic",
       "the parts as an array; index it with [i]", "split(\"a,b\", \",\")[1] == \"b\""},
      {"indexof", kS, 2, 2, IndexofRule, "indexof(s: string, find: string) -> int",
       "position (0-based, in characters) of the first `find`, or -1",
       "indexof(\"checkout\", \"out\") == 5"},
      // conditionals and nulls
      {"coalesce", kS, 1, -1, CoalesceRule, "coalesce(a, b, ...) -> common type",
       "the first argument that is not null", "coalesce(user.id, \"anonymous\")"},
      {"iif", kS, 3, 3, IifRule, "iif(condition: bool, then, else) -> common type",
       "`then` when the condition is true, else `else` (null counts as false)",
       "iif(duration > 1s, \"slow\", \"ok\")"},
      {"case", kS, 3, -1, CaseRule, "case(c1: bool, v1, c2: bool, v2, ..., else) -> common type",
       "the value of the first true condition, else the last argument",
       "case(duration < 10ms, \"fast\", duration < 1s, \"ok\", \"slow\")"},
      {"isnull", kS, 1, 1, BoolOfAny, "isnull(x) -> bool", "true when x is null",
       "isnull(parent_id)"},
      {"isnotnull", kS, 1, 1, BoolOfAny, "isnotnull(x) -> bool", "true when x is not null",
       "isnotnull(user.id)"},
      {"isnotempty", kS, 1, 1, BoolOfAny, "isnotempty(x) -> bool",
       "true when x is neither null nor the empty string", "isnotempty(user.id)"},
      {"isempty", kS, 1, 1, BoolOfAny, "isempty(x) -> bool",
       "true when x is null or the empty string", "isempty(status_message)"},
      {"exists", kS, 1, 1, BoolOfAny, "exists(name) -> bool",
       "true when the column or attribute is present (not null) in the row", "exists(db.system)"},
      // conversions
      {"tostring", kS, 1, 1, ToString, "tostring(x) -> string",
       "x as text (timestamps RFC 3339, durations like 1.5s)", "tostring(200) == \"200\""},
      {"toint", kS, 1, 1, ToInt, "toint(x) -> int",
       "x as an int (floats truncate; text parses; otherwise null)", "toint(\"42\") == 42"},
      {"tolong", kS, 1, 1, ToInt, "tolong(x) -> int", "the same as toint (the KQL name)",
       "tolong(\"42\") == 42"},
      {"todouble", kS, 1, 1, ToFloat, "todouble(x) -> float", "the same as tofloat (the KQL name)",
       "todouble(\"2.5\") == 2.5"},
      {"tofloat", kS, 1, 1, ToFloat, "tofloat(x) -> float",
       "x as a float (text parses; otherwise null)", "tofloat(\"2.5\") == 2.5"},
      {"tobool", kS, 1, 1, ToBool, "tobool(x) -> bool",
       "x as a bool (\"true\"/\"false\", 0/1; otherwise null)", "tobool(\"true\")"},
      {"todatetime", kS, 1, 1, ToTimestamp, "todatetime(x) -> timestamp",
       "RFC 3339 text or epoch nanoseconds as a timestamp", "todatetime(\"2026-11-24T10:00:00Z\")"},
      {"toduration", kS, 1, 1, ToDuration, "toduration(x) -> duration",
       "a duration literal's text (\"1.5s\"), the text tostring prints (\"1m30s\") or nanoseconds "
       "as a duration",
       "toduration(\"250ms\") == 250ms"},
      {"parse_json", kS, 1, 1, ParseJsonRule, "parse_json(s: string) -> dynamic",
       "the JSON value of the text (null when it is not JSON)", "parse_json(status_message).code"},
      // time
      {"bin", kS, 2, 2, BinRule, "bin(x: number | duration | timestamp, size) -> same",
       "x rounded down to a multiple of `size`", "bin(timestamp, 1m)"},
      {"now", kS, 0, 0, NowRule, "now() -> timestamp",
       "the current time, fixed for the whole query", "timestamp > now() - 1h"},
      {"ago", kS, 1, 1, AgoRule, "ago(d: duration) -> timestamp", "now() - d",
       "timestamp > ago(15m)"},
      {"datetime", kS, 1, 1, DatetimeRule, "datetime(text: string) -> timestamp",
       "the timestamp the RFC 3339 text names; also written as a literal: "
       "datetime(2026-11-24T10:00:00Z)",
       "datetime(\"2026-11-24\")"},
      {"datetime_part", kS, 2, 2, DatetimePartRule,
       "datetime_part(part: string, ts: timestamp) -> int",
       "one field of a timestamp in UTC: year, month, day, hour, minute, second, millisecond, "
       "weekday (0 = Sunday), dayofyear",
       "datetime_part(\"hour\", timestamp)"},
      {"format_datetime", kS, 2, 2, FormatDatetimeRule,
       "format_datetime(ts: timestamp, format: string) -> string",
       "the timestamp in UTC with a format of yyyy MM dd HH mm ss fff",
       "format_datetime(timestamp, \"yyyy-MM-dd HH:mm\")"},
      {"startofday", kS, 1, 1, StartOfDayRule, "startofday(ts: timestamp) -> timestamp",
       "midnight UTC of the timestamp's day", "startofday(timestamp)"},
      {"hash", kS, 1, 1, HashRule, "hash(x) -> int", "a stable 64-bit hash of the value",
       "hash(user.id) % 10 == 0"},
      // aggregates
      {"count", kA, 0, 1, IntResult, "count([x]) -> int", "rows (with x: rows where x is not null)",
       "summarize count() by service"},
      {"countif", kA, 1, 1, CountifRule, "countif(predicate: bool) -> int",
       "rows where the predicate is true", "summarize countif(status == \"error\")"},
      {"sum", kA, 1, 1, SumRule, "sum(x: number | duration) -> same",
       "sum of the values (integers wrap)", "summarize sum(duration) by service"},
      {"avg", kA, 1, 1, AvgRule, "avg(x: number | duration) -> float", "mean of the values",
       "summarize avg(http.status_code)"},
      {"min", kA, 1, 1, OrderedInput, "min(x) -> same", "least value", "summarize min(timestamp)"},
      {"max", kA, 1, 1, OrderedInput, "max(x) -> same", "greatest value",
       "summarize max(duration)"},
      {"any", kA, 1, 1, SameAsInput, "any(x) -> same", "some non-null value of the group",
       "summarize any(name) by trace_id"},
      {"dcount", kA, 1, 1, IntResult, "dcount(x) -> int",
       "approximate number of distinct values (HyperLogLog; at most 2% error at 1M distinct)",
       "summarize dcount(user.id)"},
      {"dcount_exact", kA, 1, 1, IntResult, "dcount_exact(x) -> int",
       "exact number of distinct values", "summarize dcount_exact(user.id)"},
      {"median", kA, 1, 1, QuantileRule, "median(x) -> quantile type",
       "approximate median (at most 1% relative error)", "summarize median(duration)"},
      {"percentile", kA, 2, 2, QuantileRule, "percentile(x, q: number) -> quantile type",
       "approximate q-th percentile, q in [0, 100] (at most 1% relative error)",
       "summarize percentile(duration, 99.9)"},
      {"percentile_exact", kA, 2, 2, QuantileRule,
       "percentile_exact(x, q: number) -> quantile type",
       "exact q-th percentile with linear interpolation (SQL quantile_cont)",
       "summarize percentile_exact(duration, 50)"},
      {"p001", kA, 1, 1, QuantileRule, "p001(x) -> quantile type", "approximate 0.1th percentile",
       "summarize p001(duration)"},
      {"p01", kA, 1, 1, QuantileRule, "p01(x) -> quantile type", "approximate 1st percentile",
       "summarize p01(duration)"},
      {"p05", kA, 1, 1, QuantileRule, "p05(x) -> quantile type", "approximate 5th percentile",
       "summarize p05(duration)"},
      {"p10", kA, 1, 1, QuantileRule, "p10(x) -> quantile type", "approximate 10th percentile",
       "summarize p10(duration)"},
      {"p25", kA, 1, 1, QuantileRule, "p25(x) -> quantile type", "approximate 25th percentile",
       "summarize p25(duration)"},
      {"p50", kA, 1, 1, QuantileRule, "p50(x) -> quantile type", "approximate median",
       "summarize p50(duration)"},
      {"p75", kA, 1, 1, QuantileRule, "p75(x) -> quantile type", "approximate 75th percentile",
       "summarize p75(duration)"},
      {"p90", kA, 1, 1, QuantileRule, "p90(x) -> quantile type", "approximate 90th percentile",
       "summarize p90(duration)"},
      {"p95", kA, 1, 1, QuantileRule, "p95(x) -> quantile type", "approximate 95th percentile",
       "summarize p95(duration)"},
      {"p99", kA, 1, 1, QuantileRule, "p99(x) -> quantile type", "approximate 99th percentile",
       "summarize p99(duration) by http.route"},
      {"p999", kA, 1, 1, QuantileRule, "p999(x) -> quantile type", "approximate 99.9th percentile",
       "summarize p999(duration)"},
      {"stdev", kA, 1, 1, StatsRule, "stdev(x: number | duration) -> float",
       "sample standard deviation (n - 1)", "summarize stdev(duration)"},
      {"variance", kA, 1, 1, StatsRule, "variance(x: number | duration) -> float",
       "sample variance (n - 1)", "summarize variance(duration)"},
      {"arg_min", kA, 2, 2, ArgRule, "arg_min(by, x) -> type of x",
       "x at the row with the least `by`", "summarize arg_min(duration, name)"},
      {"arg_max", kA, 2, 2, ArgRule, "arg_max(by, x) -> type of x",
       "x at the row with the greatest `by`", "summarize arg_max(duration, trace_id) by service"},
      {"rate", kA, 0, 1, RateRule, "rate([x: number]) -> float",
       "per second over the `bin(timestamp, W)` key's width: count, or sum(x)",
       "summarize rate() by bin(timestamp, 1m)"},
      {"histogram", kA, 2, 2, HistogramRule, "histogram(x, bucket) -> dynamic",
       "an object from each bucket's lower bound to its count",
       "summarize histogram(duration, 100ms)"},
      {"make_set", kA, 1, 2, CollectRule, "make_set(x [, max: int]) -> dynamic",
       "array of the distinct values (at most `max`)", "summarize make_set(service) by trace_id"},
      {"make_list", kA, 1, 2, CollectRule, "make_list(x [, max: int]) -> dynamic",
       "array of the values in input order (at most `max`)",
       "summarize make_list(name, 10) by trace_id"},
  };
  return t;
}

}  // namespace

const std::vector<FunctionInfo>& AllFunctions() {
  static const std::vector<FunctionInfo> table = BuildTable();
  return table;
}

const FunctionInfo* FindFunction(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  for (const FunctionInfo& f : AllFunctions()) {
    if (f.name == lower) return &f;
  }
  return nullptr;
}

std::vector<std::string> FunctionNames() {
  std::vector<std::string> names;
  for (const FunctionInfo& f : AllFunctions()) names.emplace_back(f.name);
  return names;
}

}  // namespace tql
