#include "codegen/filter_compiler.h"

#include <fmt/format.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <numeric>
#include <set>
#include <thread>

#include "codegen/aggregate_kernel.h"
#include "codegen/jit_engine.h"
#include "codegen/kernel_binding.h"
#include "codegen/kernel_ir.h"
#include "codegen/projection_kernel.h"

namespace tql {

using jit::Emitter;
using jit::KernelFn;
using jit::Layout;
using jit::Leaf;
using jit::Normalize;
using jit::Slots;
using jit::Storage;

struct JitKernelCompiler::Kernel {
  // The code to run: the first tier's, replaced by the optimized tier's once that compiles.
  mutable std::atomic<KernelFn> fn{nullptr};
};

namespace {

// Runs a filter kernel over a batch bound to its slots (KernelBinding) and the rows of `sel`.
class JitFilter final : public CompiledFilter {
 public:
  JitFilter(std::shared_ptr<const void> kernel, const std::atomic<KernelFn>* fn,
            const Layout& layout, std::vector<const PExpr*> conjuncts)
      : kernel_(std::move(kernel)),
        fn_(fn),
        binding_(layout),
        params_(layout.params),
        conjuncts_(std::move(conjuncts)) {}

  Result<Selection> Select(const Batch& batch, const Selection& sel,
                           const EvalContext& ctx) const override {
    const int64_t count = sel.count();
    if (count == 0) return sel;
    jit::BoundBatch bound;
    TQL_ASSIGN_OR_RETURN(bool readable, binding_.Bind(batch, sel, ctx, true, &bound));
    if (!readable) return Interpret(batch, sel, ctx);  // a layout the kernel does not read
    // The kernel writes into a per-thread scratch (8 rows at a time, so 8 more than `count`);
    // the selection copies only the rows that passed.
    thread_local std::vector<int32_t> scratch;
    if (scratch.size() < static_cast<size_t>(count) + 8) {
      scratch.resize(static_cast<size_t>(count) + 8);
    }
    const KernelFn fn = fn_->load(std::memory_order_acquire);
    const int64_t n =
        fn(bound.data.data(), bound.validity.data(), params_.data(), bound.tables.data(),
           sel.dense() ? nullptr : sel.rows().data(), count, scratch.data());
    Selection result;
    if (n == count && sel.dense()) {
      result = Selection::All(count);
    } else {
      result = Selection::Of(std::vector<int32_t>(scratch.begin(), scratch.begin() + n));
    }
    // Whole string conjuncts over a column without a dictionary: applied after the kernel, to
    // the rows the other conjuncts leave.
    return SelectAllTrue(bound.deferred, batch, std::move(result), ctx);
  }

 private:
  // The conjuncts on the interpreter.
  Result<Selection> Interpret(const Batch& batch, Selection sel, const EvalContext& ctx) const {
    return SelectAllTrue(conjuncts_, batch, std::move(sel), ctx);
  }

