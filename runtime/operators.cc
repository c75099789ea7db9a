#include "runtime/operators.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>

#include "runtime/group_table.h"
#include "runtime/vector_writer.h"

namespace tql {

Status FilterOperator::Consume(Chunk& chunk) {
  if (pending_ && pending_->ready.load(std::memory_order_acquire)) {
    if (pending_->kernel) {
      kernel_ = pending_->kernel;
      const std::vector<const PExpr*> conjuncts = Conjuncts(*predicate_);
      for (size_t i : pending_->residual) residual_.push_back(conjuncts[i]);
    }
    pending_ = nullptr;
  }
  Selection sel;
  if (kernel_) {
    TQL_ASSIGN_OR_RETURN(sel, kernel_->Select(chunk.batch, chunk.sel, *ctx_));
    TQL_ASSIGN_OR_RETURN(sel, SelectAllTrue(residual_, chunk.batch, std::move(sel), *ctx_));
  } else {
    TQL_ASSIGN_OR_RETURN(sel, SelectTrue(*predicate_, chunk.batch, chunk.sel, *ctx_));
  }
  if (sel.empty()) return Status::Ok();
  chunk.sel = std::move(sel);
  return next_->Consume(chunk);
}

namespace {

// The datum as a vector of `type`, as long as the batch.
Result<Vector> ToVector(Datum d, TypeId type, int64_t length, const Selection& sel) {
  if (d.is_constant) return ConstantVector(d.constant, type, length);
  if (d.vector.type() == type) return std::move(d.vector);
  if (d.vector.type() == TypeId::kNull) return Vector::Nulls(type, length);
  VectorWriter w(type, length);
  Value v;
  sel.ForEach([&](int64_t r) {
    ReadValue(d.vector, r, &v);
    w.Set(r, v);
  });
  return w.FinishChecked();
}

}  // namespace

Status ProjectOperator::Consume(Chunk& chunk) {
  std::vector<Vector> cols(exprs_.size());
  std::vector<bool> done(exprs_.size(), false);
  const int64_t n = chunk.batch.num_rows();
  TakeWhenReady(&pending_, &kernel_);
  if (kernel_ != nullptr) {
    std::vector<Vector> computed;
    TQL_ASSIGN_OR_RETURN(bool ok, kernel_->Project(chunk.batch, chunk.sel, *ctx_, &computed));
    if (ok) {
      for (size_t k = 0; k < computed.size(); ++k) {
        const size_t i = kernel_->columns()[k];
        if (computed[k].type() != schema_->field(static_cast<int>(i)).type) continue;
        cols[i] = std::move(computed[k]);
        done[i] = true;
      }
    }
  }
  for (size_t i = 0; i < exprs_.size(); ++i) {
    if (done[i]) continue;
    TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*exprs_[i], chunk.batch, chunk.sel, *ctx_));
    TQL_ASSIGN_OR_RETURN(
        Vector v, ToVector(std::move(d), schema_->field(static_cast<int>(i)).type, n, chunk.sel));
    cols[i] = std::move(v);
  }
  Chunk out{Batch(schema_, std::move(cols), n), std::move(chunk.sel)};
  return next_->Consume(out);
}

Status LimitOperator::Consume(Chunk& chunk) {
  if (remaining_ <= 0) return Status::Ok();
  if (chunk.sel.count() <= remaining_) {
    remaining_ -= chunk.sel.count();
    return next_->Consume(chunk);
  }
  const int64_t n = remaining_;
  remaining_ = 0;
  if (chunk.sel.dense()) {
    chunk.sel = Selection::All(n);
  } else {
    std::vector<int32_t> rows(chunk.sel.rows().begin(), chunk.sel.rows().begin() + n);
    chunk.sel = Selection::Of(std::move(rows));
  }
  return next_->Consume(chunk);
}

// ---------------------------------------------------------------------------------------------

