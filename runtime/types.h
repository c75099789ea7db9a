//! Column types of the data model (LANGUAGE.md section 2), fields and schemas.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tql {

// kNull is the type of a column (or literal) whose every value is null; the other seven are the
// types a user writes. The storage of each is described in docs/data-model.md.
enum class TypeId : uint8_t {
  kNull,
  kBool,       // bit-packed, Arrow "b"
  kInt,        // int64
  kFloat,      // float64
  kString,     // UTF-8, int32 offsets + data, optionally dictionary-encoded
  kTimestamp,  // int64 nanoseconds since the Unix epoch, UTC
  kDuration,   // int64 nanoseconds
  kDynamic,    // JSON text, stored like a string
};

inline constexpr int kNumTypes = 8;

std::string_view TypeName(TypeId type);
std::optional<TypeId> TypeFromName(std::string_view name);

// True for the types whose values are stored as int64.
inline bool IsInt64Backed(TypeId t) {
  return t == TypeId::kInt || t == TypeId::kTimestamp || t == TypeId::kDuration;
}
// True for the types whose values are stored as offsets + UTF-8 bytes.
inline bool IsStringBacked(TypeId t) {
  return t == TypeId::kString || t == TypeId::kDynamic;
}

struct Field {
  std::string name;
  TypeId type = TypeId::kNull;

  bool operator==(const Field&) const = default;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields);

  int num_fields() const { return static_cast<int>(fields_.size()); }
  const Field& field(int i) const { return fields_[i]; }
  const std::vector<Field>& fields() const { return fields_; }
  // Index of the column with exactly this name, or -1.
  int IndexOf(std::string_view name) const;
  // A stable 64-bit fingerprint of names and types (used as a cache key by the JIT).
  uint64_t Fingerprint() const;
  std::string ToString() const;

  bool operator==(const Schema& other) const { return fields_ == other.fields_; }

 private:
  std::vector<Field> fields_;
  std::unordered_map<std::string, int> index_;
};

using SchemaPtr = std::shared_ptr<const Schema>;

}  // namespace tql
