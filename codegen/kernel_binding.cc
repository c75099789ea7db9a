#include "codegen/kernel_binding.h"

#include <numeric>

namespace tql::jit {

namespace {

// One entry per row of `sel` (after the null entry): the value of `d` as a match-table entry
// (bit 0 the value, bit 1 set when it is not null).
void FillTable(const Datum& d, const Selection& sel, MatchEntry* table) {
  if (d.is_constant) {
    const MatchEntry entry = d.constant.null ? 0 : d.constant.i != 0 ? 3 : 2;
    sel.ForEach([&](int64_t r) { table[r] = entry; });
    return;
  }
  const Vector& v = d.vector;
  if (v.type() != TypeId::kBool) {  // all null
    sel.ForEach([&](int64_t r) { table[r] = 0; });
    return;
  }
  sel.ForEach([&](int64_t r) { table[r] = !v.IsValid(r) ? 0 : v.GetBool(r) ? 3 : 2; });
}

}  // namespace

KernelBinding::KernelBinding(std::vector<Storage> storage, std::vector<int> columns,
                             const std::vector<Leaf>& leaves)
    : storage_(std::move(storage)), columns_(std::move(columns)) {
  for (const Leaf& leaf : leaves) {
    BoundLeaf f;
    f.expr = leaf.expr;
    f.column = columns_[static_cast<size_t>(leaf.slot)];
    f.top_level = leaf.top_level;
    f.on_dictionary = CloneExpr(*leaf.expr);
    std::vector<int> remap(static_cast<size_t>(f.column) + 1, 0);
    RemapColumns(f.on_dictionary.get(), remap);
    f.dictionary_schema = std::make_shared<Schema>(std::vector<Field>{{"value", leaf.type}});
    leaves_.push_back(std::move(f));
  }
}

namespace {

std::vector<Storage> StorageOfSlots(const Layout& layout) {
  std::vector<Storage> storage;
  for (const auto& [column, s] : layout.columns) storage.push_back(s);
  return storage;
}

std::vector<int> ColumnsOfSlots(const Layout& layout) {
  std::vector<int> columns;
  for (const auto& [column, s] : layout.columns) columns.push_back(column);
  return columns;
}

}  // namespace

KernelBinding::KernelBinding(const Layout& layout)
    : KernelBinding(StorageOfSlots(layout), ColumnsOfSlots(layout), layout.leaves) {}

Result<bool> KernelBinding::Bind(const Batch& batch, const Selection& sel, const EvalContext& ctx,
                                 bool defer_top_level, BoundBatch* out) const {
  const int64_t rows = batch.num_rows();
  thread_local std::vector<uint8_t> all_valid;
  const auto bytes = static_cast<size_t>(bits::BytesFor(rows));
  if (all_valid.size() < bytes) all_valid.assign(bytes, 0xFF);
  const size_t slots = columns_.size();
  out->data.assign(slots, nullptr);
  out->validity.assign(slots, nullptr);
  for (size_t s = 0; s < slots; ++s) {
    const Vector& v = batch.column(columns_[s]);
    out->validity[s] = v.validity_bits() != nullptr ? v.validity_bits() : all_valid.data();
    if (storage_[s] == Storage::kCodes) {
      if (!IsStringBacked(v.type())) return false;
      if (v.is_dictionary()) {
        out->data[s] = v.dictionary_codes();
      } else {
        // Per-row match tables: row r looks up entry r.
        thread_local std::vector<int32_t> identity;
        const auto old = static_cast<int32_t>(identity.size());
        if (identity.size() < static_cast<size_t>(rows)) {
          identity.resize(static_cast<size_t>(rows));
          std::iota(identity.begin() + old, identity.end(), old);
        }
        out->data[s] = identity.data();
        out->validity[s] = all_valid.data();  // nulls are in the per-row table
      }
      continue;
    }
    const bool readable =
        storage_[s] == Storage::kValidity ||
        (!v.is_dictionary() && v.values_buffer() != nullptr && v.type() != TypeId::kNull);
    if (!readable) return false;
    switch (storage_[s]) {
      case Storage::kInt64:
        out->data[s] = v.int64_values();
        break;
      case Storage::kFloat:
        out->data[s] = v.float_values();
        break;
      case Storage::kBool:
        out->data[s] = v.bool_bits();
        break;
      default:
        out->data[s] = nullptr;
        break;
    }
  }
  // Match tables: per dictionary (cached), or per row of this batch.
  out->tables.assign(leaves_.size(), nullptr);
  for (size_t l = 0; l < leaves_.size(); ++l) {
    const BoundLeaf& leaf = leaves_[l];
    const Vector& v = batch.column(leaf.column);
    if (v.is_dictionary()) {
      TQL_ASSIGN_OR_RETURN(std::shared_ptr<const std::vector<MatchEntry>> t,
                           DictionaryTable(l, v, ctx));
      out->tables[l] = t->data() + 1;
      out->held.push_back(std::move(t));
      continue;
    }
    std::vector<MatchEntry>& t = out->per_row.emplace_back(static_cast<size_t>(rows) + 1, 3);
    out->tables[l] = t.data() + 1;
    if (defer_top_level && leaf.top_level) {
      out->deferred.push_back(leaf.expr);
    } else {
      TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*leaf.expr, batch, sel, ctx));
      FillTable(d, sel, t.data() + 1);
    }
  }
  return true;
}

Result<std::shared_ptr<const std::vector<MatchEntry>>> KernelBinding::DictionaryTable(
    size_t l, const Vector& v, const EvalContext& ctx) const {
  const BoundLeaf& leaf = leaves_[l];
  const Vector* dict = &v.dictionary();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const TableEntry& e : tables_) {
      if (e.leaf == l && e.dictionary.get() == dict) return e.table;
    }
  }
  const int64_t n = dict->length();
  auto table = std::make_shared<std::vector<MatchEntry>>(static_cast<size_t>(n) + 1, 0);
  const TypeId type = leaf.dictionary_schema->field(0).type;
  Batch null_row(leaf.dictionary_schema, {Vector::Nulls(type, 1)}, 1);
  TQL_ASSIGN_OR_RETURN(Datum at_null,
                       Evaluate(*leaf.on_dictionary, null_row, Selection::All(1), ctx));
  FillTable(at_null, Selection::All(1), table->data());
  if (n > 0) {
    Batch entries(leaf.dictionary_schema, {*dict}, n);
    TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*leaf.on_dictionary, entries, Selection::All(n), ctx));
    FillTable(d, Selection::All(n), table->data() + 1);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (tables_.size() >= 64) tables_.clear();  // bounded: a few dictionaries at a time
  tables_.push_back({l, v.dictionary_ptr(), table});
  return std::shared_ptr<const std::vector<MatchEntry>>(table);
}

}  // namespace tql::jit
