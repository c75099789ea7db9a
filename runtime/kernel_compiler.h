//! The seam between the interpreter and compiled kernels. The executor asks a KernelCompiler
//! (the LLVM JIT in codegen/, when the build has it) for a kernel for a plan's predicate, and
//! runs on the interpreter whatever the compiler does not take. A compiled kernel is immutable
//! and can run from many threads at once.
#pragma once

#include <memory>
#include <vector>

#include "runtime/batch.h"
#include "runtime/expression.h"

namespace tql {

class CompiledFilter {
 public:
  virtual ~CompiledFilter() = default;
  // The rows of `sel` where the predicate is true (false and null drop the row), in order.
  virtual Selection Select(const Batch& batch, const Selection& sel) const = 0;
};

class KernelCompiler {
 public:
  virtual ~KernelCompiler() = default;
  // A kernel for the conjuncts of `predicate` (the operands of a top-level `and`, or the
  // predicate itself) that the compiler handles, or null when it handles none. The conjuncts
  // it does not handle are appended to `residual`, for the interpreter to apply after it.
  virtual std::shared_ptr<const CompiledFilter> CompileFilter(
      const PExpr& predicate, std::vector<const PExpr*>* residual) = 0;
};

}  // namespace tql
