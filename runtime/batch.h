//! Batch: a set of equally long column vectors with a schema; Table: batches of one schema.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/status.h"
#include "runtime/types.h"
#include "runtime/vector.h"

namespace tql {

// Rows per batch produced by the readers: a multiple of 8 so slices keep bitmaps byte-aligned.
inline constexpr int64_t kDefaultBatchRows = 8192;

class Batch {
 public:
  Batch() = default;
  // REQUIRES: one vector per field, each of the field's type and `num_rows` long.
  Batch(SchemaPtr schema, std::vector<Vector> columns, int64_t num_rows);
  // Like the constructor, but reports a mismatch as an error instead of failing a check.
  static Result<Batch> Make(SchemaPtr schema, std::vector<Vector> columns, int64_t num_rows);

  const SchemaPtr& schema() const { return schema_; }
  int num_columns() const { return static_cast<int>(columns_.size()); }
  int64_t num_rows() const { return num_rows_; }
  const Vector& column(int i) const { return columns_[i]; }
  const std::vector<Vector>& columns() const { return columns_; }
  Batch Slice(int64_t offset, int64_t length) const;

 private:
  SchemaPtr schema_;
  std::vector<Vector> columns_;
  int64_t num_rows_ = 0;
};

struct Table {
  SchemaPtr schema;
  std::vector<Batch> batches;

  int64_t num_rows() const;
  // Splits one long batch into batches of at most `rows_per_batch` rows (zero-copy).
  static Table FromBatch(const Batch& batch, int64_t rows_per_batch = kDefaultBatchRows);
};

}  // namespace tql
