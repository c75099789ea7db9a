#include "runtime/types.h"

#include <fmt/format.h>

namespace tql {

namespace {
constexpr std::string_view kTypeNames[kNumTypes] = {"null",   "bool",      "int",      "float",
                                                    "string", "timestamp", "duration", "dynamic"};
}  // namespace

std::string_view TypeName(TypeId type) {
  return kTypeNames[static_cast<int>(type)];
}

std::optional<TypeId> TypeFromName(std::string_view name) {
  for (int i = 0; i < kNumTypes; ++i) {
    if (kTypeNames[i] == name) return static_cast<TypeId>(i);
  }
  return std::nullopt;
}

Schema::Schema(std::vector<Field> fields) : fields_(std::move(fields)) {
  for (int i = 0; i < num_fields(); ++i) index_.emplace(fields_[i].name, i);
}

int Schema::IndexOf(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? -1 : it->second;
}

uint64_t Schema::Fingerprint() const {
  // FNV-1a over "name\0type\0" pairs: stable across runs and platforms.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (const Field& f : fields_) {
    for (char c : f.name) mix(static_cast<unsigned char>(c));
    mix(0);
    mix(static_cast<unsigned char>(f.type));
    mix(0);
  }
  return h;
}

std::string Schema::ToString() const {
  std::string out;
  for (const Field& f : fields_) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}: {}", f.name, TypeName(f.type));
  }
  return out;
}

}  // namespace tql