  std::shared_ptr<const void> kernel_;  // keeps the kernel alive while this filter exists
  const std::atomic<KernelFn>* fn_;     // the kernel's current code
  jit::KernelBinding binding_;
  std::vector<uint64_t> params_;
  std::vector<const PExpr*> conjuncts_;
};

}  // namespace

namespace {

// For each byte of 8 selection bits, the positions of its set bits, in order (then zeros).
constexpr const char* kPositionsSymbol = "tql_selection_positions";
const std::array<uint32_t, 256 * 8>& Positions() {
  static const std::array<uint32_t, 256 * 8> positions = [] {
    std::array<uint32_t, 256 * 8> p{};
    for (unsigned m = 0; m < 256; ++m) {
      unsigned n = 0;
      for (unsigned bit = 0; bit < 8; ++bit) {
        if ((m >> bit) & 1) p[m * 8 + n++] = bit;
      }
    }
    return p;
  }();
  return positions;
}

// Generates the kernel `name` for the conjuncts (normalized into `layout`), compiles it and
// returns its address; `ir` receives the optimized IR. REQUIRES: calls serialized.
Result<void*> BuildKernel(JitEngine& engine, const std::string& name,
                          const std::vector<const PExpr*>& conjuncts, const Layout& layout,
                          std::string* ir) {
  jit::KernelModule generated(name);
  llvm::LLVMContext* context = generated.context();
  llvm::Module* module = generated.module();
  llvm::IRBuilder<>& b = generated.builder();
  llvm::Type* ptr = b.getPtrTy();
  llvm::Type* i64 = b.getInt64Ty();
  const jit::KernelFunction& kernel = generated.kernel();
  llvm::Function* fn = kernel.fn;
  llvm::Value* data_arg = kernel.data;
  llvm::Value* validity_arg = kernel.validity;
  llvm::Value* params = kernel.params;
  llvm::Value* tables_arg = kernel.tables;
  llvm::Value* sel = kernel.sel;
  llvm::Value* count = kernel.count;
  llvm::Value* out = kernel.out;

  auto block = [&](const char* label) { return llvm::BasicBlock::Create(*context, label, fn); };
  llvm::BasicBlock* entry = block("entry");
  llvm::BasicBlock* start = block("start");
  llvm::BasicBlock* dense = block("dense");
  llvm::BasicBlock* vector_body = block("vector");
  llvm::BasicBlock* tail = block("tail");
  llvm::BasicBlock* tail_body = block("tail.body");
  llvm::BasicBlock* sparse = block("sparse");
  llvm::BasicBlock* done = block("done");
  auto load_slots = [&](llvm::Value* d, llvm::Value* v, llvm::Value* t) {
    return jit::LoadSlots(b, layout, d, v, t);
  };
  // Whether every conjunct holds (true, not null) at the rows of `row`.
  auto pass_at = [&](const Slots& slots, llvm::Value* p, llvm::Value* row, unsigned lanes) {
    Emitter emit(b, layout, slots.data, slots.validity, slots.tables, p, row, lanes);
    return jit::EmitConjuncts(b, emit, conjuncts);
  };

  // The predicate at one row, as a function of its own that both row-by-row loops call: the
  // predicate's code is generated twice (8 rows, one row), not once per loop.
  auto* row_type = llvm::FunctionType::get(b.getInt1Ty(), {ptr, ptr, ptr, ptr, i64}, false);
  auto* row_fn =
      llvm::Function::Create(row_type, llvm::Function::PrivateLinkage, name + "_row", *module);
  row_fn->addFnAttr(llvm::Attribute::NoInline);
  b.SetInsertPoint(llvm::BasicBlock::Create(*context, "entry", row_fn));
  {
    const Slots slots = load_slots(row_fn->getArg(0), row_fn->getArg(1), row_fn->getArg(3));
    b.CreateRet(pass_at(slots, row_fn->getArg(2), row_fn->getArg(4), 1));
  }

  b.SetInsertPoint(entry);
  const Slots slots = load_slots(data_arg, validity_arg, tables_arg);
  b.CreateCondBr(b.CreateICmpSGT(count, b.getInt64(0)), start, done);
  b.SetInsertPoint(start);
  b.CreateCondBr(b.CreateIsNull(sel), dense, sparse);

  // Dense input, 8 rows at a time: the predicate as a vector, its mask as a byte, and the
  // selected rows written at once from a table of the positions of the bits of each byte
  // (the caller's output has room for 8 more rows than it can receive).
  // The table is a host symbol (kPositionsSymbol), shared by every kernel.
  auto* positions_table =
      new llvm::GlobalVariable(*module, llvm::ArrayType::get(b.getInt32Ty(), 256 * 8), true,
                               llvm::GlobalValue::ExternalLinkage, nullptr, kPositionsSymbol);
  b.SetInsertPoint(dense);
  llvm::Value* vector_end = b.CreateAnd(count, b.getInt64(~int64_t{7}));
  b.CreateCondBr(b.CreateICmpSGT(vector_end, b.getInt64(0)), vector_body, tail);
  b.SetInsertPoint(vector_body);
  llvm::PHINode* vk = b.CreatePHI(i64, 2);
  llvm::PHINode* vn = b.CreatePHI(i64, 2);
  vk->addIncoming(b.getInt64(0), dense);
  vn->addIncoming(b.getInt64(0), dense);
  llvm::Value* mask = b.CreateBitCast(pass_at(slots, params, vk, 8), b.getInt8Ty());
  llvm::Type* v8i32 = llvm::FixedVectorType::get(b.getInt32Ty(), 8);
  llvm::Value* offsets =
      b.CreateAlignedLoad(v8i32,
                          b.CreateGEP(b.getInt32Ty(), positions_table,
                                      b.CreateMul(b.CreateZExt(mask, i64), b.getInt64(8))),
                          llvm::Align(4));
  llvm::Value* rows =
      b.CreateAdd(offsets, b.CreateVectorSplat(8, b.CreateTrunc(vk, b.getInt32Ty())));
  b.CreateAlignedStore(rows, b.CreateGEP(b.getInt32Ty(), out, vn), llvm::Align(4));
  llvm::Value* vn_next =
      b.CreateAdd(vn, b.CreateZExt(b.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, mask), i64));
  llvm::Value* vk_next = b.CreateAdd(vk, b.getInt64(8));
  llvm::BasicBlock* vector_latch = b.GetInsertBlock();
  vk->addIncoming(vk_next, vector_latch);
  vn->addIncoming(vn_next, vector_latch);
  b.CreateCondBr(b.CreateICmpSLT(vk_next, vector_end), vector_body, tail);

