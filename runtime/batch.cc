#include "runtime/batch.h"

namespace tql {

namespace {
Status CheckShape(const Schema& schema, const std::vector<Vector>& columns, int64_t num_rows) {
  if (static_cast<int>(columns.size()) != schema.num_fields()) {
    return Status::InvalidInput("batch has {} columns but its schema has {}", columns.size(),
                                schema.num_fields());
  }
  for (int i = 0; i < schema.num_fields(); ++i) {
    const Field& f = schema.field(i);
    if (columns[i].type() != f.type) {
      return Status::InvalidInput("column '{}' is declared {} but holds {}", f.name,
                                  TypeName(f.type), TypeName(columns[i].type()));
    }
    if (columns[i].length() != num_rows) {
      return Status::InvalidInput("column '{}' has {} rows, the batch has {}", f.name,
                                  columns[i].length(), num_rows);
    }
  }
  return Status::Ok();
}
}  // namespace

Batch::Batch(SchemaPtr schema, std::vector<Vector> columns, int64_t num_rows)
    : schema_(std::move(schema)), columns_(std::move(columns)), num_rows_(num_rows) {
  TQL_CHECK(CheckShape(*schema_, columns_, num_rows_).ok());
}

Result<Batch> Batch::Make(SchemaPtr schema, std::vector<Vector> columns, int64_t num_rows) {
  TQL_RETURN_IF_ERROR(CheckShape(*schema, columns, num_rows));
  return Batch(std::move(schema), std::move(columns), num_rows);
}

Batch Batch::Slice(int64_t offset, int64_t length) const {
  std::vector<Vector> cols;
  cols.reserve(columns_.size());
  for (const Vector& v : columns_) cols.push_back(v.Slice(offset, length));
  return Batch(schema_, std::move(cols), length);
}

int64_t Table::num_rows() const {
  int64_t n = 0;
  for (const Batch& b : batches) n += b.num_rows();
  return n;
}

Table Table::FromBatch(const Batch& batch, int64_t rows_per_batch) {
  Table t;
  t.schema = batch.schema();
  for (int64_t off = 0; off < batch.num_rows(); off += rows_per_batch) {
    t.batches.push_back(batch.Slice(off, std::min(rows_per_batch, batch.num_rows() - off)));
  }
  return t;
}

}  // namespace tql
