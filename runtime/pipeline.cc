#include "runtime/pipeline.h"

#include <fmt/format.h>

#include <algorithm>

#include "runtime/vector_writer.h"

namespace tql {

Status CollectSink::Consume(Chunk& chunk) {
  if (chunk.sel.empty()) return Status::Ok();
  if (chunk.sel.dense() && chunk.sel.count() == chunk.batch.num_rows()) {
    table_.batches.push_back(chunk.batch);
  } else {
    std::vector<Vector> cols;
    cols.reserve(static_cast<size_t>(chunk.batch.num_columns()));
    for (const Vector& v : chunk.batch.columns()) cols.push_back(Gather(v, chunk.sel));
    table_.batches.emplace_back(table_.schema, std::move(cols), chunk.sel.count());
  }
  if (control_ == nullptr) return Status::Ok();
  return control_->Reserve(BatchMemory(table_.batches.back()), what_);
}

std::string ScanPredicate::ToString(const Schema& schema) const {
  Value c = constant;
  std::string text = c.type == TypeId::kTimestamp ? ValueToText(c)
                     : c.type == TypeId::kString  ? ValueToJson(c)
                                                  : ValueToText(c);
  return fmt::format("{} {} {}", schema.field(column).name, CompareOpText(op), text);
}

bool ScanPredicate::MayMatch(const ColumnStats& s) const {
  if (!s.has_values && !s.has_nan) return false;  // every value is null: nothing compares true
  if (constant.type == TypeId::kString) return op != CompareOp::kEq || s.MayContain(constant.s);
  int lo_cmp, hi_cmp;  // sign of (min - c) and (max - c)
  if (constant.type == TypeId::kFloat) {
    // NaN sorts above every number; min/max (which exclude NaN) cannot refute it.
    if (s.has_nan || constant.f != constant.f) return true;
    lo_cmp = s.min_float < constant.f ? -1 : (s.min_float > constant.f ? 1 : 0);
    hi_cmp = s.max_float < constant.f ? -1 : (s.max_float > constant.f ? 1 : 0);
  } else {
    lo_cmp = s.min_int < constant.i ? -1 : (s.min_int > constant.i ? 1 : 0);
    hi_cmp = s.max_int < constant.i ? -1 : (s.max_int > constant.i ? 1 : 0);
  }
  switch (op) {
    case CompareOp::kEq:
      return lo_cmp <= 0 && hi_cmp >= 0;
    case CompareOp::kNe:
      return !(lo_cmp == 0 && hi_cmp == 0);
    case CompareOp::kLt:
      return lo_cmp < 0;
    case CompareOp::kLe:
      return lo_cmp <= 0;
    case CompareOp::kGt:
      return hi_cmp > 0;
    case CompareOp::kGe:
      return hi_cmp >= 0;
  }
  return true;
}

Status ScanFeeder::Push(Batch batch) {
  const int64_t rows = batch.num_rows();
  if (control_ != nullptr) TQL_RETURN_IF_ERROR(control_->CheckScan(rows));
  for (const ScanPredicate& p : predicates_) {
    const ColumnStats* s = batch.column(p.column).stats();
    if (s != nullptr && !p.MayMatch(*s)) {
      ++stats_->batches_skipped;
      return Status::Ok();
    }
  }
  if (ScanPredicate bound; root_->Bound(&bound)) {
    const ColumnStats* s = batch.column(bound.column).stats();
    if (s != nullptr && !bound.MayMatch(*s)) {
      ++stats_->batches_skipped;
      return Status::Ok();
    }
  }
  ++stats_->batches_read;
  stats_->rows_read += rows;
  Chunk chunk{std::move(batch), Selection::All(rows)};
  return root_->Consume(chunk);
}

Result<bool> ScanFeeder::SkipSource(const Batch& batch, const std::vector<int>& columns) {
  auto refutes = [&](const ScanPredicate& p) {
    const int c = columns[static_cast<size_t>(p.column)];
    if (c >= batch.num_columns()) return false;  // a malformed batch: the projection says so
    const ColumnStats* s = batch.column(c).stats();
    return s != nullptr && !p.MayMatch(*s);
  };
  bool skip = false;
  for (const ScanPredicate& p : predicates_) skip = skip || refutes(p);
  if (ScanPredicate bound; !skip && root_->Bound(&bound)) skip = refutes(bound);
  if (!skip) return false;
  if (control_ != nullptr) TQL_RETURN_IF_ERROR(control_->CheckScan(batch.num_rows()));
  ++stats_->batches_skipped;
  return true;
}

int64_t BatchMemory(const Batch& batch) {
  int64_t bytes = 0;
  for (const Vector& v : batch.columns()) {
    for (const BufferPtr* b : {&v.validity_buffer(), &v.values_buffer(), &v.data_buffer()}) {
      if (*b) bytes += static_cast<int64_t>((*b)->size());
    }
  }
  return bytes;
}

std::string QueryControl::FormatBytes(int64_t bytes) {
  const auto b = static_cast<double>(bytes);
  if (b >= (1 << 30)) return fmt::format("{:.1f} GiB", b / (1 << 30));
  if (b >= (1 << 20)) return fmt::format("{:.1f} MiB", b / (1 << 20));
  if (b >= (1 << 10)) return fmt::format("{:.1f} KiB", b / (1 << 10));
  return fmt::format("{} bytes", bytes);
}

Result<Batch> ProjectSourceBatch(const std::string& source, const Schema& schema,
                                 const std::vector<int>& columns, const SchemaPtr& projected,
                                 const Batch& batch, int64_t index) {
  if (batch.num_columns() != schema.num_fields()) {
    return Status::InvalidInput("batch {} of source '{}' has {} columns, the source has {}", index,
                                source, batch.num_columns(), schema.num_fields());
  }
  std::vector<Vector> vectors;
  vectors.reserve(columns.size());
  for (int c : columns) {
    const Vector& v = batch.column(c);
    const Field& f = schema.field(c);
    if (v.type() != f.type || v.length() != batch.num_rows()) {
      return Status::InvalidInput(
          "batch {} of source '{}': column '{}' holds {} ({} rows), the source declares {} "
          "({} rows)",
          index, source, f.name, TypeName(v.type()), v.length(), TypeName(f.type),
          batch.num_rows());
    }
    vectors.push_back(v);
  }
  return Batch(projected, std::move(vectors), batch.num_rows());
}

namespace {

SchemaPtr Projected(const Schema& schema, const std::vector<int>& columns) {
  std::vector<Field> fields;
  for (int c : columns) fields.push_back(schema.field(c));
  return std::make_shared<Schema>(std::move(fields));
}

}  // namespace

Status RunScan(const std::string& source, const Table& input, const std::vector<int>& columns,
               const std::vector<ScanPredicate>& predicates, BatchConsumer* root, ScanStats* stats,
               QueryControl* control) {
  const SchemaPtr schema = Projected(*input.schema, columns);
  ScanFeeder step(predicates, root, stats, control);
  int64_t index = 0;
  for (const Batch& batch : input.batches) {
    ++index;
    if (root->Satisfied()) break;
    // Refuted by statistics: skipped before the batch is checked and projected.
    TQL_ASSIGN_OR_RETURN(bool skip, step.SkipSource(batch, columns));
    if (skip) continue;
    // A producer may hand over batches that disagree with the source's schema.
    TQL_ASSIGN_OR_RETURN(Batch projected,
                         ProjectSourceBatch(source, *input.schema, columns, schema, batch, index));
    TQL_RETURN_IF_ERROR(step.Push(std::move(projected)));
  }
  return root->Finish();
}

Status RunStreamScan(StreamSource& input, const ScanRequest& request, BatchConsumer* root,
                     ScanStats* stats, QueryControl* control) {
  // The stream's batches hold the request's columns in order: checked against them.
  const SchemaPtr schema = Projected(*request.schema, request.columns);
  std::vector<int> all(request.columns.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  if (control != nullptr) TQL_RETURN_IF_ERROR(control->Check());
  TQL_ASSIGN_OR_RETURN(std::unique_ptr<BatchStream> stream, input.Open(request));
  ScanFeeder step(request.predicates, root, stats, control);
  int64_t index = 0;
  while (!root->Satisfied()) {
    if (control != nullptr) TQL_RETURN_IF_ERROR(control->Check());
    TQL_ASSIGN_OR_RETURN(std::optional<Batch> batch, stream->Next());
    if (!batch) break;
    TQL_ASSIGN_OR_RETURN(Batch projected,
                         ProjectSourceBatch(request.source, *schema, all, schema, *batch, ++index));
    TQL_RETURN_IF_ERROR(step.Push(std::move(projected)));
  }
  return root->Finish();
}

Result<Batch> TakeRows(const SchemaPtr& schema, const std::vector<const Batch*>& batches,
                       const std::vector<std::pair<int32_t, int32_t>>& refs) {
  const auto n = static_cast<int64_t>(refs.size());
  std::vector<Vector> cols;
  for (int c = 0; c < schema->num_fields(); ++c) {
    const TypeId type = schema->field(c).type;
    // Encoded strings that all come from one dictionary stay encoded.
    const Vector* first = batches.empty() ? nullptr : &batches[0]->column(c);
    bool one_dictionary = first != nullptr && first->is_dictionary();
    for (const Batch* b : batches) {
      one_dictionary = one_dictionary && b->column(c).is_dictionary() &&
                       b->column(c).dictionary_ptr() == first->dictionary_ptr();
    }
    if (one_dictionary) {
      auto codes = Buffer::Allocate(static_cast<size_t>(n) * 4);
      auto validity = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(n)));
      int64_t nulls = 0;
      for (int64_t i = 0; i < n; ++i) {
        const Vector& v =
            batches[static_cast<size_t>(refs[static_cast<size_t>(i)].first)]->column(c);
        const int32_t r = refs[static_cast<size_t>(i)].second;
        codes->mutable_as<int32_t>()[i] = v.dictionary_codes()[r];
        if (v.IsValid(r)) {
          bits::Set(validity->mutable_data(), i);
        } else {
          ++nulls;
        }
      }
      cols.push_back(Vector::Dictionary(n, codes, validity, first->dictionary_ptr(), nulls));
      continue;
    }
    VectorWriter w(type, n);
    for (int64_t i = 0; i < n; ++i) {
      const Vector& v = batches[static_cast<size_t>(refs[static_cast<size_t>(i)].first)]->column(c);
      const int32_t r = refs[static_cast<size_t>(i)].second;
      if (v.type() == TypeId::kNull || v.IsNull(r)) continue;
      switch (type) {
        case TypeId::kNull:
          break;
        case TypeId::kBool:
          w.SetBool(i, v.GetBool(r));
          break;
        case TypeId::kInt:
        case TypeId::kTimestamp:
        case TypeId::kDuration:
          w.SetInt64(i, v.GetInt64(r));
          break;
        case TypeId::kFloat:
          w.SetFloat(i, v.GetFloat(r));
          break;
        case TypeId::kString:
        case TypeId::kDynamic:
          w.SetString(i, v.GetString(r));
          break;
      }
    }
    TQL_ASSIGN_OR_RETURN(Vector v, w.FinishChecked());
    cols.push_back(std::move(v));
  }
  return Batch(schema, std::move(cols), n);
}

}  // namespace tql
