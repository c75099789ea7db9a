//! Value: one scalar of any type, for constants, parameters and the row-at-a-time paths of the
//! interpreter (functions, dynamic values). Strings and dynamic values own their text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/types.h"
#include "runtime/vector.h"

namespace tql {

struct Value {
  TypeId type = TypeId::kNull;
  bool null = true;
  int64_t i = 0;  // bool (0/1), int, timestamp, duration
  double f = 0;   // float
  std::string s;  // string; dynamic: JSON text

  static Value Null(TypeId type = TypeId::kNull) { return Value{type, true, 0, 0, {}}; }
  static Value Bool(bool b) { return Value{TypeId::kBool, false, b ? 1 : 0, 0, {}}; }
  static Value Int(int64_t v) { return Value{TypeId::kInt, false, v, 0, {}}; }
  static Value Float(double v) { return Value{TypeId::kFloat, false, 0, v, {}}; }
  static Value Timestamp(int64_t v) { return Value{TypeId::kTimestamp, false, v, 0, {}}; }
  static Value Duration(int64_t v) { return Value{TypeId::kDuration, false, v, 0, {}}; }
  static Value String(std::string v) { return Value{TypeId::kString, false, 0, 0, std::move(v)}; }
  static Value Dynamic(std::string json) {
    return Value{TypeId::kDynamic, false, 0, 0, std::move(json)};
  }

  bool operator==(const Value&) const = default;
};

// Reads row `row` of `v` into `out` (reusing its string's capacity).
void ReadValue(const Vector& v, int64_t row, Value* out);

// The value converted to `to` with the rules of the cast functions (tostring, toint, ...):
// null when it does not convert. Dynamic values convert from their JSON value.
Value CastValue(const Value& v, TypeId to);

// The value as text: strings as they are, timestamps RFC 3339, durations `1.5s`, floats
// shortest round-trip, dynamic JSON strings without quotes (other JSON as its text).
std::string ValueToText(const Value& v);

// The value as JSON text (for dynamic results): strings quoted, timestamps as RFC 3339
// strings, durations as nanoseconds.
std::string ValueToJson(const Value& v);

// A dynamic value's JSON text read as the kind of scalar it holds: a JSON string as a string,
// a number as an int (when integral and in range) or a float, true/false as a bool, null as
// null; objects and arrays stay dynamic.
Value DecodeDynamic(std::string_view json);

// Total order of two non-null values of the same type (strings by code point, false < true,
// NaN above every other float): negative, zero or positive.
int CompareValues(const Value& a, const Value& b);

// Float text as the engine prints it: shortest round-trip, `NaN`, `inf`, `-inf`.
std::string FormatFloatText(double d);

}  // namespace tql