  b.SetInsertPoint(tail);
  llvm::PHINode* tk = b.CreatePHI(i64, 2);
  llvm::PHINode* tn = b.CreatePHI(i64, 2);
  tk->addIncoming(b.getInt64(0), dense);
  tn->addIncoming(b.getInt64(0), dense);
  tk->addIncoming(vk_next, vector_latch);
  tn->addIncoming(vn_next, vector_latch);
  b.CreateCondBr(b.CreateICmpSLT(tk, count), tail_body, done);

  // Row by row: the rows after the last multiple of 8, or the rows listed in `sel`. Each
  // row's index is stored, and the output count advances only when the predicate holds.
  auto loop = [&](llvm::BasicBlock* pre, llvm::BasicBlock* body, llvm::Value* k0, llvm::Value* n0,
                  bool listed) {
    b.SetInsertPoint(body);
    llvm::PHINode* k = b.CreatePHI(i64, 2);
    llvm::PHINode* n = b.CreatePHI(i64, 2);
    k->addIncoming(k0, pre);
    n->addIncoming(n0, pre);
    llvm::Value* row =
        listed
            ? b.CreateSExt(b.CreateLoad(b.getInt32Ty(), b.CreateGEP(b.getInt32Ty(), sel, k)), i64)
            : static_cast<llvm::Value*>(k);
    llvm::Value* pass = b.CreateCall(row_fn, {data_arg, validity_arg, params, tables_arg, row});
    b.CreateStore(b.CreateTrunc(row, b.getInt32Ty()), b.CreateGEP(b.getInt32Ty(), out, n));
    llvm::Value* next_n = b.CreateAdd(n, b.CreateZExt(pass, i64));
    llvm::Value* next_k = b.CreateAdd(k, b.getInt64(1));
    llvm::BasicBlock* latch = b.GetInsertBlock();
    k->addIncoming(next_k, latch);
    n->addIncoming(next_n, latch);
    b.CreateCondBr(b.CreateICmpSLT(next_k, count), body, done);
    return std::make_pair(latch, next_n);
  };
  auto [tail_end, tail_n] = loop(tail, tail_body, tk, tn, false);
  auto [sparse_end, sparse_n] = loop(start, sparse, b.getInt64(0), b.getInt64(0), true);
  b.SetInsertPoint(done);
  llvm::PHINode* result = b.CreatePHI(i64, 4);
  result->addIncoming(b.getInt64(0), entry);
  result->addIncoming(tn, tail);
  result->addIncoming(tail_n, tail_end);
  result->addIncoming(sparse_n, sparse_end);
  b.CreateRet(result);

  return generated.Compile(engine, ir);
}

}  // namespace

