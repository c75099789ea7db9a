//! Catalog: the sources a query may read, by name, with their schemas and whether unknown
//! attributes are allowed (open schemas, the default for NDJSON and OTLP data).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/types.h"

namespace tql {

class Catalog {
 public:
  // `open`: a name that is no column reads as null (with a warning) instead of an error.
  void Add(std::string name, SchemaPtr schema, bool open = true) {
    sources_[std::move(name)] = {std::move(schema), open};
  }
  SchemaPtr Find(const std::string& name) const {
    auto it = sources_.find(name);
    return it == sources_.end() ? nullptr : it->second.schema;
  }
  bool IsOpen(const std::string& name) const {
    auto it = sources_.find(name);
    return it == sources_.end() || it->second.open;
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& [name, source] : sources_) names.push_back(name);
    return names;
  }

 private:
  struct Source {
    SchemaPtr schema;
    bool open = true;
  };
  std::map<std::string, Source> sources_;
};

// The conventional span and log columns (LANGUAGE.md section 2) that `tql gen` and the OTLP
// reader produce: the schema assumed for a query checked without a sample.
inline std::vector<Field> ConventionalColumns() {
  using T = TypeId;
  return {{"timestamp", T::kTimestamp},   {"duration", T::kDuration},  {"trace_id", T::kString},
          {"span_id", T::kString},        {"parent_id", T::kString},   {"name", T::kString},
          {"service", T::kString},        {"kind", T::kString},        {"status", T::kString},
          {"status_message", T::kString}, {"http.method", T::kString}, {"http.route", T::kString},
          {"http.status_code", T::kInt},  {"user.id", T::kString},     {"cloud.region", T::kString},
          {"faas.coldstart", T::kBool},   {"db.system", T::kString},   {"db.statement", T::kString},
          {"error.type", T::kString},     {"severity", T::kString},    {"message", T::kString}};
}

}  // namespace tql
