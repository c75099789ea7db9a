//! Small constructors for vectors and batches in tests.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "runtime/batch.h"

namespace tql::test {

using OptInt = std::optional<int64_t>;
using OptStr = std::optional<std::string>;

inline std::shared_ptr<Buffer> ValidityOf(const std::vector<bool>& valid) {
  auto b =
      Buffer::Allocate(static_cast<size_t>(bits::BytesFor(static_cast<int64_t>(valid.size()))));
  for (size_t i = 0; i < valid.size(); ++i) {
    if (valid[i]) bits::Set(b->mutable_data(), static_cast<int64_t>(i));
  }
  return b;
}

inline Vector Int64s(const std::vector<OptInt>& values, TypeId type = TypeId::kInt) {
  std::vector<int64_t> raw;
  std::vector<bool> valid;
  for (const auto& v : values) {
    raw.push_back(v.value_or(0));
    valid.push_back(v.has_value());
  }
  return Vector::Fixed(type, static_cast<int64_t>(values.size()), Buffer::CopyOf(raw),
                       ValidityOf(valid));
}

inline Vector Floats(const std::vector<std::optional<double>>& values) {
  std::vector<double> raw;
  std::vector<bool> valid;
  for (const auto& v : values) {
    raw.push_back(v.value_or(0));
    valid.push_back(v.has_value());
  }
  return Vector::Fixed(TypeId::kFloat, static_cast<int64_t>(values.size()), Buffer::CopyOf(raw),
                       ValidityOf(valid));
}

inline Vector Bools(const std::vector<std::optional<bool>>& values) {
  std::vector<bool> bitsv, valid;
  for (const auto& v : values) {
    bitsv.push_back(v.value_or(false));
    valid.push_back(v.has_value());
  }
  return Vector::Fixed(TypeId::kBool, static_cast<int64_t>(values.size()), ValidityOf(bitsv),
                       ValidityOf(valid));
}

inline Vector Strings(const std::vector<OptStr>& values, TypeId type = TypeId::kString) {
  std::vector<int32_t> offsets{0};
  std::string data;
  std::vector<bool> valid;
  for (const auto& v : values) {
    if (v) data += *v;
    offsets.push_back(static_cast<int32_t>(data.size()));
    valid.push_back(v.has_value());
  }
  return Vector::Strings(type, static_cast<int64_t>(values.size()), Buffer::CopyOf(offsets),
                         Buffer::CopyOf(data.data(), data.size()), ValidityOf(valid));
}

// Dictionary-encoded strings: codes index `dictionary`; a null code is a null row.
inline Vector DictStrings(const std::vector<std::string>& dictionary,
                          const std::vector<std::optional<int32_t>>& codes) {
  std::vector<OptStr> dict_values(dictionary.begin(), dictionary.end());
  auto dict = std::make_shared<const Vector>(Strings(dict_values));
  std::vector<int32_t> raw;
  std::vector<bool> valid;
  for (const auto& c : codes) {
    raw.push_back(c.value_or(0));
    valid.push_back(c.has_value());
  }
  return Vector::Dictionary(static_cast<int64_t>(codes.size()), Buffer::CopyOf(raw),
                            ValidityOf(valid), dict);
}

inline Batch MakeBatch(std::vector<std::pair<std::string, Vector>> columns) {
  std::vector<Field> fields;
  std::vector<Vector> vectors;
  for (auto& [name, v] : columns) {
    fields.push_back({name, v.type()});
    vectors.push_back(std::move(v));
  }
  const int64_t rows = vectors.empty() ? 0 : vectors.front().length();
  return Batch(std::make_shared<Schema>(std::move(fields)), std::move(vectors), rows);
}

// Row `i` of a vector as text for comparisons: "null" or the value.
inline std::string CellText(const Vector& v, int64_t i) {
  if (v.IsNull(i)) return "null";
  switch (v.type()) {
    case TypeId::kNull:
      return "null";
    case TypeId::kBool:
      return v.GetBool(i) ? "true" : "false";
    case TypeId::kFloat:
      return fmt::format("{}", v.GetFloat(i));
    case TypeId::kString:
    case TypeId::kDynamic:
      return std::string(v.GetString(i));
    default:
      return fmt::format("{}", v.GetInt64(i));
  }
}

inline std::vector<std::string> ColumnText(const Vector& v) {
  std::vector<std::string> out;
  for (int64_t i = 0; i < v.length(); ++i) out.push_back(CellText(v, i));
  return out;
}

// Column `name` of a whole table, as text.
inline std::vector<std::string> ColumnText(const Table& t, const std::string& name) {
  std::vector<std::string> out;
  const int c = t.schema->IndexOf(name);
  if (c < 0) return {"<no column " + name + ">"};
  for (const Batch& b : t.batches) {
    for (const std::string& s : ColumnText(b.column(c))) out.push_back(s);
  }
  return out;
}

}  // namespace tql::test