namespace {

// The compilers alive in the process, for the exit handler (leaked: it must outlive every
// static destructor).
std::mutex& LiveMutex() {
  static std::mutex* mu = new std::mutex;
  return *mu;
}
std::set<JitKernelCompiler*>& Live() {
  static std::set<JitKernelCompiler*>* live = new std::set<JitKernelCompiler*>;
  return *live;
}

void StopAllAtExit() {
  std::lock_guard<std::mutex> lock(LiveMutex());
  for (JitKernelCompiler* c : Live()) c->StopBackgroundWork();
}

// Registers StopAllAtExit once. Called after a kernel has compiled, so after LLVM made the
// statics it makes on first use: exit handlers run in reverse order of registration, so the
// background work stops before those statics are destroyed, even when the host never frees
// its compiler or keeps it in a static.
void StopAtExitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(StopAllAtExit); });
}

}  // namespace

Result<std::unique_ptr<JitKernelCompiler>> JitKernelCompiler::Create(size_t cache_capacity,
                                                                     bool keep_ir, Tiers tiers) {
  // Printing the IR is for explain: the optimized kernel, compiled before it is shown.
  if (keep_ir) tiers = Tiers::kOptimizedOnly;
  std::unique_ptr<JitEngine> optimized, fast;
  if (tiers != Tiers::kFastOnly) {
    TQL_ASSIGN_OR_RETURN(optimized, JitEngine::Create(JitEngine::Tier::kOptimized));
    TQL_RETURN_IF_ERROR(optimized->DefineAbsolute(kPositionsSymbol, Positions().data()));
  }
  if (tiers != Tiers::kOptimizedOnly) {
    TQL_ASSIGN_OR_RETURN(fast, JitEngine::Create(JitEngine::Tier::kFast));
    TQL_RETURN_IF_ERROR(fast->DefineAbsolute(kPositionsSymbol, Positions().data()));
  }
  std::unique_ptr<JitKernelCompiler> compiler(new JitKernelCompiler(
      std::move(optimized), std::move(fast), std::max<size_t>(1, cache_capacity), keep_ir));
  return compiler;
}

void JitKernelCompiler::WarmUpInBackground() {
  // LLVM initializes much of its code generation on first use (a process's first kernel takes
  // 12-20 ms instead of 4): compile a throwaway `column > p0` on each tier while the caller
  // loads its data. Not cached, not counted.
  std::lock_guard<std::mutex> lock(mu_);
  if (!fast_engine_ || !engine_ || optimizer_.joinable()) return;
  optimize_queue_.push_back([this] {
    auto predicate = std::make_unique<PExpr>();
    predicate->kind = PKind::kCompare;
    predicate->type = TypeId::kBool;
    predicate->compare_op = CompareOp::kGt;
    auto column = std::make_unique<PExpr>();
    column->kind = PKind::kColumn;
    column->type = TypeId::kInt;
    column->column = 0;
    auto constant = std::make_unique<PExpr>();
    constant->kind = PKind::kConstant;
    constant->type = TypeId::kInt;
    constant->constant = Value::Int(0);
    predicate->args.push_back(std::move(column));
    predicate->args.push_back(std::move(constant));
    Layout layout;
    std::string key;
    if (!Normalize(*predicate, &layout, &key)) return;
    const std::vector<const PExpr*> conjuncts = {predicate.get()};
    {
      std::lock_guard<std::mutex> fast_lock(mu_);  // the first tier's engine is used under mu_
      (void)BuildKernel(*fast_engine_, "tql_warm_up", conjuncts, layout, nullptr);
    }
    (void)BuildKernel(*engine_, "tql_warm_up_optimized", conjuncts, layout, nullptr);
  });
  optimizer_ = std::thread([this] { OptimizeLoop(); });
  optimize_cv_.notify_one();
}

JitKernelCompiler::JitKernelCompiler(std::unique_ptr<JitEngine> optimized,
                                     std::unique_ptr<JitEngine> fast, size_t capacity, bool keep_ir)
    : engine_(std::move(optimized)),
      fast_engine_(std::move(fast)),
      capacity_(capacity),
      keep_ir_(keep_ir) {
  std::lock_guard<std::mutex> lock(LiveMutex());
  Live().insert(this);
}

void JitKernelCompiler::StopBackgroundWork() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [this] { return in_flight_ == 0; });
    stopping_ = true;  // optimizations still queued are dropped
  }
  optimize_cv_.notify_all();
  std::lock_guard<std::mutex> lock(join_mu_);
  if (optimizer_.joinable() && optimizer_.get_id() != std::this_thread::get_id()) {
    optimizer_.join();
  }
}

