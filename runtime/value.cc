#include "runtime/value.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>

#include "runtime/table_builder.h"
#include "runtime/time_format.h"

namespace tql {

void ReadValue(const Vector& v, int64_t row, Value* out) {
  out->type = v.type();
  if (v.type() == TypeId::kNull || v.IsNull(row)) {
    out->null = true;
    return;
  }
  out->null = false;
  switch (v.type()) {
    case TypeId::kNull:
      break;
    case TypeId::kBool:
      out->i = v.GetBool(row) ? 1 : 0;
      break;
    case TypeId::kInt:
    case TypeId::kTimestamp:
    case TypeId::kDuration:
      out->i = v.GetInt64(row);
      break;
    case TypeId::kFloat:
      out->f = v.GetFloat(row);
      break;
    case TypeId::kString:
    case TypeId::kDynamic:
      out->s.assign(v.GetString(row));
      break;
  }
}

std::string FormatFloatText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  return fmt::format("{}", d);
}

namespace {

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

std::optional<int64_t> ParseInt(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::optional<double> ParseFloat(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

// A float truncated toward zero, or null when it does not fit an int64.
Value TruncateToInt(double d) {
  if (!std::isfinite(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
    return Value::Null(TypeId::kInt);
  }
  return Value::Int(static_cast<int64_t>(d));
}

// The text form durations print in (`1m30s`, `26h3m0.5s`, `-1.5s`): units in decreasing
// order, each a number and one unit.
std::optional<int64_t> ParseCompoundDuration(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  static constexpr std::string_view kUnits[] = {"h", "m", "s", "ms", "us", "ns"};
  int next_unit = 0;  // units must decrease
  int64_t total = 0;
  while (!text.empty()) {
    size_t n = 0;
    while (n < text.size() && ((text[n] >= '0' && text[n] <= '9') || text[n] == '.')) ++n;
    size_t u = n;
    while (u < text.size() && !((text[u] >= '0' && text[u] <= '9') || text[u] == '.')) ++u;
    if (n == 0 || u == n) return std::nullopt;
    const std::string_view unit = text.substr(n, u - n);
    int index = -1;
    for (int k = next_unit; k < 6; ++k) {
      if (kUnits[k] == unit) index = k;
    }
    if (index < 0) return std::nullopt;
    std::optional<int64_t> part = ParseDuration(text.substr(0, u));
    if (!part) return std::nullopt;
    if (__builtin_add_overflow(total, *part, &total)) return std::nullopt;
    next_unit = index + 1;
    text.remove_prefix(u);
  }
  return negative ? -total : total;
}

}  // namespace

Value DecodeDynamic(std::string_view json) {
  simdjson::dom::element e;
  if (ThreadParser().parse(json.data(), json.size()).get(e) != simdjson::SUCCESS) {
    return Value::Null(TypeId::kDynamic);
  }
  switch (e.type()) {
    case simdjson::dom::element_type::STRING:
      return Value::String(std::string(e.get_string().value_unsafe()));
    case simdjson::dom::element_type::INT64:
      return Value::Int(e.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:
      return Value::Float(static_cast<double>(e.get_uint64().value_unsafe()));
    case simdjson::dom::element_type::DOUBLE:
      return Value::Float(e.get_double().value_unsafe());
    case simdjson::dom::element_type::BOOL:
      return Value::Bool(e.get_bool().value_unsafe());
    case simdjson::dom::element_type::NULL_VALUE:
      return Value::Null(TypeId::kDynamic);
    default:
      return Value::Dynamic(std::string(json));
  }
}

std::string ValueToText(const Value& v) {
  if (v.null) return "";
  switch (v.type) {
    case TypeId::kNull:
      return "";
    case TypeId::kBool:
      return v.i ? "true" : "false";
    case TypeId::kInt:
      return fmt::format("{}", v.i);
    case TypeId::kFloat:
      return FormatFloatText(v.f);
    case TypeId::kString:
      return v.s;
    case TypeId::kTimestamp:
      return FormatTimestamp(v.i);
    case TypeId::kDuration:
      return FormatDuration(v.i);
    case TypeId::kDynamic: {
      Value d = DecodeDynamic(v.s);
      if (d.null) return "";
      return d.type == TypeId::kDynamic ? d.s : ValueToText(d);
    }
  }
  return "";
}

std::string ValueToJson(const Value& v) {
  if (v.null) return "null";
  switch (v.type) {
    case TypeId::kNull:
      return "null";
    case TypeId::kBool:
      return v.i ? "true" : "false";
    case TypeId::kInt:
    case TypeId::kDuration:
      return fmt::format("{}", v.i);
    case TypeId::kFloat:
      return std::isfinite(v.f) ? fmt::format("{}", v.f) : "null";
    case TypeId::kString: {
      std::string out;
      AppendJsonString(&out, v.s);
      return out;
    }
    case TypeId::kTimestamp: {
      std::string out;
      AppendJsonString(&out, FormatTimestamp(v.i));
      return out;
    }
    case TypeId::kDynamic:
      return v.s;
  }
  return "null";
}

Value CastValue(const Value& v, TypeId to) {
  if (v.null) return Value::Null(to);
  if (v.type == to) return v;
  if (v.type == TypeId::kDynamic) {
    if (to == TypeId::kString) return Value::String(ValueToText(v));
    Value d = DecodeDynamic(v.s);
    if (d.null || d.type == TypeId::kDynamic) return Value::Null(to);
    return CastValue(d, to);
  }
  switch (to) {
    case TypeId::kNull:
      return Value::Null();
    case TypeId::kString:
      return Value::String(ValueToText(v));
    case TypeId::kDynamic:
      // JSON has no NaN or infinity.
      if (v.type == TypeId::kFloat && !std::isfinite(v.f)) return Value::Null(to);
      return Value::Dynamic(ValueToJson(v));
    case TypeId::kBool:
      switch (v.type) {
        case TypeId::kInt:
          return v.i == 0 || v.i == 1 ? Value::Bool(v.i == 1) : Value::Null(to);
        case TypeId::kFloat:
          return v.f == 0 || v.f == 1 ? Value::Bool(v.f == 1) : Value::Null(to);
        case TypeId::kString:
          if (v.s == "true" || v.s == "True" || v.s == "TRUE" || v.s == "1") {
            return Value::Bool(true);
          }
          if (v.s == "false" || v.s == "False" || v.s == "FALSE" || v.s == "0") {
            return Value::Bool(false);
          }
          return Value::Null(to);
        default:
          return Value::Null(to);
      }
    case TypeId::kInt:
      switch (v.type) {
        case TypeId::kBool:
        case TypeId::kTimestamp:
        case TypeId::kDuration:
          return Value::Int(v.i);
        case TypeId::kFloat:
          return TruncateToInt(v.f);
        case TypeId::kString:
          if (auto i = ParseInt(v.s)) return Value::Int(*i);
          if (auto f = ParseFloat(v.s)) return TruncateToInt(*f);
          return Value::Null(to);
        default:
          return Value::Null(to);
      }
    case TypeId::kFloat:
      switch (v.type) {
        case TypeId::kBool:
        case TypeId::kInt:
        case TypeId::kTimestamp:
        case TypeId::kDuration:
          return Value::Float(static_cast<double>(v.i));
        case TypeId::kString:
          if (auto f = ParseFloat(v.s)) return Value::Float(*f);
          return Value::Null(to);
        default:
          return Value::Null(to);
      }
    case TypeId::kTimestamp:
      switch (v.type) {
        case TypeId::kInt:
        case TypeId::kDuration:
          return Value::Timestamp(v.i);
        case TypeId::kFloat: {
          Value i = TruncateToInt(v.f);
          return i.null ? Value::Null(to) : Value::Timestamp(i.i);
        }
        case TypeId::kString:
          if (auto t = ParseTimestamp(v.s)) return Value::Timestamp(*t);
          return Value::Null(to);
        default:
          return Value::Null(to);
      }
    case TypeId::kDuration:
      switch (v.type) {
        case TypeId::kInt:
        case TypeId::kTimestamp:
          return Value::Duration(v.i);
        case TypeId::kFloat: {
          Value i = TruncateToInt(v.f);
          return i.null ? Value::Null(to) : Value::Duration(i.i);
        }
        case TypeId::kString: {
          bool exact = true;
          if (auto d = ParseDuration(v.s, &exact)) return Value::Duration(*d);
          if (auto d = ParseCompoundDuration(v.s)) return Value::Duration(*d);
          if (auto i = ParseInt(v.s)) return Value::Duration(*i);
          return Value::Null(to);
        }
        default:
          return Value::Null(to);
      }
  }
  return Value::Null(to);
}

int CompareValues(const Value& a, const Value& b) {
  switch (a.type) {
    case TypeId::kFloat: {
      const bool an = std::isnan(a.f), bn = std::isnan(b.f);
      if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
      return a.f < b.f ? -1 : (a.f > b.f ? 1 : 0);
    }
    case TypeId::kString:
    case TypeId::kDynamic: {
      const int c = std::string_view(a.s).compare(std::string_view(b.s));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    default:
      return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  }
}

}  // namespace tql
