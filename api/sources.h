//! The sources behind a `tql_catalog`: resident tables (files, Arrow arrays), Arrow streams
//! read once, and host callbacks opened per scan; and the `tql_scan` that tells a host what a
//! scan reads.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frontend/catalog.h"
#include "planner/executor.h"
#include "runtime/arrow_bridge.h"
#include "tql/tql.h"

// What one scan reads: the strings the C accessors hand out live here.
struct tql_scan {
  std::string source;
  std::vector<std::string> columns;
  struct Predicate {
    std::string column;
    tql_compare_op op = TQL_OP_EQ;
    tql::Value value;
    std::string text;
  };
  std::vector<Predicate> predicates;
};

namespace tql::api {

std::unique_ptr<tql_scan> MakeScan(const ScanRequest& request);
// Fills `out` with the index-th predicate (borrowing the scan's strings); false past the end.
bool ScanPredicateAt(const tql_scan& scan, size_t index, tql_predicate* out);

// Releases an Arrow array handed to the API unless Take moved it elsewhere: the API owns
// what it is given even when it fails early.
class ArrayGuard {
 public:
  explicit ArrayGuard(ArrowArray* array) : array_(array) {}
  ~ArrayGuard() {
    if (array_ != nullptr && array_->release != nullptr) array_->release(array_);
  }
  ArrayGuard(const ArrayGuard&) = delete;
  ArrayGuard& operator=(const ArrayGuard&) = delete;
  ArrowArray Take() {
    ArrowArray moved = *array_;
    array_->release = nullptr;
    return moved;
  }

 private:
  ArrowArray* array_;
};

class StreamGuard {
 public:
  explicit StreamGuard(ArrowArrayStream* stream) : stream_(stream) {}
  ~StreamGuard() {
    if (stream_ != nullptr && stream_->release != nullptr) stream_->release(stream_);
  }
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;
  ArrowArrayStream Take() {
    ArrowArrayStream moved = *stream_;
    stream_->release = nullptr;
    return moved;
  }

 private:
  ArrowArrayStream* stream_;
};

// Imports a struct array whose columns are matched by name to `schema`'s: every column of
// `schema` must be there with its type, extra columns are ignored. Takes `array`.
Result<Batch> ImportByName(const std::string& source, const SchemaPtr& schema,
                           const ArrowSchema& array_schema, ArrowArray array);

// Copyable: a compiled query keeps a copy of its catalog's sources (tables share their
// batches, streams and callbacks are shared).
class SourceSet {
 public:
  // Appends a batch to the resident source `name` (created with `schema` on first use).
  Status AddArray(const std::string& name, const ArrowSchema& schema, ArrowArray array);
  Status AddStream(const std::string& name, ArrowArrayStream stream);
  Status AddCallbacks(const std::string& name, const ArrowSchema& schema,
                      const tql_source_callbacks& callbacks);
  Status AddTable(const std::string& name, Table table, bool open);
  // A schema only: the batches come through a push.
  Status AddDeclared(const std::string& name, const ArrowSchema& schema);

  const Catalog& catalog() const { return catalog_; }
  const SourceTables& tables() const { return tables_; }
  const StreamSources& streams() const { return streams_; }
  size_t size() const { return names_.size(); }
  const char* name(size_t index) const;

 private:
  Status CheckNew(const std::string& name) const;
  void Register(const std::string& name, SchemaPtr schema, bool open);

  Catalog catalog_;
  SourceTables tables_;
  StreamSources streams_;
  std::map<std::string, std::shared_ptr<const ArrowImporter>> importers_;  // of AddArray
  std::vector<std::string> names_;                                         // sorted
};

}  // namespace tql::api