SortOperator::SortOperator(std::vector<SortKey> keys, int64_t limit, SchemaPtr schema,
                           const EvalContext* ctx, BatchConsumer* next)
    : keys_(std::move(keys)), limit_(limit), schema_(std::move(schema)), ctx_(ctx), next_(next) {
  std::vector<Field> fields = schema_->fields();
  for (size_t k = 0; k < keys_.size(); ++k) {
    fields.push_back({"$key" + std::to_string(k), keys_[k].expr->type});
  }
  run_schema_ = std::make_shared<Schema>(std::move(fields));
}

namespace {

// Orders two valid values of one vector type: negative, zero, positive.
int CompareCells(const Vector& a, int64_t ra, const Vector& b, int64_t rb) {
  switch (a.type()) {
    case TypeId::kNull:
      return 0;
    case TypeId::kBool:
      return int{a.GetBool(ra)} - int{b.GetBool(rb)};
    case TypeId::kInt:
    case TypeId::kTimestamp:
    case TypeId::kDuration: {
      const int64_t x = a.GetInt64(ra), y = b.GetInt64(rb);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case TypeId::kFloat: {
      const double x = a.GetFloat(ra), y = b.GetFloat(rb);
      const bool xn = std::isnan(x), yn = std::isnan(y);
      if (xn || yn) return xn == yn ? 0 : (xn ? 1 : -1);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case TypeId::kString:
    case TypeId::kDynamic: {
      if (a.is_dictionary() && b.is_dictionary() && a.dictionary_ptr() == b.dictionary_ptr() &&
          a.dictionary_codes()[ra] == b.dictionary_codes()[rb]) {
        return 0;
      }
      const int c = a.GetString(ra).compare(b.GetString(rb));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
  return 0;
}

}  // namespace

template <typename KeyA, typename KeyB>
int SortOperator::CompareWith(const KeyA& a, int64_t ra, const KeyB& b, int64_t rb) const {
  for (size_t k = 0; k < keys_.size(); ++k) {
    const Vector& x = a(k);
    const Vector& y = b(k);
    const bool xn = x.type() == TypeId::kNull || x.IsNull(ra);
    const bool yn = y.type() == TypeId::kNull || y.IsNull(rb);
    if (xn || yn) {
      if (xn && yn) continue;
      // Nulls go last in either direction unless `nulls first`.
      const int c = xn ? 1 : -1;
      return keys_[k].nulls_first ? -c : c;
    }
    int c = CompareCells(x, ra, y, rb);
    if (c != 0) return keys_[k].descending ? -c : c;
  }
  return 0;
}

int SortOperator::Compare(const Batch& a, int64_t ra, const Batch& b, int64_t rb) const {
  const int base = schema_->num_fields();
  return CompareWith(
      [&](size_t k) -> const Vector& { return a.column(base + static_cast<int>(k)); }, ra,
      [&](size_t k) -> const Vector& { return b.column(base + static_cast<int>(k)); }, rb);
}

namespace {

// The rows of `sel` whose int64 key is strictly better than `bound` (a valid value): greater
// when descending, smaller when ascending. Null keys never are (nulls sort last).
Selection BetterInt64(const Vector& key, const Selection& sel, int64_t bound, bool descending) {
  std::vector<int32_t> rows;
  const int64_t* v = key.int64_values();
  const uint8_t* validity = key.validity_bits();
  sel.ForEach([&](int64_t r) {
    const bool better = descending ? v[r] > bound : v[r] < bound;
    if (better && (validity == nullptr || bits::Get(validity, r))) {
      rows.push_back(static_cast<int32_t>(r));
    }
  });
  return Selection::Of(std::move(rows));
}

}  // namespace

Status SortOperator::Consume(Chunk& chunk) {
  if (chunk.sel.empty() || limit_ == 0) return Status::Ok();
  const int64_t n = chunk.batch.num_rows();
  std::vector<Vector> keys;
  for (const SortKey& key : keys_) {
    TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*key.expr, chunk.batch, chunk.sel, *ctx_));
    Vector v = d.is_constant ? ConstantVector(d.constant, key.expr->type, n) : std::move(d.vector);
    if (v.type() != key.expr->type) {
      return Status::Internal("a sort key evaluated to {}, not {}", TypeName(v.type()),
                              TypeName(key.expr->type));
    }
    keys.push_back(std::move(v));
  }
  Selection sel = chunk.sel;
  if (limit_ > 0 && runs_.size() == 1 && buffered_rows_ == limit_) {
    // Top-k: the buffer is the sorted best k; only rows strictly better than its last can
    // enter (ties keep the earlier row, as a stable sort would). The keys are compared before
    // any column is gathered, so a batch with nothing better costs one pass over its keys.
    const Batch& best = runs_.front();
    const int64_t last = best.num_rows() - 1;
    const int base = schema_->num_fields();
    const Vector& bound = best.column(base);
    if (keys_.size() == 1 && !keys_[0].nulls_first && IsInt64Backed(keys[0].type()) &&
        bound.IsValid(last)) {
      sel = BetterInt64(keys[0], sel, bound.GetInt64(last), keys_[0].descending);
    } else {
      auto mine = [&](size_t k) -> const Vector& { return keys[k]; };
      auto kth = [&](size_t k) -> const Vector& { return best.column(base + static_cast<int>(k)); };
      std::vector<int32_t> better;
      sel.ForEach([&](int64_t r) {
        if (CompareWith(mine, r, kth, last) < 0) better.push_back(static_cast<int32_t>(r));
      });
      sel = Selection::Of(std::move(better));
    }
    if (sel.empty()) return Status::Ok();
  }
  std::vector<Vector> cols;
  for (const Vector& v : chunk.batch.columns()) cols.push_back(Gather(v, sel));
  for (const Vector& v : keys) cols.push_back(Gather(v, sel));
  Batch run(run_schema_, std::move(cols), sel.count());
  buffered_rows_ += run.num_rows();
  // A full sort holds every row; top-k at most k (plus a chunk) between compactions.
  if (ctx_->control != nullptr && limit_ <= 0) {
    TQL_RETURN_IF_ERROR(ctx_->control->Reserve(BatchMemory(run), "sort"));
  }
  runs_.push_back(std::move(run));
  // Top-k keeps only the best k, sorted, after every chunk.
  if (limit_ > 0 && buffered_rows_ >= limit_) TQL_RETURN_IF_ERROR(Compact());
  return Status::Ok();
}

bool SortOperator::Bound(ScanPredicate* bound) const {
  if (limit_ <= 0 || runs_.size() != 1 || buffered_rows_ != limit_) return false;
  const SortKey& key = keys_[0];
  const TypeId type = key.expr->type;
  if (key.nulls_first || key.expr->kind != PKind::kColumn ||
      !(IsInt64Backed(type) || type == TypeId::kFloat)) {
    return false;
  }
  const Batch& best = runs_.front();
  const int64_t last = best.num_rows() - 1;
  const Vector& kth = best.column(schema_->num_fields());
  if (!kth.IsValid(last)) return false;
  // Ties keep the earlier row, so with one key an equal key cannot enter either.
  const bool strict = keys_.size() == 1;
  bound->column = key.expr->column;
  bound->op = key.descending ? (strict ? CompareOp::kGt : CompareOp::kGe)
                             : (strict ? CompareOp::kLt : CompareOp::kLe);
  if (type == TypeId::kFloat) {
    bound->constant = Value::Float(kth.GetFloat(last));
  } else {
    bound->constant = Value::Int(kth.GetInt64(last));
    bound->constant.type = type;
  }
  return true;
}

Status SortOperator::Compact() {
  std::vector<std::pair<int32_t, int32_t>> refs;
  refs.reserve(static_cast<size_t>(buffered_rows_));
  for (size_t b = 0; b < runs_.size(); ++b) {
    for (int64_t r = 0; r < runs_[b].num_rows(); ++r) {
      refs.emplace_back(static_cast<int32_t>(b), static_cast<int32_t>(r));
    }
  }
  auto less = [this](const std::pair<int32_t, int32_t>& x, const std::pair<int32_t, int32_t>& y) {
    return Compare(runs_[static_cast<size_t>(x.first)], x.second,
                   runs_[static_cast<size_t>(y.first)], y.second) < 0;
  };
  if (limit_ > 0 && static_cast<int64_t>(refs.size()) > limit_) {
    // partial_sort is not stable: order by (key, arrival) explicitly.
    auto less_stable = [&](const auto& x, const auto& y) {
      const int c = Compare(runs_[static_cast<size_t>(x.first)], x.second,
                            runs_[static_cast<size_t>(y.first)], y.second);
      return c != 0 ? c < 0 : x < y;
    };
    std::partial_sort(refs.begin(), refs.begin() + limit_, refs.end(), less_stable);
    refs.resize(static_cast<size_t>(limit_));
  } else {
    std::stable_sort(refs.begin(), refs.end(), less);
  }
  std::vector<const Batch*> batches;
  for (const Batch& b : runs_) batches.push_back(&b);
  Result<Batch> merged_or = TakeRows(run_schema_, batches, refs);
  if (!merged_or.ok()) return merged_or.status();
  Batch merged = std::move(merged_or).value();
  runs_.clear();
  buffered_rows_ = merged.num_rows();
  runs_.push_back(std::move(merged));
  return Status::Ok();
}

Status SortOperator::Finish() {
  if (!runs_.empty()) {
    if (limit_ > 0) TQL_RETURN_IF_ERROR(Compact());
    // The order of every buffered row, then the output a batch at a time (one batch of all
    // rows could pass the 2 GiB a batch's strings may hold).
    std::vector<std::pair<int32_t, int32_t>> refs;
    for (size_t b = 0; b < runs_.size(); ++b) {
      for (int64_t r = 0; r < runs_[b].num_rows(); ++r) {
        refs.emplace_back(static_cast<int32_t>(b), static_cast<int32_t>(r));
      }
    }
    if (limit_ < 0) {
      std::stable_sort(refs.begin(), refs.end(), [this](const auto& x, const auto& y) {
        return Compare(runs_[static_cast<size_t>(x.first)], x.second,
                       runs_[static_cast<size_t>(y.first)], y.second) < 0;
      });
    }
    std::vector<const Batch*> batches;
    for (const Batch& b : runs_) batches.push_back(&b);
    for (size_t off = 0; off < refs.size(); off += static_cast<size_t>(kDefaultBatchRows)) {
      if (next_->Satisfied()) break;
      const size_t end = std::min(refs.size(), off + static_cast<size_t>(kDefaultBatchRows));
      std::vector<std::pair<int32_t, int32_t>> slice(
          refs.begin() + static_cast<std::ptrdiff_t>(off),
          refs.begin() + static_cast<std::ptrdiff_t>(end));
      TQL_ASSIGN_OR_RETURN(Batch rows, TakeRows(run_schema_, batches, slice));
      std::vector<Vector> cols;
      for (int c = 0; c < schema_->num_fields(); ++c) cols.push_back(rows.column(c));
      const int64_t n = rows.num_rows();
      Chunk chunk{Batch(schema_, std::move(cols), n), Selection::All(n)};
      TQL_RETURN_IF_ERROR(next_->Consume(chunk));
    }
    runs_.clear();
  }
  return next_->Finish();
}

// ---------------------------------------------------------------------------------------------

void AppendKeyBytes(const Vector& v, int64_t row, std::string* key) {
  if (v.type() == TypeId::kNull || v.IsNull(row)) {
    key->push_back('\0');
    return;
  }
  key->push_back('\1');
  switch (v.type()) {
    case TypeId::kNull:
      break;
    case TypeId::kBool:
      key->push_back(v.GetBool(row) ? '\1' : '\0');
      break;
    case TypeId::kInt:
    case TypeId::kTimestamp:
    case TypeId::kDuration: {
      const int64_t x = v.GetInt64(row);
      key->append(reinterpret_cast<const char*>(&x), sizeof x);
      break;
    }
    case TypeId::kFloat: {
      const uint64_t bits = FloatKeyBits(v.GetFloat(row));
      key->append(reinterpret_cast<const char*>(&bits), sizeof bits);
      break;
    }
    case TypeId::kString:
    case TypeId::kDynamic: {
      const std::string_view s = v.GetString(row);
      const auto len = static_cast<uint32_t>(s.size());
      key->append(reinterpret_cast<const char*>(&len), sizeof len);
      key->append(s);
      break;
    }
  }
}

Status DistinctOperator::Consume(Chunk& chunk) {
  std::vector<int32_t> fresh;
  int64_t reserve = 0;
  const Batch& b = chunk.batch;
  chunk.sel.ForEach([&](int64_t r) {
    key_.clear();
    for (const Vector& v : b.columns()) AppendKeyBytes(v, r, &key_);
    if (seen_.insert(key_).second) {
      fresh.push_back(static_cast<int32_t>(r));
      reserve += static_cast<int64_t>(key_.size() + sizeof(std::string) + 16);
    }
  });
  if (control_ != nullptr && reserve > 0) {
    TQL_RETURN_IF_ERROR(control_->Reserve(reserve, "distinct"));
  }
  if (fresh.empty()) return Status::Ok();
  chunk.sel = Selection::Of(std::move(fresh));
  return next_->Consume(chunk);
}

void CountOperator::Fuse(std::vector<const PExpr*> conjuncts,
                         std::shared_ptr<const CompiledAggregate> kernel,
                         std::shared_ptr<PendingAggregate> pending, const EvalContext* ctx) {
  conjuncts_ = std::move(conjuncts);
  kernel_ = std::move(kernel);
  pending_ = std::move(pending);
  ctx_ = ctx;
  state_.owner = this;
  state_.last_group = 0;  // the one group; group_of is never called
  state_.arrays = arrays_;
}

Status CountOperator::Consume(Chunk& chunk) {
  TakeWhenReady(&pending_, &kernel_);
  if (kernel_ != nullptr) {
    TQL_ASSIGN_OR_RETURN(bool done, kernel_->Update(chunk.batch, chunk.sel, *ctx_, &state_));
    if (done) return Status::Ok();
  }
  TQL_ASSIGN_OR_RETURN(Selection sel, SelectAllTrue(conjuncts_, chunk.batch, chunk.sel, *ctx_));
  count_ += sel.count();
  return Status::Ok();
}

Status CountOperator::Finish() {
  auto values = Buffer::Allocate(8);
  values->mutable_as<int64_t>()[0] = count_;
  std::vector<Vector> cols = {Vector::Fixed(TypeId::kInt, 1, values, nullptr, 0)};
  Chunk chunk{Batch(schema_, std::move(cols), 1), Selection::All(1)};
  TQL_RETURN_IF_ERROR(next_->Consume(chunk));
  return next_->Finish();
}

JoinOperator::JoinOperator(Kind kind, std::vector<Key> keys, SchemaPtr left_schema,
                           SchemaPtr output_schema, QueryControl* control, BatchConsumer* next)
    : kind_(kind),
      keys_(std::move(keys)),
      left_schema_(std::move(left_schema)),
      output_schema_(std::move(output_schema)),
      control_(control),
      next_(next) {}

bool JoinOperator::KeyOf(const Batch& b, int64_t row, bool left, std::string* key) const {
  key->clear();
  for (const Key& k : keys_) {
    const Vector& v = b.column(left ? k.left : k.right);
    if (v.type() == TypeId::kNull || v.IsNull(row)) return false;
    if (k.as_float || v.type() == TypeId::kFloat) {
      double d =
          v.type() == TypeId::kFloat ? v.GetFloat(row) : static_cast<double>(v.GetInt64(row));
      if (d != d) return false;  // NaN equals nothing
      if (d == 0) d = 0;         // -0 and 0 are equal
      key->append(reinterpret_cast<const char*>(&d), sizeof d);
    } else {
      AppendKeyBytes(v, row, key);
    }
  }
  return true;
}

namespace {
uint64_t JoinHash(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}
}  // namespace

int32_t JoinOperator::Find(std::string_view key) const {
  if (slots_.empty()) return -1;
  const uint64_t h = JoinHash(key);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.head < 0) return -1;
    if (s.hash == h && s.key_size == key.size() &&
        std::memcmp(key_bytes_.data() + s.key_offset, key.data(), key.size()) == 0) {
      return s.head;
    }
  }
}

