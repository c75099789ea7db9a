//! The seam between the interpreter and compiled kernels. The executor asks a KernelCompiler
//! (the LLVM JIT in codegen/, when the build has it) for a kernel for a plan's predicate, and
//! runs on the interpreter whatever the compiler does not take. A compiled kernel is immutable
//! and can run from many threads at once.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "runtime/batch.h"
#include "runtime/expression.h"

namespace tql {

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
};

}  // namespace tql
