//! The seam between the interpreter and compiled kernels. The executor asks a KernelCompiler
//! (the LLVM JIT in codegen/, when the build has it) for a kernel for a plan's predicate, or
//! for a whole pipeline's update (scan, filter, then a summarize or a count), and runs on the
//! interpreter whatever the compiler does not take. A compiled kernel is immutable and can run
//! from many threads at once.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "runtime/batch.h"
#include "runtime/expression.h"

namespace tql {

enum class AggKind : uint8_t;  // runtime/aggregate.h

class CompiledFilter {
 public:
  virtual ~CompiledFilter() = default;
  // The rows of `sel` where the predicate is true (false and null drop the row), in order.
  // `ctx` is the query's (the string predicates a kernel looks up are evaluated in it).
  virtual Result<Selection> Select(const Batch& batch, const Selection& sel,
                                   const EvalContext& ctx) const = 0;
};

// A kernel being compiled in the background: `ready` turns true once `kernel` (null when
// nothing compiled) and `residual` (the indexes of the conjuncts left to the interpreter) are
// set, and they do not change after.
struct PendingFilter {
  std::atomic<bool> ready{false};
  std::shared_ptr<const CompiledFilter> kernel;
  std::vector<size_t> residual;
};

// The conjuncts of a predicate: the operands of a top-level `and`, or the predicate itself.
inline std::vector<const PExpr*> Conjuncts(const PExpr& predicate) {
  std::vector<const PExpr*> out;
  if (predicate.kind == PKind::kAnd) {
    for (const PExprPtr& a : predicate.args) out.push_back(a.get());
  } else {
    out.push_back(&predicate);
  }
  return out;
}

// A summarize (or a count) fused with the filters before it, as the compiler receives it: a row
// counts when every conjunct holds (true, not null); `key` is the one group key (null: one
// group for every row); each aggregate is a kind and its argument (null for count()).
struct AggregateFusion {
  struct Aggregate {
    AggKind kind;
    const PExpr* arg = nullptr;
  };
  std::vector<const PExpr*> conjuncts;
  const PExpr* key = nullptr;
  std::vector<Aggregate> aggregates;
};

// What a fused update reads and writes besides the batch. Generated code knows this layout:
// keep it a plain struct of 8-byte fields in this order.
struct AggregateKernelState {
  // The group of a key (or of the null key): found, or added with its states (which may move
  // `arrays`' pointers). Called only for a key the kernel did not see last.
  int64_t (*group_of)(AggregateKernelState* state, int64_t key, int64_t is_null) = nullptr;
  void* owner = nullptr;
  // The key the kernel saw last (the low end of its bin, for `bin(x, size)` keys) and its
  // group (-1: none yet); the null key's group (-1: none yet).
  int64_t last_key = 0;
  int64_t last_group = -1;
  int64_t null_group = -1;
  // Per aggregate three state arrays indexed by group: counts (int64), integer sums (int128)
  // and float sums (double); null where the aggregate has none. A sketch (a percentile) has
  // its accumulator and a `void add(void* accumulator, int64 group, double x)` instead.
  void* const* arrays = nullptr;
  // The group table of a one-key summarize (GroupTable::slot_words, slot_mask, key_words),
  // which the kernel probes before it calls group_of; kept current by the operator.
  const uint64_t* slots = nullptr;
  uint64_t slot_mask = 0;
  const uint64_t* keys = nullptr;
  // A string key: the group of each code of the batch's dictionary (-1: not seen yet, which
  // group_of then finds from the code); null when the batch's key column has no dictionary
  // (the kernel declines the batch).
  int32_t* code_groups = nullptr;
};

// A fused update: adds the rows of `sel` that pass the conjuncts to the groups of `state`.
class CompiledAggregate {
 public:
  virtual ~CompiledAggregate() = default;
  // False when the kernel cannot read this batch's layout (the caller runs the interpreter on
  // it instead); the state is then untouched.
  virtual Result<bool> Update(const Batch& batch, const Selection& sel, const EvalContext& ctx,
                              AggregateKernelState* state) const = 0;
};

// A fused update being compiled in the background: `ready` turns true once `kernel` is set.
struct PendingAggregate {
  std::atomic<bool> ready{false};
  std::shared_ptr<const CompiledAggregate> kernel;
};

// The computed columns of a projection (`extend`, `project`), as a kernel computes them: for
// each expression it takes, a vector as long as the batch, holding the values of the selected
// rows (the others are null).
class CompiledProjection {
 public:
  virtual ~CompiledProjection() = default;
  // The expressions the kernel computes: indexes into those it was compiled for, in order.
  virtual const std::vector<size_t>& columns() const = 0;
  // Those columns over the rows `sel` of `batch`, in the order of columns(); false when the
  // kernel cannot read this batch's layout (the caller interprets them instead).
  virtual Result<bool> Project(const Batch& batch, const Selection& sel, const EvalContext& ctx,
                               std::vector<Vector>* out) const = 0;
};

// A projection kernel being compiled in the background: `ready` turns true once `kernel` is set.
struct PendingProjection {
  std::atomic<bool> ready{false};
  std::shared_ptr<const CompiledProjection> kernel;
};

// Takes the kernel of a background compile (PendingAggregate, PendingProjection) once it is
// ready, and forgets the compile; a no-op before then or once taken.
template <typename Pending, typename Kernel>
void TakeWhenReady(std::shared_ptr<Pending>* pending, std::shared_ptr<const Kernel>* kernel) {
  if (*kernel == nullptr && *pending != nullptr &&
      (*pending)->ready.load(std::memory_order_acquire)) {
    *kernel = (*pending)->kernel;
    pending->reset();
  }
}

class KernelCompiler {
 public:
  virtual ~KernelCompiler() = default;
  // As CompileFilter, on another thread: the caller runs the interpreter until the kernel is
  // ready. The compiler keeps its own copy of the predicate.
  virtual std::shared_ptr<PendingFilter> CompileFilterAsync(const PExpr& predicate) = 0;
  // A kernel for the conjuncts of `predicate` (the operands of a top-level `and`, or the
  // predicate itself) that the compiler handles, or null when it handles none. The conjuncts
  // it does not handle are appended to `residual`, for the interpreter to apply after it.
  virtual std::shared_ptr<const CompiledFilter> CompileFilter(
      const PExpr& predicate, std::vector<const PExpr*>* residual) = 0;
  // A kernel for the whole of `fusion`, or null when the compiler cannot compile all of it
  // (the caller then runs its filters and its update apart).
  virtual std::shared_ptr<const CompiledAggregate> CompileAggregate(const AggregateFusion&) {
    return nullptr;
  }
  // As CompileAggregate, on another thread; null at once when the compiler would not take
  // `fusion`. The compiler keeps its own copy of the expressions.
  virtual std::shared_ptr<PendingAggregate> CompileAggregateAsync(const AggregateFusion&) {
    return nullptr;
  }
  // A kernel for the expressions of a projection that it can compute (not plain columns or
  // constants), or null when there are none.
  virtual std::shared_ptr<const CompiledProjection> CompileProjection(
      const std::vector<const PExpr*>& /*exprs*/) {
    return nullptr;
  }
  // As CompileProjection, on another thread; null at once when it would take none.
  virtual std::shared_ptr<PendingProjection> CompileProjectionAsync(
      const std::vector<const PExpr*>& /*exprs*/) {
    return nullptr;
  }
};

}  // namespace tql