void JoinOperator::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::max<size_t>(16, old.size() * 2), Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.head < 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].head >= 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

Status JoinOperator::Build(Table right) {
  right_ = std::move(right);
  if (right_.num_rows() >= std::numeric_limits<int32_t>::max()) {
    return Status(StatusCode::kLimitExceeded,
                  "the right side of a join holds more than 2^31 rows; filter it first");
  }
  for (size_t b = 0; b < right_.batches.size(); ++b) {
    const Batch& batch = right_.batches[b];
    for (int64_t r = 0; r < batch.num_rows(); ++r) {
      if (!KeyOf(batch, r, /*left=*/false, &key_)) continue;
      if ((used_ + 1) * 2 > slots_.size()) Grow();
      const uint64_t h = JoinHash(key_);
      const size_t mask = slots_.size() - 1;
      const auto entry = static_cast<int32_t>(entries_.size());
      entries_.push_back({static_cast<int32_t>(b), static_cast<int32_t>(r), -1});
      for (size_t i = h & mask;; i = (i + 1) & mask) {
        Slot& s = slots_[i];
        if (s.head < 0) {
          s = {h, static_cast<uint32_t>(key_bytes_.size()), static_cast<uint32_t>(key_.size()),
               entry, entry};
          key_bytes_ += key_;
          ++used_;
          break;
        }
        if (s.hash == h && s.key_size == key_.size() &&
            std::memcmp(key_bytes_.data() + s.key_offset, key_.data(), key_.size()) == 0) {
          entries_[static_cast<size_t>(s.tail)].next = entry;
          s.tail = entry;
          break;
        }
      }
    }
  }
  if (key_bytes_.size() >= std::numeric_limits<uint32_t>::max()) {
    return Status(StatusCode::kLimitExceeded,
                  "the keys of a join's right side pass 4 GiB; filter it first");
  }
  const auto bytes =
      static_cast<int64_t>(slots_.capacity() * sizeof(Slot) + entries_.capacity() * sizeof(Entry) +
                           key_bytes_.capacity());
  if (control_ != nullptr) TQL_RETURN_IF_ERROR(control_->Reserve(bytes, "join"));
  // One row of nulls, for the left rows of a left join that match nothing.
  std::vector<Vector> nulls;
  for (const Field& f : right_.schema->fields()) {
    VectorWriter w(f.type, 1);
    TQL_ASSIGN_OR_RETURN(Vector v, w.FinishChecked());
    nulls.push_back(std::move(v));
  }
  null_row_ = Batch(right_.schema, std::move(nulls), 1);
  for (const Batch& b : right_.batches) right_batches_.push_back(&b);
  right_batches_.push_back(&null_row_);
  return Status::Ok();
}

