//! Filter predicates compiled to native code: each supported conjunct of a `where` becomes part
//! of one LLVM function over a batch that writes the selected row indexes branch-free. Literals
//! are lifted into a parameter block, so `duration > 250ms` and `duration > 1s` share one
//! kernel; kernels are cached by the normalized predicate and the column types (LRU, bounded).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/kernel_compiler.h"

namespace tql {

class JitEngine;

struct JitStats {
  int64_t kernels_compiled = 0;
  int64_t cache_hits = 0;
  double compile_ms = 0;  // total wall time spent generating and compiling kernels
};

class JitKernelCompiler final : public KernelCompiler {
 public:
  // `keep_ir`: keep the optimized IR of every kernel for ir() (printing it costs about as much
  // as optimizing it).
  static Result<std::unique_ptr<JitKernelCompiler>> Create(size_t cache_capacity = 256,
                                                           bool keep_ir = false);
  ~JitKernelCompiler() override;

  std::shared_ptr<const CompiledFilter> CompileFilter(const PExpr& predicate,
                                                      std::vector<const PExpr*>* residual) override;
  std::shared_ptr<PendingFilter> CompileFilterAsync(const PExpr& predicate) override;

  JitStats stats() const;
  // The optimized IR of the kernels compiled so far, in order (for `tql explain --ir`), when
  // the compiler was created to keep it.
  std::vector<std::string> ir() const;

 private:
  struct Kernel;
  JitKernelCompiler(std::unique_ptr<JitEngine> engine, size_t capacity, bool keep_ir);

  std::unique_ptr<JitEngine> engine_;
  size_t capacity_;
  bool keep_ir_;
  mutable std::mutex mu_;
  // LRU: the most recently used key first; the map points into the list.
  std::list<std::pair<std::string, std::shared_ptr<const Kernel>>> lru_;
  std::map<std::string, decltype(lru_)::iterator> cache_;
  JitStats stats_;
  std::vector<std::string> ir_;
  int64_t next_id_ = 0;
  // Background compiles still running (the destructor waits for them).
  int in_flight_ = 0;
  std::condition_variable idle_;
};

}  // namespace tql
