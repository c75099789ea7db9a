//! What a compiled kernel reads from one batch: a pointer per column slot, a validity bitmap per
//! slot (an all-valid one where the column has no nulls), and a match table per string leaf
//! (per dictionary, cached across batches, or per row for a column without a dictionary).
//! Shared by the filter and the fused-update kernels. Internal to codegen/.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "codegen/kernel_ir.h"
#include "runtime/batch.h"
#include "runtime/expression.h"

namespace tql::jit {

// One entry of a match table: bit 0 the value, bit 1 set when it is not null. 32 bits wide so
// that 8 rows' entries are one vector gather.
using MatchEntry = uint32_t;

// A batch bound to a kernel's slots. The pointers stay valid while this and the batch live.
struct BoundBatch {
  std::vector<const void*> data;
  std::vector<const uint8_t*> validity;
  std::vector<const MatchEntry*> tables;
  // Whole string conjuncts over a column without a dictionary, left for the caller to apply
  // after the kernel (only with `defer_top_level`; their tables are all true).
  std::vector<const PExpr*> deferred;
  std::vector<std::shared_ptr<const std::vector<MatchEntry>>> held;
  std::vector<std::vector<MatchEntry>> per_row;
};

class KernelBinding {
 public:
  // `columns`: the batch column of each slot; `leaves`: the layout's string leaves.
  KernelBinding(std::vector<Storage> storage, std::vector<int> columns,
                const std::vector<Leaf>& leaves);
  // The slots and leaves of a normalized layout.
  explicit KernelBinding(const Layout& layout);

  // Binds the rows `sel` of `batch`; false when a column's layout is one the kernel does not
  // read (the caller interprets the batch instead). With `defer_top_level`, a top-level leaf
  // over a column without a dictionary is not evaluated but listed in `deferred`.
  Result<bool> Bind(const Batch& batch, const Selection& sel, const EvalContext& ctx,
                    bool defer_top_level, BoundBatch* out) const;

 private:
  // A leaf as evaluated outside the kernel: the expression over the batch, and the same
  // expression reading column 0 of a one-column batch (a dictionary).
  struct BoundLeaf {
    const PExpr* expr;
    int column;
    bool top_level;
    PExprPtr on_dictionary;
    SchemaPtr dictionary_schema;
  };
  struct TableEntry {
    size_t leaf;
    std::shared_ptr<const Vector> dictionary;  // kept alive so its address is not reused
    std::shared_ptr<const std::vector<MatchEntry>> table;
  };

  // The match table of leaf `l` for the dictionary of `v`: the null entry, then one per code.
  Result<std::shared_ptr<const std::vector<MatchEntry>>> DictionaryTable(
      size_t l, const Vector& v, const EvalContext& ctx) const;

  std::vector<Storage> storage_;
  std::vector<int> columns_;
  std::vector<BoundLeaf> leaves_;
  mutable std::mutex mu_;
  mutable std::vector<TableEntry> tables_;
};

}  // namespace tql::jit