Status JoinOperator::Emit(const Batch& left, std::vector<std::pair<int32_t, int32_t>>* left_refs,
                          std::vector<std::pair<int32_t, int32_t>>* right_refs) {
  if (left_refs->empty()) return Status::Ok();
  TQL_ASSIGN_OR_RETURN(Batch l, TakeRows(left_schema_, {&left}, *left_refs));
  TQL_ASSIGN_OR_RETURN(Batch r, TakeRows(right_.schema, right_batches_, *right_refs));
  std::vector<Vector> cols = build_columns_first_ ? r.columns() : l.columns();
  for (const Vector& v : build_columns_first_ ? l.columns() : r.columns()) cols.push_back(v);
  const auto n = static_cast<int64_t>(left_refs->size());
  left_refs->clear();
  right_refs->clear();
  Chunk out{Batch(output_schema_, std::move(cols), n), Selection::All(n)};
  return next_->Consume(out);
}

Status JoinOperator::Consume(Chunk& chunk) {
  const Batch& b = chunk.batch;
  if (kind_ == Kind::kSemi || kind_ == Kind::kAnti) {
    std::vector<int32_t> pass;
    chunk.sel.ForEach([&](int64_t r) {
      const bool match = KeyOf(b, r, /*left=*/true, &key_) && Find(key_) >= 0;
      if (match == (kind_ == Kind::kSemi)) pass.push_back(static_cast<int32_t>(r));
    });
    if (pass.empty()) return Status::Ok();
    chunk.sel = Selection::Of(std::move(pass));
    return next_->Consume(chunk);
  }
  // inner and left: the pairs, emitted a batch's worth at a time.
  const auto null_batch = static_cast<int32_t>(right_batches_.size() - 1);
  std::vector<std::pair<int32_t, int32_t>> left_refs, right_refs;
  Status status = Status::Ok();
  chunk.sel.ForEach([&](int64_t r) {
    if (!status.ok()) return;
    const auto row = static_cast<int32_t>(r);
    const int32_t first = KeyOf(b, r, /*left=*/true, &key_) ? Find(key_) : -1;
    if (first < 0) {
      if (kind_ == Kind::kLeft) {
        left_refs.emplace_back(0, row);
        right_refs.emplace_back(null_batch, 0);
      }
    } else {
      for (int32_t e = first; e >= 0; e = entries_[static_cast<size_t>(e)].next) {
        const Entry& m = entries_[static_cast<size_t>(e)];
        left_refs.emplace_back(0, row);
        right_refs.emplace_back(m.batch, m.row);
        if (static_cast<int64_t>(left_refs.size()) >= kDefaultBatchRows) {
          status = Emit(b, &left_refs, &right_refs);
          if (!status.ok()) return;
        }
      }
    }
  });
  TQL_RETURN_IF_ERROR(status);
  return Emit(b, &left_refs, &right_refs);
}

