//! Filter predicates compiled to native code: each supported conjunct of a `where` becomes part
//! of one LLVM function over a batch that writes the selected row indexes branch-free. Literals
//! are lifted into a parameter block, so `duration > 250ms` and `duration > 1s` share one
//! kernel; kernels are cached by the normalized predicate and the column types (LRU, bounded).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/kernel_compiler.h"

namespace tql {

class JitEngine;
namespace jit {
struct Layout;
}

struct JitStats {
  int64_t kernels_compiled = 0;
  int64_t cache_hits = 0;
  double compile_ms = 0;          // wall time the queries waited for kernels (the first tier)
  int64_t kernels_optimized = 0;  // second-tier kernels swapped in
  double optimize_ms = 0;         // wall time of the background optimized compiles
};

class JitKernelCompiler final : public KernelCompiler {
 public:
  // `keep_ir`: keep the optimized IR of every kernel for ir() (printing it costs about as much
  // as optimizing it).
  // Two tiers by default: a kernel is first compiled quickly (JitEngine::Tier::kFast), which is
  // what a query waits for, and compiled again optimized on a background thread; the optimized
  // code replaces the first tier's in the same kernel when it is ready (in flight, for every
  // filter using it). One tier only: for tests of each, and for explain.
  enum class Tiers { kTiered, kFastOnly, kOptimizedOnly };
  // `keep_ir` keeps the optimized IR of every kernel for ir() (printing it costs about as much
  // as optimizing it) and implies kOptimizedOnly.
  static Result<std::unique_ptr<JitKernelCompiler>> Create(size_t cache_capacity = 256,
                                                           bool keep_ir = false,
                                                           Tiers tiers = Tiers::kTiered);
  ~JitKernelCompiler() override;

  std::shared_ptr<const CompiledFilter> CompileFilter(const PExpr& predicate,
                                                      std::vector<const PExpr*>* residual) override;
  std::shared_ptr<PendingFilter> CompileFilterAsync(const PExpr& predicate) override;
  std::shared_ptr<const CompiledAggregate> CompileAggregate(const AggregateFusion& fusion) override;
  std::shared_ptr<PendingAggregate> CompileAggregateAsync(const AggregateFusion& fusion) override;
  std::shared_ptr<const CompiledProjection> CompileProjection(
      const std::vector<const PExpr*>& exprs) override;
  std::shared_ptr<PendingProjection> CompileProjectionAsync(
      const std::vector<const PExpr*>& exprs) override;

  JitStats stats() const;
  // Compiles a throwaway kernel on each tier on the background thread, so that LLVM's one-time
  // initialization (a process's first kernel takes 12-20 ms instead of 4) overlaps with what
  // the caller does next, e.g. loading its inputs. Two tiers only; call it before the first
  // CompileFilter. The compiler must then be destroyed (or quiesced) before the process exits.
  void WarmUpInBackground();
  // Stops the background thread (what is queued is dropped; a compile under way finishes).
  // The destructor does it; so does an exit handler, for compilers still alive at exit.
  void StopBackgroundWork();
  // Blocks until every background compile has finished. (A compiler alive at exit is stopped
  // by an exit handler that runs before LLVM's first-use statics are destroyed.)
  void WaitForOptimized();
  // The optimized IR of the kernels compiled so far, in order (for `tql explain --ir`), when
  // the compiler was created to keep it.
  std::vector<std::string> ir() const;

 private:
  struct Kernel;
  JitKernelCompiler(std::unique_ptr<JitEngine> optimized, std::unique_ptr<JitEngine> fast,
                    size_t capacity, bool keep_ir);
  // Generates and compiles a kernel named `name` on `engine`, giving its address; `ir`
  // (when set) receives the optimized IR.
  using Build =
      std::function<Result<void*>(JitEngine& engine, const std::string& name, std::string* ir)>;
  // The cached kernel for `key`, or a new one built by `first` on the first tier (and by
  // `optimize`, which must own what it reads, on the optimized tier in the background); null
  // when it does not compile.
  std::shared_ptr<const Kernel> FindOrBuild(const std::string& key, const char* prefix,
                                            const Build& first, Build optimize);
  // The part of a cache key that is not the expression: each slot's storage, the target CPU.
  std::string StorageKey(const jit::Layout& layout) const;
  // `owned` keeps the expressions of `fusion` alive when they are a copy.
  std::shared_ptr<const CompiledAggregate> CompileAggregate(const AggregateFusion& fusion,
                                                            std::shared_ptr<const void> owned);
  // Runs `job` on a thread of its own, counted in in_flight_ (the destructor waits for it).
  void CompileInBackground(std::function<void()> job);
  std::shared_ptr<const CompiledProjection> CompileProjection(
      const std::vector<const PExpr*>& exprs, std::shared_ptr<const void> owned);
  // REQUIRES: mu_ held.
  void OptimizeInBackground(std::shared_ptr<const Kernel> kernel, const std::string& name,
                            Build build);

  void OptimizeLoop();

  std::unique_ptr<JitEngine> engine_;       // the optimized tier (null: the first tier only)
  std::unique_ptr<JitEngine> fast_engine_;  // the first tier (null: optimized only)
  // The optimized tier's queue (guarded by mu_) and its one worker thread, which is the only
  // user of engine_ while the compiler has a first tier.
  static constexpr size_t kMaxOptimizeQueue = 64;
  std::deque<std::function<void()>> optimize_queue_;
  std::thread optimizer_;
  std::condition_variable optimize_cv_;
  bool optimizing_ = false;
  std::mutex join_mu_;  // the exit handler and the destructor may both stop the thread
  bool stopping_ = false;
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