JitKernelCompiler::~JitKernelCompiler() {
  {
    std::lock_guard<std::mutex> lock(LiveMutex());
    Live().erase(this);
  }
  StopBackgroundWork();
}

namespace {

// A kernel that keeps the predicate it was compiled from alive (its interpreter fallback reads
// the conjuncts).
class OwningFilter final : public CompiledFilter {
 public:
  OwningFilter(std::shared_ptr<const PExpr> predicate, std::shared_ptr<const CompiledFilter> inner)
      : predicate_(std::move(predicate)), inner_(std::move(inner)) {}
  Result<Selection> Select(const Batch& batch, const Selection& sel,
                           const EvalContext& ctx) const override {
    return inner_->Select(batch, sel, ctx);
  }

 private:
  std::shared_ptr<const PExpr> predicate_;
  std::shared_ptr<const CompiledFilter> inner_;
};

}  // namespace

std::shared_ptr<PendingFilter> JitKernelCompiler::CompileFilterAsync(const PExpr& predicate) {
  auto pending = std::make_shared<PendingFilter>();
  std::shared_ptr<const PExpr> copy(CloneExpr(predicate));
  CompileInBackground([this, pending, copy] {
    std::vector<const PExpr*> residual;
    std::shared_ptr<const CompiledFilter> kernel = CompileFilter(*copy, &residual);
    const std::vector<const PExpr*> conjuncts = Conjuncts(*copy);
    for (const PExpr* r : residual) {
      for (size_t i = 0; i < conjuncts.size(); ++i) {
        if (conjuncts[i] == r) pending->residual.push_back(i);
      }
    }
    if (kernel) pending->kernel = std::make_shared<OwningFilter>(copy, std::move(kernel));
    pending->ready.store(true, std::memory_order_release);
  });
  return pending;
}

void JitKernelCompiler::CompileInBackground(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++in_flight_;
  }
  std::thread([this, job = std::move(job)] {
    job();
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    idle_.notify_all();
  }).detach();
}

void JitKernelCompiler::OptimizeInBackground(std::shared_ptr<const Kernel> kernel,
                                             const std::string& name, Build build) {
  // REQUIRES: mu_ held. One worker thread compiles the queue in order; a kernel that finds
  // the queue full keeps its first-tier code (a burst of new filters cannot pile up threads).
  if (optimize_queue_.size() >= kMaxOptimizeQueue) return;
  optimize_queue_.push_back([this, kernel = std::move(kernel), name, build = std::move(build)] {
    const auto start = std::chrono::steady_clock::now();
    Result<void*> address = build(*engine_, name + "_optimized", nullptr);
    // On failure the first tier's code stays.
    if (address.ok()) {
      kernel->fn.store(reinterpret_cast<KernelFn>(*address), std::memory_order_release);
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (address.ok()) ++stats_.kernels_optimized;
    stats_.optimize_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  });
  if (!optimizer_.joinable()) {
    StopAtExitOnce();  // a kernel has compiled: LLVM's first-use statics exist
    optimizer_ = std::thread([this] { OptimizeLoop(); });
  }
  optimize_cv_.notify_one();
}

void JitKernelCompiler::OptimizeLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    optimize_cv_.wait(lock, [this] { return stopping_ || !optimize_queue_.empty(); });
    if (stopping_) return;
    std::function<void()> job = std::move(optimize_queue_.front());
    optimize_queue_.pop_front();
    optimizing_ = true;
    lock.unlock();
    job();             // only this thread uses the optimized engine
    StopAtExitOnce();  // after the warm-up, the first compile of the process
    lock.lock();
    optimizing_ = false;
    idle_.notify_all();
  }
}

void JitKernelCompiler::WaitForOptimized() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return optimize_queue_.empty() && !optimizing_; });
}

JitStats JitKernelCompiler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::vector<std::string> JitKernelCompiler::ir() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ir_;
}

