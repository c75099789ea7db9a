#include "codegen/aggregate_kernel.h"

#include <fmt/format.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cstddef>

#include "codegen/jit_engine.h"
#include "runtime/aggregate.h"

namespace tql::jit {

namespace {

// The fields of AggregateKernelState, as 8-byte words.
enum StateField : int64_t {
  kGroupOf = 0,
  kOwner = 1,
  kLastKey = 2,
  kLastGroup = 3,
  kNullGroup = 4,
  kArrays = 5,
  kSlots = 6,
  kSlotMask = 7,
  kKeys = 8,
  kCodeGroups = 9,
};
static_assert(offsetof(AggregateKernelState, group_of) == 8 * kGroupOf);
static_assert(offsetof(AggregateKernelState, owner) == 8 * kOwner);
static_assert(offsetof(AggregateKernelState, last_key) == 8 * kLastKey);
static_assert(offsetof(AggregateKernelState, last_group) == 8 * kLastGroup);
static_assert(offsetof(AggregateKernelState, null_group) == 8 * kNullGroup);
static_assert(offsetof(AggregateKernelState, arrays) == 8 * kArrays);
static_assert(offsetof(AggregateKernelState, slots) == 8 * kSlots);
static_assert(offsetof(AggregateKernelState, slot_mask) == 8 * kSlotMask);
static_assert(offsetof(AggregateKernelState, keys) == 8 * kKeys);
static_assert(offsetof(AggregateKernelState, code_groups) == 8 * kCodeGroups);

// `bin(x, size)` of int64 storage by a positive constant: the time bins of nearly every
// summarize, where the kernel keeps the bin of the last row.
bool IsBinKey(const PExpr& key) {
  return key.kind == PKind::kCall && key.function_name == "bin" && IsInt64Backed(key.type) &&
         key.args.size() == 2 && IsInt64Backed(key.args[0]->type) &&
         key.args[1]->kind == PKind::kConstant && !key.args[1]->constant.null &&
         IsInt64Backed(key.args[1]->constant.type) && key.args[1]->constant.i > 0;
}

bool IsSum(AggKind kind) {
  return kind == AggKind::kSum || kind == AggKind::kAvg;
}

// A string column with a dictionary: each code finds its group in the operator's map.
bool IsDictionaryKey(const PExpr* key) {
  return key != nullptr && key->kind == PKind::kColumn && IsStringBacked(key->type);
}

// An aggregate whose state is a sketch the kernel adds to through a runtime function, a value
// at a time.
bool IsSketch(AggKind kind) {
  return kind == AggKind::kPercentile;
}

llvm::Value* Field(llvm::IRBuilder<>& b, llvm::Value* state, StateField f) {
  return b.CreateGEP(b.getInt64Ty(), state, b.getInt64(static_cast<int64_t>(f)));
}

// The group of a non-null int64 key from the operator's table (AggregateKernelState::slots),
// probed inline as GroupTable::FindOrInsert would (the key's two words: the value and a zero
// null word, hashed as GroupTable::Hash does); a key not there yet goes to `insert`.
template <typename Insert>
llvm::Value* ProbeGroupTable(llvm::IRBuilder<>& b, llvm::Value* state, llvm::Value* key,
                             const Insert& insert) {
  llvm::Type* i64 = b.getInt64Ty();
  llvm::Function* fn = b.GetInsertBlock()->getParent();
  auto block = [&](const char* label) {
    return llvm::BasicBlock::Create(b.getContext(), label, fn);
  };
  auto shift_xor = [&](llvm::Value* h, uint64_t bits) {
    return b.CreateXor(h, b.CreateLShr(h, b.getInt64(bits)));
  };
  llvm::Value* h = b.CreateMul(shift_xor(key, 31), b.getInt64(0x9E3779B97F4A7C15ULL));
  h = b.CreateMul(shift_xor(h, 33), b.getInt64(0xff51afd7ed558ccdULL));
  h = b.CreateMul(shift_xor(h, 33), b.getInt64(0xc4ceb9fe1a85ec53ULL));
  h = shift_xor(h, 33);
  llvm::Value* tag = b.CreateLShr(h, b.getInt64(32));
  llvm::Value* table = b.CreateLoad(b.getPtrTy(), Field(b, state, kSlots));
  llvm::Value* slot_mask = b.CreateLoad(i64, Field(b, state, kSlotMask));
  llvm::Value* keys = b.CreateLoad(b.getPtrTy(), Field(b, state, kKeys));
  llvm::BasicBlock* start = b.GetInsertBlock();
  llvm::BasicBlock* probe = block("probe");
  llvm::BasicBlock* check = block("probe.check");
  llvm::BasicBlock* next = block("probe.next");
  llvm::BasicBlock* missing = block("probe.insert");
  llvm::BasicBlock* done = block("probe.done");
  llvm::Value* first = b.CreateAnd(h, slot_mask);
  b.CreateBr(probe);
  b.SetInsertPoint(probe);
  llvm::PHINode* i = b.CreatePHI(i64, 2);
  i->addIncoming(first, start);
  llvm::Value* slot = b.CreateLoad(i64, b.CreateGEP(i64, table, i));
  llvm::Value* slot_group = b.CreateAShr(slot, b.getInt64(32));
  b.CreateCondBr(b.CreateICmpSLT(slot_group, b.getInt64(0)), missing, check);
  b.SetInsertPoint(check);
  llvm::Value* at = b.CreateMul(slot_group, b.getInt64(2));
  llvm::Value* word = b.CreateLoad(i64, b.CreateGEP(i64, keys, at));
  llvm::Value* null_word =
      b.CreateLoad(i64, b.CreateGEP(i64, keys, b.CreateAdd(at, b.getInt64(1))));
  llvm::Value* match =
      b.CreateAnd(b.CreateICmpEQ(b.CreateAnd(slot, b.getInt64(0xFFFFFFFF)), tag),
                  b.CreateAnd(b.CreateICmpEQ(word, key), b.CreateICmpEQ(null_word, b.getInt64(0))));
  b.CreateCondBr(match, done, next);
  b.SetInsertPoint(next);
  i->addIncoming(b.CreateAnd(b.CreateAdd(i, b.getInt64(1)), slot_mask), next);
  b.CreateBr(probe);
  b.SetInsertPoint(missing);
  llvm::Value* inserted = insert(key, false);
  b.CreateBr(done);
  b.SetInsertPoint(done);
  llvm::PHINode* group = b.CreatePHI(i64, 2);
  group->addIncoming(slot_group, check);
  group->addIncoming(inserted, missing);
  return group;
}

using AggregateFn = int64_t (*)(const void* const* data, const uint8_t* const* validity,
                                const uint64_t* params, const uint32_t* const* tables,
                                const int32_t* sel, int64_t count, AggregateKernelState* state);

}  // namespace

bool NormalizeFusion(const AggregateFusion& fusion, Layout* layout, std::string* key) {
  *key += "update(";
  for (const PExpr* c : OrderByCost(fusion.conjuncts)) {
    if (c->type != TypeId::kBool || !Normalize(*c, layout, key)) return false;
    // A whole conjunct over one string column: over a column without a dictionary the
    // interpreter narrows the rows first (JitAggregate::Update), instead of a table per row.
    for (Leaf& leaf : layout->leaves) leaf.top_level = leaf.top_level || leaf.expr == c;
    *key += ';';
  }
  *key += ")by(";
  if (fusion.key != nullptr) {
    const PExpr& k = *fusion.key;
    if (IsBinKey(k)) {
      *key += "bin(";
      if (!Normalize(*k.args[0], layout, key)) return false;
      *key += fmt::format(",p{})", layout->Param(static_cast<uint64_t>(k.args[1]->constant.i)));
    } else if (IsDictionaryKey(&k)) {
      *key += fmt::format("codes{}", layout->Column(k.column, Storage::kCodes));
    } else if (!IsInt64Backed(k.type) || !Normalize(k, layout, key)) {
      return false;
    }
  }
  *key += ')';
  for (const AggregateFusion::Aggregate& a : fusion.aggregates) {
    switch (a.kind) {
      case AggKind::kCount:
        *key += a.arg == nullptr ? "count" : "count:";
        break;
      case AggKind::kCountIf:
        if (a.arg == nullptr || a.arg->type != TypeId::kBool) return false;
        *key += "countif:";
        break;
      case AggKind::kPercentile:
        // The fraction is the final step's: every percentile of x shares the kernel.
        if (a.arg == nullptr || !(IsInt64Backed(a.arg->type) || a.arg->type == TypeId::kFloat)) {
          return false;
        }
        *key += "sketch:";
        break;
      case AggKind::kSum:
      case AggKind::kAvg:
        // sum and avg keep the same state.
        if (a.arg == nullptr) return false;
        if (IsInt64Backed(a.arg->type)) {
          *key += "sumi:";
        } else if (a.arg->type == TypeId::kFloat) {
          *key += "sumf:";
        } else {
          return false;
        }
        break;
      default:
        return false;
    }
    if (a.arg != nullptr && !Normalize(*a.arg, layout, key)) return false;
    *key += ';';
  }
  return true;
}

std::shared_ptr<OwnedFusion> CopyFusion(const AggregateFusion& fusion) {
  auto copy = std::make_shared<OwnedFusion>();
  auto own = [&](const PExpr* e) -> const PExpr* {
    if (e == nullptr) return nullptr;
    copy->exprs.push_back(CloneExpr(*e));
    return copy->exprs.back().get();
  };
  for (const PExpr* c : fusion.conjuncts) copy->fusion.conjuncts.push_back(own(c));
  copy->fusion.key = own(fusion.key);
  for (const AggregateFusion::Aggregate& a : fusion.aggregates) {
    copy->fusion.aggregates.push_back({a.kind, own(a.arg)});
  }
  return copy;
}

Result<void*> BuildAggregateKernel(JitEngine& engine, const std::string& name,
                                   const AggregateFusion& fusion, const Layout& layout,
                                   std::string* ir) {
  KernelModule generated(name);
  llvm::LLVMContext* context = generated.context();
  llvm::Module* module = generated.module();
  llvm::IRBuilder<>& b = generated.builder();
  llvm::Type* ptr = b.getPtrTy();
  llvm::Type* i64 = b.getInt64Ty();
  llvm::Type* i128 = b.getInt128Ty();
  llvm::Type* f64 = b.getDoubleTy();
  const KernelFunction& kernel = generated.kernel();
  llvm::Function* fn = kernel.fn;
  llvm::Value* data_arg = kernel.data;
  llvm::Value* validity_arg = kernel.validity;
  llvm::Value* params = kernel.params;
  llvm::Value* tables_arg = kernel.tables;
  llvm::Value* sel = kernel.sel;
  llvm::Value* count = kernel.count;
  llvm::Value* state = kernel.out;  // the AggregateKernelState
  const bool keyed = fusion.key != nullptr;
  const std::vector<const PExpr*> conjuncts = OrderByCost(fusion.conjuncts);  // as normalized

  auto field = [&](llvm::Value* st, StateField f) { return Field(b, st, f); };
  // The state array `which` (0 counts, 1 integer sums, 2 float sums) of aggregate `a`.
  auto array = [&](llvm::Value* st, size_t a, int which) {
    llvm::Value* arrays = b.CreateLoad(ptr, field(st, kArrays));
    return b.CreateLoad(ptr,
                        b.CreateGEP(ptr, arrays, b.getInt64(static_cast<int64_t>(3 * a) + which)));
  };
  auto add_at = [&](llvm::Type* t, llvm::Value* base, llvm::Value* index, llvm::Value* x) {
    llvm::Value* p = b.CreateGEP(t, base, index);
    const llvm::Align align(t->getPrimitiveSizeInBits() / 8);
    llvm::Value* old = b.CreateAlignedLoad(t, p, align);
    b.CreateAlignedStore(t == f64 ? b.CreateFAdd(old, x) : b.CreateAdd(old, x), p, align);
  };

  // One row: `void row(data, validity, params, tables, state, row)` filters the row, finds its
  // group and updates its states. Shared by the row-by-row loops.
  auto* row_type = llvm::FunctionType::get(b.getVoidTy(), {ptr, ptr, ptr, ptr, ptr, i64}, false);
  auto* row_fn =
      llvm::Function::Create(row_type, llvm::Function::PrivateLinkage, name + "_row", *module);
  // Keyed by anything but a bin, the row function is the whole loop body; otherwise the 8-row
  // blocks take most rows, and the row function only the rest.
  bool sketches = false;
  for (const AggregateFusion::Aggregate& a : fusion.aggregates) sketches |= IsSketch(a.kind);
  const bool dictionary_key = IsDictionaryKey(fusion.key);
  const bool blocks = !sketches && (!keyed || IsBinKey(*fusion.key));
  row_fn->addFnAttr(blocks ? llvm::Attribute::NoInline : llvm::Attribute::AlwaysInline);
  {
    auto block = [&](const char* label) {
      return llvm::BasicBlock::Create(*context, label, row_fn);
    };
    llvm::BasicBlock* entry = block("entry");
    llvm::BasicBlock* update = block("update");
    llvm::BasicBlock* skip = block("skip");
    b.SetInsertPoint(entry);
    llvm::Value* st = row_fn->getArg(4);
    llvm::Value* row = row_fn->getArg(5);
    const Slots slots =
        LoadSlots(b, layout, row_fn->getArg(0), row_fn->getArg(1), row_fn->getArg(3));
    Emitter emit(b, layout, slots.data, slots.validity, slots.tables, row_fn->getArg(2), row, 1);
    llvm::Value* pass = EmitConjuncts(b, emit, conjuncts);
    if (pass == nullptr) {
      b.CreateBr(update);
    } else {
      b.CreateCondBr(pass, update, skip);
    }
    b.SetInsertPoint(skip);
    b.CreateRetVoid();

    b.SetInsertPoint(update);
    llvm::Value* group = b.getInt64(0);
    if (keyed) {
      auto* group_of_type = llvm::FunctionType::get(i64, {ptr, i64, i64}, false);
      auto call_group_of = [&](llvm::Value* key, bool is_null) {
        llvm::Value* callee = b.CreateLoad(ptr, field(st, kGroupOf));
        return b.CreateCall(group_of_type, callee, {st, key, b.getInt64(is_null ? 1 : 0)});
      };
      const bool bin = IsBinKey(*fusion.key);
      Val k = dictionary_key ? emit.Codes(fusion.key->column)
                             : emit.Emit(bin ? *fusion.key->args[0] : *fusion.key);
      llvm::Value* size = bin ? emit.NextParam() : nullptr;
      llvm::BasicBlock* valid_bb = block("key.valid");
      llvm::BasicBlock* null_bb = block("key.null");
      llvm::BasicBlock* null_new = block("key.null.new");
      llvm::BasicBlock* miss = block("key.miss");
      llvm::BasicBlock* lookup = block("key.lookup");
      llvm::BasicBlock* found = block("key.found");
      b.CreateCondBr(k.valid, valid_bb, null_bb);

      // The incoming groups of `found`, from the paths below.
      std::vector<std::pair<llvm::Value*, llvm::BasicBlock*>> groups;
      b.SetInsertPoint(valid_bb);
      if (dictionary_key) {
        // The code's group from the operator's map; a code not seen yet calls group_of.
        llvm::Value* map = b.CreateLoad(ptr, field(st, kCodeGroups));
        llvm::Value* code_group =
            b.CreateSExt(b.CreateLoad(b.getInt32Ty(), b.CreateGEP(b.getInt32Ty(), map, k.v)), i64);
        groups.emplace_back(code_group, valid_bb);
        b.CreateCondBr(b.CreateICmpSGE(code_group, b.getInt64(0)), found, lookup);
        b.SetInsertPoint(miss);
        b.CreateUnreachable();
        b.SetInsertPoint(lookup);
        groups.emplace_back(call_group_of(k.v, false), lookup);
        b.CreateBr(found);
      } else {
        llvm::Value* last_key = b.CreateLoad(i64, field(st, kLastKey));
        llvm::Value* last_group = b.CreateLoad(i64, field(st, kLastGroup));
        // In the last bin: lo <= x and x - lo < size (the first test keeps the wrapped
        // difference of extreme values from looking small).
        llvm::Value* same = bin ? b.CreateAnd(b.CreateICmpSGE(k.v, last_key),
                                              b.CreateICmpULT(b.CreateSub(k.v, last_key), size))
                                : b.CreateICmpEQ(k.v, last_key);
        llvm::Value* hit = b.CreateAnd(b.CreateICmpSGE(last_group, b.getInt64(0)), same);
        groups.emplace_back(last_group, valid_bb);
        b.CreateCondBr(hit, found, miss);

        // A key not seen last: its bin's low end (floor division; a bin below the range of
        // int64 is the null key, as in the interpreter), then the operator's table.
        b.SetInsertPoint(miss);
        llvm::Value* key = k.v;
        if (bin) {
          llvm::Value* q = b.CreateSDiv(k.v, size);
          llvm::Value* below = b.CreateAnd(b.CreateICmpNE(b.CreateSRem(k.v, size), b.getInt64(0)),
                                           b.CreateICmpSLT(k.v, b.getInt64(0)));
          q = b.CreateSub(q, b.CreateZExt(below, i64));
          llvm::Value* product =
              b.CreateBinaryIntrinsic(llvm::Intrinsic::smul_with_overflow, q, size);
          key = b.CreateExtractValue(product, 0);
          b.CreateCondBr(b.CreateExtractValue(product, 1), null_bb, lookup);
        } else {
          b.CreateBr(lookup);
        }
        b.SetInsertPoint(lookup);
        llvm::Value* looked_up = ProbeGroupTable(b, st, key, call_group_of);
        b.CreateStore(key, field(st, kLastKey));
        b.CreateStore(looked_up, field(st, kLastGroup));
        groups.emplace_back(looked_up, b.GetInsertBlock());
        b.CreateBr(found);
      }

      b.SetInsertPoint(null_bb);
      llvm::Value* null_group = b.CreateLoad(i64, field(st, kNullGroup));
      llvm::BasicBlock* null_known = b.GetInsertBlock();
      b.CreateCondBr(b.CreateICmpSGE(null_group, b.getInt64(0)), found, null_new);
      b.SetInsertPoint(null_new);
      llvm::Value* new_null = call_group_of(b.getInt64(0), true);
      b.CreateStore(new_null, field(st, kNullGroup));
      b.CreateBr(found);

      groups.emplace_back(null_group, null_known);
      groups.emplace_back(new_null, null_new);
      b.SetInsertPoint(found);
      llvm::PHINode* g = b.CreatePHI(i64, static_cast<unsigned>(groups.size()));
      for (const auto& [value, from] : groups) g->addIncoming(value, from);
      group = g;
    }
    // The states, in place (the arrays are read after the group: a new group may move them).
    for (size_t a = 0; a < fusion.aggregates.size(); ++a) {
      const AggregateFusion::Aggregate& agg = fusion.aggregates[a];
      if (agg.arg == nullptr) {
        add_at(i64, array(st, a, 0), group, b.getInt64(1));
        continue;
      }
      Val x = emit.Emit(*agg.arg);
      if (IsSketch(agg.kind)) {
        // add(accumulator, group, x) for a value that is not null, as a double.
        llvm::BasicBlock* add = block("sketch.add");
        llvm::BasicBlock* after = block("sketch.next");
        b.CreateCondBr(x.valid, add, after);
        b.SetInsertPoint(add);
        llvm::Value* value = IsInt64Backed(agg.arg->type) ? b.CreateSIToFP(x.v, f64) : x.v;
        auto* add_type = llvm::FunctionType::get(b.getVoidTy(), {ptr, i64, f64}, false);
        b.CreateCall(add_type, array(st, a, 1), {array(st, a, 0), group, value});
        b.CreateBr(after);
        b.SetInsertPoint(after);
        continue;
      }
      if (agg.kind == AggKind::kCountIf) {
        add_at(i64, array(st, a, 0), group, b.CreateZExt(b.CreateAnd(x.v, x.valid), i64));
        continue;
      }
      add_at(i64, array(st, a, 0), group, b.CreateZExt(x.valid, i64));
      if (!IsSum(agg.kind)) continue;
      if (IsInt64Backed(agg.arg->type)) {
        add_at(i128, array(st, a, 1), group,
               b.CreateSelect(x.valid, b.CreateSExt(x.v, i128), b.getIntN(128, 0)));
      } else {
        // A null adds -0.0, which leaves every sum as it was.
        add_at(f64, array(st, a, 2), group,
               b.CreateSelect(x.valid, x.v, llvm::ConstantFP::getNegativeZero(f64)));
      }
    }
    b.CreateRetVoid();
  }

  auto block = [&](const char* label) { return llvm::BasicBlock::Create(*context, label, fn); };
  llvm::BasicBlock* entry = block("entry");
  llvm::BasicBlock* start = block("start");
  llvm::BasicBlock* dense = block("dense");
  llvm::BasicBlock* sparse = blocks ? block("sparse") : nullptr;
  llvm::BasicBlock* done = block("done");
  b.SetInsertPoint(entry);
  b.CreateCondBr(b.CreateICmpSGT(count, b.getInt64(0)), start, done);
  b.SetInsertPoint(start);
  if (blocks) {
    b.CreateCondBr(b.CreateIsNull(sel), dense, sparse);
  } else {
    // One loop takes dense and listed rows alike (the row function is inlined into it once:
    // a loop per case would double the code to compile).
    b.CreateBr(dense);
  }

  // Rows [from, count) one at a time: row k with `listed` null, else the k-th row of `sel`
  // when `listed` is true at run time.
  auto row_loop = [&](llvm::BasicBlock* pre, llvm::Value* from, llvm::Value* listed) {
    llvm::BasicBlock* body = block("rows");
    b.CreateCondBr(b.CreateICmpSLT(from, count), body, done);
    b.SetInsertPoint(body);
    llvm::PHINode* k = b.CreatePHI(i64, 2);
    k->addIncoming(from, pre);
    llvm::Value* row = k;
    if (listed != nullptr) {
      llvm::BasicBlock* from_list = block("rows.listed");
      llvm::BasicBlock* call = block("rows.call");
      llvm::BasicBlock* here = b.GetInsertBlock();
      b.CreateCondBr(listed, from_list, call);
      b.SetInsertPoint(from_list);
      llvm::Value* listed_row =
          b.CreateSExt(b.CreateLoad(b.getInt32Ty(), b.CreateGEP(b.getInt32Ty(), sel, k)), i64);
      b.CreateBr(call);
      b.SetInsertPoint(call);
      llvm::PHINode* r = b.CreatePHI(i64, 2);
      r->addIncoming(k, here);
      r->addIncoming(listed_row, from_list);
      row = r;
    }
    b.CreateCall(row_fn, {data_arg, validity_arg, params, tables_arg, state, row});
    llvm::Value* next = b.CreateAdd(k, b.getInt64(1));
    k->addIncoming(next, b.GetInsertBlock());
    b.CreateCondBr(b.CreateICmpSLT(next, count), body, done);
  };

  if (blocks) {
    b.SetInsertPoint(sparse);
    row_loop(sparse, b.getInt64(0), b.getTrue());
  }

  b.SetInsertPoint(dense);
  if (!blocks) {
    row_loop(dense, b.getInt64(0), b.CreateIsNotNull(sel));
  } else if (keyed) {
    // A bin key: 8 rows at a time while every passing row of the 8 falls in the last row's bin
    // (time-ordered rows do, for long runs), adding the 8 rows' contributions to that group at
    // once; a block that leaves the bin (or holds a null key) takes the row function, row by
    // row, which finds the new group.
    llvm::Value* vector_end = b.CreateAnd(count, b.getInt64(~int64_t{7}));
    llvm::BasicBlock* vector_body = block("bins");
    llvm::BasicBlock* same_bin = block("bins.same");
    llvm::BasicBlock* rows_of_block = block("bins.rows");
    llvm::BasicBlock* latch = block("bins.next");
    llvm::BasicBlock* tail = block("tail");
    const Slots slots = LoadSlots(b, layout, data_arg, validity_arg, tables_arg);
    b.CreateCondBr(b.CreateICmpSGT(vector_end, b.getInt64(0)), vector_body, tail);

    b.SetInsertPoint(vector_body);
    llvm::PHINode* vk = b.CreatePHI(i64, 2);
    vk->addIncoming(b.getInt64(0), dense);
    llvm::Value* vk_next = b.CreateAdd(vk, b.getInt64(8));
    Emitter emit(b, layout, slots.data, slots.validity, slots.tables, params, vk, 8);
    llvm::Type* v8i1 = llvm::FixedVectorType::get(b.getInt1Ty(), 8);
    llvm::Value* pass = EmitConjuncts(b, emit, conjuncts);
    if (pass == nullptr) pass = llvm::Constant::getAllOnesValue(v8i1);
    Val k = emit.Emit(*fusion.key->args[0]);
    llvm::Value* size = b.CreateVectorSplat(8, emit.NextParam());
    llvm::Value* last_key = b.CreateVectorSplat(8, b.CreateLoad(i64, field(state, kLastKey)));
    llvm::Value* last_group = b.CreateLoad(i64, field(state, kLastGroup));
    llvm::Value* in_bin = b.CreateAnd(b.CreateICmpSGE(k.v, last_key),
                                      b.CreateICmpULT(b.CreateSub(k.v, last_key), size));
    llvm::Value* fine = b.CreateOr(b.CreateNot(pass), b.CreateAnd(k.valid, in_bin));
    llvm::Value* all_fine = b.CreateICmpEQ(b.CreateBitCast(fine, b.getInt8Ty()), b.getInt8(-1));
    b.CreateCondBr(b.CreateAnd(all_fine, b.CreateICmpSGE(last_group, b.getInt64(0))), same_bin,
                   rows_of_block);

    b.SetInsertPoint(same_bin);
    auto lanes_set = [&](llvm::Value* mask) {
      return b.CreateZExt(
          b.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, b.CreateBitCast(mask, b.getInt8Ty())),
          i64);
    };
    for (size_t a = 0; a < fusion.aggregates.size(); ++a) {
      const AggregateFusion::Aggregate& agg = fusion.aggregates[a];
      if (agg.arg == nullptr) {
        add_at(i64, array(state, a, 0), last_group, lanes_set(pass));
        continue;
      }
      Val x = emit.Emit(*agg.arg);
      llvm::Value* m =
          b.CreateAnd(pass, agg.kind == AggKind::kCountIf ? b.CreateAnd(x.v, x.valid) : x.valid);
      add_at(i64, array(state, a, 0), last_group, lanes_set(m));
      if (!IsSum(agg.kind)) continue;
      if (IsInt64Backed(agg.arg->type)) {
        llvm::Type* v8i128 = llvm::FixedVectorType::get(i128, 8);
        llvm::Value* wide =
            b.CreateSelect(m, b.CreateSExt(x.v, v8i128), llvm::Constant::getNullValue(v8i128));
        add_at(i128, array(state, a, 1), last_group, b.CreateAddReduce(wide));
      } else {
        llvm::Value* p = b.CreateGEP(f64, array(state, a, 2), last_group);
        llvm::Value* v =
            b.CreateSelect(m, x.v, b.CreateVectorSplat(8, llvm::ConstantFP::getNegativeZero(f64)));
        b.CreateStore(b.CreateFAddReduce(b.CreateLoad(f64, p), v), p);
      }
    }
    b.CreateBr(latch);

    // The block's rows one by one.
    b.SetInsertPoint(rows_of_block);
    llvm::BasicBlock* row_body = block("bins.row");
    b.CreateBr(row_body);
    b.SetInsertPoint(row_body);
    llvm::PHINode* j = b.CreatePHI(i64, 2);
    j->addIncoming(vk, rows_of_block);
    b.CreateCall(row_fn, {data_arg, validity_arg, params, tables_arg, state, j});
    llvm::Value* j_next = b.CreateAdd(j, b.getInt64(1));
    j->addIncoming(j_next, row_body);
    b.CreateCondBr(b.CreateICmpSLT(j_next, vk_next), row_body, latch);

    b.SetInsertPoint(latch);
    vk->addIncoming(vk_next, latch);
    b.CreateCondBr(b.CreateICmpSLT(vk_next, vector_end), vector_body, tail);

    b.SetInsertPoint(tail);
    llvm::PHINode* from = b.CreatePHI(i64, 2);
    from->addIncoming(b.getInt64(0), dense);
    from->addIncoming(vector_end, latch);
    row_loop(tail, from, nullptr);
  } else {
    // 8 rows at a time, the states in vector registers: counts as 8 lanes of int64, integer
    // sums as 8 lanes of 128 bits (a low and a high word, with the carry), float sums in row
    // order (an ordered reduction per 8 rows, so the result is the interpreter's to the bit).
    llvm::Type* v8i64 = llvm::FixedVectorType::get(i64, 8);
    llvm::Value* zeros = llvm::Constant::getNullValue(v8i64);
    const Slots slots = LoadSlots(b, layout, data_arg, validity_arg, tables_arg);
    std::vector<llvm::Value*> float_start(fusion.aggregates.size(), nullptr);
    for (size_t a = 0; a < fusion.aggregates.size(); ++a) {
      const AggregateFusion::Aggregate& agg = fusion.aggregates[a];
      if (IsSum(agg.kind) && agg.arg->type == TypeId::kFloat) {
        float_start[a] = b.CreateLoad(f64, array(state, a, 2));
      }
    }
    llvm::Value* vector_end = b.CreateAnd(count, b.getInt64(~int64_t{7}));
    llvm::BasicBlock* vector_body = block("vector");
    llvm::BasicBlock* vector_exit = block("vector.exit");
    llvm::BasicBlock* tail = block("tail");
    b.CreateCondBr(b.CreateICmpSGT(vector_end, b.getInt64(0)), vector_body, tail);

    b.SetInsertPoint(vector_body);
    llvm::PHINode* vk = b.CreatePHI(i64, 2);
    vk->addIncoming(b.getInt64(0), dense);
    struct Lanes {
      llvm::PHINode* n = nullptr;
      llvm::PHINode* lo = nullptr;
      llvm::PHINode* hi = nullptr;
      llvm::PHINode* f = nullptr;
      llvm::Value* n_next = nullptr;
      llvm::Value* lo_next = nullptr;
      llvm::Value* hi_next = nullptr;
      llvm::Value* f_next = nullptr;
    };
    std::vector<Lanes> lanes(fusion.aggregates.size());
    for (size_t a = 0; a < fusion.aggregates.size(); ++a) {
      const AggregateFusion::Aggregate& agg = fusion.aggregates[a];
      lanes[a].n = b.CreatePHI(v8i64, 2);
      lanes[a].n->addIncoming(zeros, dense);
      if (IsSum(agg.kind) && IsInt64Backed(agg.arg->type)) {
        lanes[a].lo = b.CreatePHI(v8i64, 2);
        lanes[a].hi = b.CreatePHI(v8i64, 2);
        lanes[a].lo->addIncoming(zeros, dense);
        lanes[a].hi->addIncoming(zeros, dense);
      } else if (float_start[a] != nullptr) {
        lanes[a].f = b.CreatePHI(f64, 2);
        lanes[a].f->addIncoming(float_start[a], dense);
      }
    }
    Emitter emit(b, layout, slots.data, slots.validity, slots.tables, params, vk, 8);
    llvm::Value* pass = EmitConjuncts(b, emit, conjuncts);
    if (pass == nullptr)
      pass = llvm::Constant::getAllOnesValue(llvm::FixedVectorType::get(b.getInt1Ty(), 8));
    for (size_t a = 0; a < fusion.aggregates.size(); ++a) {
      const AggregateFusion::Aggregate& agg = fusion.aggregates[a];
      Lanes& l = lanes[a];
      llvm::Value* m = pass;
      Val x{nullptr, nullptr};
      if (agg.arg != nullptr) {
        x = emit.Emit(*agg.arg);
        m = b.CreateAnd(m, agg.kind == AggKind::kCountIf ? b.CreateAnd(x.v, x.valid) : x.valid);
      }
      l.n_next = b.CreateAdd(l.n, b.CreateZExt(m, v8i64));
      if (l.lo != nullptr) {
        llvm::Value* v = b.CreateSelect(m, x.v, zeros);
        l.lo_next = b.CreateAdd(l.lo, v);
        llvm::Value* carry = b.CreateZExt(b.CreateICmpULT(l.lo_next, v), v8i64);
        llvm::Value* sign = b.CreateAShr(v, b.CreateVectorSplat(8, b.getInt64(63)));
        l.hi_next = b.CreateAdd(b.CreateAdd(l.hi, sign), carry);
      } else if (l.f != nullptr) {
        llvm::Value* v =
            b.CreateSelect(m, x.v, b.CreateVectorSplat(8, llvm::ConstantFP::getNegativeZero(f64)));
        l.f_next = b.CreateFAddReduce(l.f, v);
      }
    }
    llvm::Value* vk_next = b.CreateAdd(vk, b.getInt64(8));
    llvm::BasicBlock* latch = b.GetInsertBlock();
    vk->addIncoming(vk_next, latch);
    for (Lanes& l : lanes) {
      l.n->addIncoming(l.n_next, latch);
      if (l.lo != nullptr) {
        l.lo->addIncoming(l.lo_next, latch);
        l.hi->addIncoming(l.hi_next, latch);
      }
      if (l.f != nullptr) l.f->addIncoming(l.f_next, latch);
    }
    b.CreateCondBr(b.CreateICmpSLT(vk_next, vector_end), vector_body, vector_exit);

    // The lanes into group 0's states, before the tail's rows add theirs (in row order).
    b.SetInsertPoint(vector_exit);
    for (size_t a = 0; a < fusion.aggregates.size(); ++a) {
      const Lanes& l = lanes[a];
      add_at(i64, array(state, a, 0), b.getInt64(0), b.CreateAddReduce(l.n_next));
      if (l.lo != nullptr) {
        llvm::Value* total = b.getIntN(128, 0);
        for (unsigned lane = 0; lane < 8; ++lane) {
          llvm::Value* lo = b.CreateZExt(b.CreateExtractElement(l.lo_next, lane), i128);
          llvm::Value* hi = b.CreateZExt(b.CreateExtractElement(l.hi_next, lane), i128);
          total = b.CreateAdd(total, b.CreateOr(lo, b.CreateShl(hi, 64)));
        }
        add_at(i128, array(state, a, 1), b.getInt64(0), total);
      }
      if (l.f != nullptr) b.CreateStore(l.f_next, array(state, a, 2));
    }
    b.CreateBr(tail);

    b.SetInsertPoint(tail);
    llvm::PHINode* from = b.CreatePHI(i64, 2);
    from->addIncoming(b.getInt64(0), dense);
    from->addIncoming(vector_end, vector_exit);
    row_loop(tail, from, nullptr);
  }

