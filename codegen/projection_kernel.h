//! Projection kernels: the computed columns of an `extend` or `project` (numbers and bools:
//! arithmetic, comparisons, logic, string predicates through match tables) as one function
//! over a batch that writes each column's values and validity, 8 rows at a time for a dense
//! batch and row by row for the rows of a selection. Internal to codegen/.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "codegen/kernel_binding.h"
#include "codegen/kernel_ir.h"
#include "runtime/kernel_compiler.h"

namespace tql {
class JitEngine;
}

namespace tql::jit {

// Normalizes the expressions a kernel computes into `layout` and `key` and lists their indexes
// in `computed` (plain columns, constants, and what does not normalize stay out). False when
// there are none.
bool NormalizeProjection(const std::vector<const PExpr*>& exprs, std::vector<size_t>* computed,
                         Layout* layout, std::string* key);

// Generates and compiles the kernel `name` computing `exprs` (normalized into `layout`).
Result<void*> BuildProjectionKernel(JitEngine& engine, const std::string& name,
                                    const std::vector<const PExpr*>& exprs, const Layout& layout,
                                    std::string* ir);

class JitProjection final : public CompiledProjection {
 public:
  JitProjection(std::shared_ptr<const void> kernel, const std::atomic<KernelFn>* fn,
                std::vector<size_t> computed, std::vector<TypeId> types, const Layout& layout,
                std::shared_ptr<const void> owned = nullptr);
  const std::vector<size_t>& columns() const override { return computed_; }
  Result<bool> Project(const Batch& batch, const Selection& sel, const EvalContext& ctx,
                       std::vector<Vector>* out) const override;

 private:
  std::shared_ptr<const void> kernel_;  // keeps the kernel alive
  const std::atomic<KernelFn>* fn_;
  std::vector<size_t> computed_;
  std::vector<TypeId> types_;  // of each computed column
  KernelBinding binding_;
  std::vector<uint64_t> params_;
  std::shared_ptr<const void> owned_;  // the expressions, when they are a copy
};

}  // namespace tql::jit