std::shared_ptr<const CompiledFilter> JitKernelCompiler::CompileFilter(
    const PExpr& predicate, std::vector<const PExpr*>* residual) {
  const std::vector<const PExpr*> conjuncts = jit::OrderByCost(Conjuncts(predicate));
  std::vector<const PExpr*> compiled;
  Layout layout;
  std::string key;
  for (const PExpr* c : conjuncts) {
    // Normalized into a copy, kept only when the whole conjunct compiles.
    Layout with = layout;
    std::string with_key = key;
    if (c->type == TypeId::kBool && Normalize(*c, &with, &with_key)) {
      for (Leaf& leaf : with.leaves) leaf.top_level = leaf.top_level || leaf.expr == c;
      compiled.push_back(c);
      layout = std::move(with);
      key = std::move(with_key) + ';';
    } else {
      residual->push_back(c);
    }
  }
  if (compiled.empty()) return nullptr;
  // The optimized tier works on its own copy of the conjuncts, normalized again (the same
  // layout: normalization is deterministic).
  auto copies = std::make_shared<std::vector<PExprPtr>>();
  for (const PExpr* c : compiled) copies->push_back(CloneExpr(*c));
  Build optimize = [copies](JitEngine& engine, const std::string& name, std::string* ir) {
    Layout again;
    std::string unused;
    std::vector<const PExpr*> own;
    for (const PExprPtr& c : *copies) {
      const bool ok = Normalize(*c, &again, &unused);
      (void)ok;  // it normalized the first time
      for (Leaf& leaf : again.leaves) leaf.top_level = leaf.top_level || leaf.expr == c.get();
      own.push_back(c.get());
    }
    return BuildKernel(engine, name, own, again, ir);
  };
  Build first = [&](JitEngine& engine, const std::string& name, std::string* ir) {
    return BuildKernel(engine, name, compiled, layout, ir);
  };
  std::shared_ptr<const Kernel> kernel =
      FindOrBuild(key + StorageKey(layout), "tql_filter", first, std::move(optimize));
  if (kernel == nullptr) {
    residual->insert(residual->begin(), compiled.begin(), compiled.end());
    return nullptr;
  }
  return std::make_shared<JitFilter>(kernel, &kernel->fn, layout, std::move(compiled));
}

std::string JitKernelCompiler::StorageKey(const jit::Layout& layout) const {
  std::string key;
  for (const auto& [column, storage] : layout.columns) {
    key += fmt::format("|{}", static_cast<int>(storage));
  }
  return key + "|" + (engine_ ? engine_ : fast_engine_)->cpu();
}

std::shared_ptr<const JitKernelCompiler::Kernel> JitKernelCompiler::FindOrBuild(
    const std::string& key, const char* prefix, const Build& first, Build optimize) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    ++stats_.cache_hits;
    return it->second->second;
  }
  const auto start = std::chrono::steady_clock::now();
  const std::string name = fmt::format("{}_{}", prefix, next_id_++);
  std::string ir;
  // The first tier when there is one: the query waits only for it.
  Result<void*> address =
      first(fast_engine_ ? *fast_engine_ : *engine_, name, keep_ir_ ? &ir : nullptr);
  stats_.compile_ms +=
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!address.ok()) return nullptr;
  if (keep_ir_) ir_.push_back(fmt::format("; kernel {} for {}\n{}", name, key, ir));
  auto built = std::make_shared<Kernel>();
  built->fn.store(reinterpret_cast<KernelFn>(*address), std::memory_order_release);
  if (fast_engine_ && engine_) OptimizeInBackground(built, name, std::move(optimize));
  ++stats_.kernels_compiled;
  lru_.emplace_front(key, built);
  cache_[key] = lru_.begin();
  if (lru_.size() > capacity_) {
    cache_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return built;
}

std::shared_ptr<const CompiledAggregate> JitKernelCompiler::CompileAggregate(
    const AggregateFusion& fusion) {
  return CompileAggregate(fusion, nullptr);
}