SmallerSideJoin::SmallerSideJoin(std::vector<JoinOperator::Key> keys, SchemaPtr left_schema,
                                 SchemaPtr output_schema, Table right, QueryControl* control,
                                 BatchConsumer* next)
    : keys_(std::move(keys)),
      left_schema_(left_schema),
      output_schema_(std::move(output_schema)),
      right_(std::move(right)),
      control_(control),
      next_(next),
      held_(std::move(left_schema), control, "the left side of a join") {
  right_rows_ = right_.num_rows();
}

Status SmallerSideJoin::Consume(Chunk& chunk) {
  if (join_) return join_->Consume(chunk);
  TQL_RETURN_IF_ERROR(held_.Consume(chunk));
  held_rows_ += chunk.sel.count();
  if (held_rows_ <= right_rows_) return Status::Ok();
  // The left is the larger side: build on the right, as a plain join does.
  join_ = std::make_unique<JoinOperator>(JoinOperator::Kind::kInner, keys_, left_schema_,
                                         output_schema_, control_, next_);
  TQL_RETURN_IF_ERROR(join_->Build(std::move(right_)));
  Table held = held_.TakeTable();
  for (const Batch& b : held.batches) {
    if (join_->Satisfied()) break;
    Chunk c{b, Selection::All(b.num_rows())};
    TQL_RETURN_IF_ERROR(join_->Consume(c));
  }
  return Status::Ok();
}

Status SmallerSideJoin::Finish() {
  if (join_) return join_->Finish();
  // The left ended first: it is the smaller side. Build on it; the right rows probe.
  std::vector<JoinOperator::Key> swapped;
  for (const JoinOperator::Key& k : keys_) swapped.push_back({k.right, k.left, k.as_float});
  join_ = std::make_unique<JoinOperator>(JoinOperator::Kind::kInner, std::move(swapped),
                                         right_.schema, output_schema_, control_, next_);
  join_->set_build_columns_first(true);
  Table right = std::move(right_);
  TQL_RETURN_IF_ERROR(join_->Build(held_.TakeTable()));
  for (const Batch& b : right.batches) {
    if (join_->Satisfied()) break;
    Chunk c{b, Selection::All(b.num_rows())};
    TQL_RETURN_IF_ERROR(join_->Consume(c));
  }
  return join_->Finish();
}

}  // namespace tql