  b.SetInsertPoint(done);
  b.CreateRet(b.getInt64(0));

  return generated.Compile(engine, ir);
}

JitAggregate::JitAggregate(std::shared_ptr<const void> kernel, const std::atomic<KernelFn>* fn,
                           const AggregateFusion& fusion, const Layout& layout,
                           std::shared_ptr<const void> owned)
    : dictionary_key_(IsDictionaryKey(fusion.key)),
      kernel_(std::move(kernel)),
      fn_(fn),
      binding_(layout),
      params_(layout.params),
      owned_(std::move(owned)) {}

Result<bool> JitAggregate::Update(const Batch& batch, const Selection& sel, const EvalContext& ctx,
                                  AggregateKernelState* state) const {
  const int64_t count = sel.count();
  if (count == 0) return true;
  if (dictionary_key_ && state->code_groups == nullptr) return false;  // no dictionary
  BoundBatch bound;
  TQL_ASSIGN_OR_RETURN(bool readable, binding_.Bind(batch, sel, ctx, true, &bound));
  if (!readable) return false;
  // Whole string conjuncts over a column without a dictionary (a regex over messages): the
  // interpreter's selection of them, then the kernel over the rows they keep (their tables
  // are all true).
  Selection kept;
  const Selection* rows = &sel;
  if (!bound.deferred.empty()) {
    TQL_ASSIGN_OR_RETURN(kept, SelectAllTrue(bound.deferred, batch, sel, ctx));
    if (kept.empty()) return true;
    rows = &kept;
  }
  const auto fn = reinterpret_cast<AggregateFn>(fn_->load(std::memory_order_acquire));
  fn(bound.data.data(), bound.validity.data(), params_.data(), bound.tables.data(),
     rows->dense() ? nullptr : rows->rows().data(), rows->count(), state);
  return true;
}

}  // namespace tql::jit
