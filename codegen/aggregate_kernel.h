//! Fused updates: the filters straight above a scan and the summarize (or count) they feed,
//! compiled into one function over a batch. Without a key, dense rows are evaluated 8 at a time
//! with the aggregates' states in vector registers; with one int64-backed key (a column, an
//! expression, or `bin(x, size)`), each passing row finds its group through the last key seen
//! (time-ordered rows stay in one bin for long runs) and the operator's hash table otherwise,
//! and updates the group's states in place; a string key with a dictionary finds its group
//! through the operator's map of codes to groups. Percentiles add to their sketches through
//! a runtime function, a value at a time. Internal to codegen/.
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

// Normalizes the conjuncts, then the key, then each aggregate's argument into `layout`, and
// their shape into `key`; false when a kernel cannot take all of `fusion`.
bool NormalizeFusion(const AggregateFusion& fusion, Layout* layout, std::string* key);

// Generates the fused update `name` for `fusion` (normalized into `layout`), compiles it and
// returns its address; `ir` receives the optimized IR. REQUIRES: calls serialized per engine.
Result<void*> BuildAggregateKernel(JitEngine& engine, const std::string& name,
                                   const AggregateFusion& fusion, const Layout& layout,
                                   std::string* ir);

// A copy of a fusion's expressions, for compiles that outlive the caller's plan.
struct OwnedFusion {
  std::vector<PExprPtr> exprs;
  AggregateFusion fusion;
};
std::shared_ptr<OwnedFusion> CopyFusion(const AggregateFusion& fusion);

// Runs a fused update over batches bound to its slots.
class JitAggregate final : public CompiledAggregate {
 public:
  JitAggregate(std::shared_ptr<const void> kernel, const std::atomic<KernelFn>* fn,
               const AggregateFusion& fusion, const Layout& layout,
               std::shared_ptr<const void> owned = nullptr);
  Result<bool> Update(const Batch& batch, const Selection& sel, const EvalContext& ctx,
                      AggregateKernelState* state) const override;

 private:
  bool dictionary_key_;                 // the key is a string column's dictionary codes
  std::shared_ptr<const void> kernel_;  // keeps the kernel alive
  const std::atomic<KernelFn>* fn_;     // the kernel's current code
  KernelBinding binding_;
  std::vector<uint64_t> params_;
  std::shared_ptr<const void> owned_;  // the expressions, when they are a copy
};

}  // namespace tql::jit
