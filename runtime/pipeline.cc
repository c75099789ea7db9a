#include "runtime/pipeline.h"

#include <algorithm>

namespace tql {

Status LimitOperator::Consume(const Batch& batch) {
  if (remaining_ <= 0) return Status::Ok();
  if (batch.num_rows() <= remaining_) {
    remaining_ -= batch.num_rows();
    return next_->Consume(batch);
  }
  const int64_t n = remaining_;
  remaining_ = 0;
  return next_->Consume(batch.Slice(0, n));
}

Status CollectSink::Consume(const Batch& batch) {
  if (batch.num_rows() > 0) table_.batches.push_back(batch);
  return Status::Ok();
}

Status RunScan(const Table& input, const std::vector<int>& columns, BatchConsumer* root,
               ScanStats* stats) {
  std::vector<Field> fields;
  for (int c : columns) fields.push_back(input.schema->field(c));
  auto schema = std::make_shared<Schema>(std::move(fields));
  for (const Batch& batch : input.batches) {
    if (root->Satisfied()) break;
    std::vector<Vector> vectors;
    vectors.reserve(columns.size());
    for (int c : columns) vectors.push_back(batch.column(c));
    TQL_RETURN_IF_ERROR(root->Consume(Batch(schema, std::move(vectors), batch.num_rows())));
    ++stats->batches_read;
    stats->rows_read += batch.num_rows();
  }
  return root->Finish();
}

}  // namespace tql