std::shared_ptr<const CompiledAggregate> JitKernelCompiler::CompileAggregate(
    const AggregateFusion& fusion, std::shared_ptr<const void> owned) {
  Layout layout;
  std::string key;
  if (!jit::NormalizeFusion(fusion, &layout, &key)) return nullptr;
  auto copy = jit::CopyFusion(fusion);
  Build optimize = [copy](JitEngine& engine, const std::string& name, std::string* ir) {
    Layout again;
    std::string unused;
    const bool ok = jit::NormalizeFusion(copy->fusion, &again, &unused);
    (void)ok;  // it normalized the first time
    return jit::BuildAggregateKernel(engine, name, copy->fusion, again, ir);
  };
  Build first = [&](JitEngine& engine, const std::string& name, std::string* ir) {
    return jit::BuildAggregateKernel(engine, name, fusion, layout, ir);
  };
  std::shared_ptr<const Kernel> kernel =
      FindOrBuild(key + StorageKey(layout), "tql_update", first, std::move(optimize));
  if (kernel == nullptr) return nullptr;
  return std::make_shared<jit::JitAggregate>(kernel, &kernel->fn, fusion, layout, std::move(owned));
}

std::shared_ptr<const CompiledProjection> JitKernelCompiler::CompileProjection(
    const std::vector<const PExpr*>& exprs) {
  return CompileProjection(exprs, nullptr);
}

std::shared_ptr<const CompiledProjection> JitKernelCompiler::CompileProjection(
    const std::vector<const PExpr*>& exprs, std::shared_ptr<const void> owned) {
  Layout layout;
  std::string key;
  std::vector<size_t> computed;
  if (!jit::NormalizeProjection(exprs, &computed, &layout, &key)) return nullptr;
  std::vector<const PExpr*> compiled;
  std::vector<TypeId> types;
  for (size_t i : computed) {
    compiled.push_back(exprs[i]);
    types.push_back(exprs[i]->type);
  }
  auto copies = std::make_shared<std::vector<PExprPtr>>();
  for (const PExpr* e : compiled) copies->push_back(CloneExpr(*e));
  Build optimize = [copies](JitEngine& engine, const std::string& name, std::string* ir) {
    std::vector<const PExpr*> own;
    for (const PExprPtr& e : *copies) own.push_back(e.get());
    Layout again;
    std::string unused;
    std::vector<size_t> all;
    const bool ok = jit::NormalizeProjection(own, &all, &again, &unused);
    (void)ok;  // it normalized the first time, each of them
    return jit::BuildProjectionKernel(engine, name, own, again, ir);
  };
  Build first = [&](JitEngine& engine, const std::string& name, std::string* ir) {
    return jit::BuildProjectionKernel(engine, name, compiled, layout, ir);
  };
  std::shared_ptr<const Kernel> kernel =
      FindOrBuild(key + StorageKey(layout), "tql_project", first, std::move(optimize));
  if (kernel == nullptr) return nullptr;
  return std::make_shared<jit::JitProjection>(kernel, &kernel->fn, std::move(computed),
                                              std::move(types), layout, std::move(owned));
}

std::shared_ptr<PendingProjection> JitKernelCompiler::CompileProjectionAsync(
    const std::vector<const PExpr*>& exprs) {
  {
    Layout layout;
    std::string key;
    std::vector<size_t> computed;
    if (!jit::NormalizeProjection(exprs, &computed, &layout, &key)) return nullptr;
  }
  auto pending = std::make_shared<PendingProjection>();
  auto copies = std::make_shared<std::vector<PExprPtr>>();
  for (const PExpr* e : exprs) copies->push_back(CloneExpr(*e));
  CompileInBackground([this, pending, copies] {
    std::vector<const PExpr*> own;
    for (const PExprPtr& e : *copies) own.push_back(e.get());
    pending->kernel = CompileProjection(own, copies);
    pending->ready.store(true, std::memory_order_release);
  });
  return pending;
}

std::shared_ptr<PendingAggregate> JitKernelCompiler::CompileAggregateAsync(
    const AggregateFusion& fusion) {
  {
    Layout layout;
    std::string key;
    if (!jit::NormalizeFusion(fusion, &layout, &key)) return nullptr;
  }
  auto pending = std::make_shared<PendingAggregate>();
  std::shared_ptr<const jit::OwnedFusion> copy = jit::CopyFusion(fusion);
  CompileInBackground([this, pending, copy] {
    pending->kernel = CompileAggregate(copy->fusion, copy);
    pending->ready.store(true, std::memory_order_release);
  });
  return pending;
}

}  // namespace tql
