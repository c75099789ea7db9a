//! The JIT's expression layer, shared by every kind of kernel: how a kernel reads columns
//! (Storage), the normalization of an expression into a cache key with its literals lifted into
//! a parameter block (Layout, Normalize), and the IR of its evaluation over one row or a vector
//! of rows (Emitter). Internal to codegen/.
#pragma once

#include <llvm/IR/IRBuilder.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/expression.h"

namespace tql {
class JitEngine;
}

namespace tql::jit {

// How a kernel reads a column: int64 values, doubles, packed bools, only its validity, or
// int32 codes into the match tables of its string predicates.
enum class Storage : uint8_t { kInt64, kFloat, kBool, kValidity, kCodes };

// How a column of `type` is read, when a kernel can read it.
bool StorageOf(TypeId type, Storage* s);

// A bool expression over one string column (`service == "checkout"`, `name contains "db"`,
// `route matches regex "^/api"`, `strlen(user.id) > 8`): outside the kernel it is evaluated once
// per dictionary entry (or, for a column without a dictionary, once per row) into a match table
// of one 32-bit entry per code (bit 0 the value, bit 1 set when it is not null; the entry before
// code 0 is the result for a null string); inside, the kernel looks up the code of each row.
struct Leaf {
  const PExpr* expr;
  TypeId type;             // of the column (string or dynamic)
  int slot;                // the column's kCodes slot
  bool top_level = false;  // a whole conjunct (a batch without a dictionary defers it)
};

// The columns and literals of a kernel, numbered in the order the predicate meets them.
struct Layout {
  std::vector<std::pair<int, Storage>> columns;  // batch column, how it is read
  std::vector<uint64_t> params;                  // literal bits
  std::vector<Leaf> leaves;                      // string predicates, one match table each

  int LeafOf(const PExpr* e) const {
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (leaves[i].expr == e) return static_cast<int>(i);
    }
    return -1;
  }

  // The slot of a column read as `s`, or -1.
  int Find(int column, Storage s) const {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].first == column && columns[i].second == s) return static_cast<int>(i);
    }
    return -1;
  }
  int Column(int column, Storage s) {
    const int slot = Find(column, s);
    if (slot >= 0) return slot;
    columns.emplace_back(column, s);
    return static_cast<int>(columns.size() - 1);
  }
  int Param(uint64_t bits) {
    params.push_back(bits);
    return static_cast<int>(params.size() - 1);
  }
};

// Appends the normalized form of `e` to `key` (columns by slot, literals as parameter slots,
// with their storage), registering both in `layout`. False when the JIT does not handle `e`.
bool Normalize(const PExpr& e, Layout* layout, std::string* key);

// A value in the kernel and whether it is valid (not null): per row, or per lane of a vector
// of rows.
struct Val {
  llvm::Value* v;
  llvm::Value* valid;
};

// Emits the evaluation of a normalized predicate at one row (`lanes` 1), or at `lanes`
// consecutive rows starting at `row`, a multiple of 8 (the validity and bool bits of the rows
// are then one byte).
class Emitter {
 public:
  Emitter(llvm::IRBuilder<>& b, const Layout& layout, const std::vector<llvm::Value*>& data,
          const std::vector<llvm::Value*>& validity, const std::vector<llvm::Value*>& tables,
          llvm::Value* params, llvm::Value* row, unsigned lanes)
      : b_(b),
        layout_(layout),
        data_(data),
        validity_(validity),
        tables_(tables),
        params_(params),
        row_(row),
        lanes_(lanes) {}

  // The next literal of the parameter block (for the caller's own uses of a literal that
  // Normalize registered, in the same order).
  llvm::Value* NextParam() { return Param(); }

  // The dictionary code (as int64) and validity of a string column read as kCodes (a key).
  Val Codes(int column) {
    const size_t slot = Slot(column, Storage::kCodes);
    return {b_.CreateSExt(Load(b_.getInt32Ty(), data_[slot]), Ty(b_.getInt64Ty())),
            Bits(validity_[slot])};
  }

  Val Emit(const PExpr& e) {
    if (const int leaf = layout_.LeafOf(&e); leaf >= 0) return Lookup(leaf);
    switch (e.kind) {
      case PKind::kColumn:
        return Column(e);
      case PKind::kConstant:
        return Constant(e);
      case PKind::kCast: {
        Val a = Emit(*e.args[0]);
        return {b_.CreateSIToFP(a.v, Ty(b_.getDoubleTy())), a.valid};
      }
      case PKind::kArith:
        return Arith(e);
      case PKind::kNegate: {
        Val a = Emit(*e.args[0]);
        if (e.type == TypeId::kFloat) return {b_.CreateFNeg(a.v), a.valid};
        return {b_.CreateSub(Int(0), a.v), a.valid};  // wraps
      }
      case PKind::kCompare:
        return Compare(e);
      case PKind::kAnd:
      case PKind::kOr:
        return Logic(e);
      case PKind::kNot: {
        Val a = Emit(*e.args[0]);
        return {b_.CreateNot(a.v), a.valid};
      }
      case PKind::kIn: {
        // SQL's rules: not found in a list holding a null is null.
        Val x = Emit(*e.args[0]);
        llvm::Value* found = Bool(false);
        for (size_t i = 0; i < e.set->ints.size(); ++i) {
          found = b_.CreateOr(found, b_.CreateICmpEQ(x.v, Splat(Param())));
        }
        llvm::Value* valid = e.set->has_null ? b_.CreateAnd(x.valid, found) : x.valid;
        return {e.negated ? b_.CreateNot(found) : found, valid};
      }
      case PKind::kIsNull: {
        const PExpr& a = *e.args[0];
        llvm::Value* valid = a.kind == PKind::kColumn && IsStringBacked(a.type)
                                 ? Bits(validity_[Slot(a.column, Storage::kValidity)])
                                 : Emit(a).valid;
        return {e.negated ? valid : b_.CreateNot(valid), Bool(true)};
      }
      default:
        break;
    }
    return {Bool(false), Bool(false)};  // unreachable: Normalize accepted only the above
  }

 private:
  // `t` per row, or a vector of `lanes_` of it.
  llvm::Type* Ty(llvm::Type* t) const {
    return lanes_ == 1 ? t : llvm::FixedVectorType::get(t, lanes_);
  }
  llvm::Value* Splat(llvm::Value* v) { return lanes_ == 1 ? v : b_.CreateVectorSplat(lanes_, v); }
  llvm::Value* Int(int64_t x) { return Splat(b_.getInt64(x)); }
  llvm::Value* Bool(bool x) { return Splat(b_.getInt1(x)); }
  // The next literal of the parameter block, as i64 bits.
  llvm::Value* Param() {
    return b_.CreateLoad(b_.getInt64Ty(),
                         b_.CreateGEP(b_.getInt64Ty(), params_, b_.getInt64(next_param_++)));
  }
  size_t Slot(int column, Storage s) const {
    return static_cast<size_t>(layout_.Find(column, s));  // Normalize registered it
  }
  // The rows' bits of a packed bit array: bit `row`, or the byte of the 8 rows from `row`.
  llvm::Value* Bits(llvm::Value* bits) {
    llvm::Value* byte =
        b_.CreateLoad(b_.getInt8Ty(), b_.CreateGEP(b_.getInt8Ty(), bits, b_.CreateLShr(row_, 3)));
    if (lanes_ == 8) return b_.CreateBitCast(byte, Ty(b_.getInt1Ty()));
    llvm::Value* shift = b_.CreateTrunc(b_.CreateAnd(row_, 7), b_.getInt8Ty());
    return b_.CreateTrunc(b_.CreateLShr(byte, shift), b_.getInt1Ty());
  }
  // The rows' elements of an array of `t`.
  llvm::Value* Load(llvm::Type* t, llvm::Value* base) {
    return b_.CreateAlignedLoad(Ty(t), b_.CreateGEP(t, base, row_),
                                llvm::Align(t->getPrimitiveSizeInBits() / 8));
  }
  Val Column(const PExpr& e) {
    Storage s;
    StorageOf(e.type, &s);
    const size_t slot = Slot(e.column, s);
    llvm::Value* valid = Bits(validity_[slot]);
    switch (s) {
      case Storage::kInt64:
        return {Load(b_.getInt64Ty(), data_[slot]), valid};
      case Storage::kFloat:
        return {Load(b_.getDoubleTy(), data_[slot]), valid};
      default:
        return {Bits(data_[slot]), valid};
    }
  }
  // The match-table entry of the row's code (the entry before code 0 for a null string).
  Val Lookup(int leaf) {
    const auto slot = static_cast<size_t>(layout_.leaves[static_cast<size_t>(leaf)].slot);
    // 32-bit codes index 32-bit entries: 8 rows are one gather of dwords.
    llvm::Type* i32 = b_.getInt32Ty();
    llvm::Value* code = Load(i32, data_[slot]);
    llvm::Value* index =
        b_.CreateSelect(Bits(validity_[slot]), code, Splat(llvm::ConstantInt::getSigned(i32, -1)));
    llvm::Value* table = tables_[static_cast<size_t>(leaf)];
    llvm::Value* entry;
    if (lanes_ == 1) {
      entry = b_.CreateAlignedLoad(i32, b_.CreateGEP(i32, table, index), llvm::Align(4));
    } else {
      entry = b_.CreateMaskedGather(Ty(i32), b_.CreateGEP(i32, table, index), llvm::Align(4),
                                    Bool(true));
    }
    return {b_.CreateTrunc(entry, Ty(b_.getInt1Ty())),
            b_.CreateTrunc(b_.CreateLShr(entry, Splat(b_.getInt32(1))), Ty(b_.getInt1Ty()))};
  }
  Val Constant(const PExpr& e) {
    Storage s;
    StorageOf(e.type, &s);
    llvm::Value* bits = Param();
    switch (s) {
      case Storage::kFloat:
        return {Splat(b_.CreateBitCast(bits, b_.getDoubleTy())), Bool(true)};
      case Storage::kBool:
        return {Splat(b_.CreateICmpNE(bits, b_.getInt64(0))), Bool(true)};
      default:
        return {Splat(bits), Bool(true)};
    }
  }
  llvm::Value* ToDouble(const PExpr& e, llvm::Value* v) {
    return e.type == TypeId::kFloat ? v : b_.CreateSIToFP(v, Ty(b_.getDoubleTy()));
  }
  Val Arith(const PExpr& e) {
    Val a = Emit(*e.args[0]);
    Val c = Emit(*e.args[1]);
    llvm::Value* valid = b_.CreateAnd(a.valid, c.valid);
    if (e.type == TypeId::kFloat) {
      llvm::Value* x = ToDouble(*e.args[0], a.v);
      llvm::Value* y = ToDouble(*e.args[1], c.v);
      switch (e.arith_op) {
        case ArithOp::kAdd:
          return {b_.CreateFAdd(x, y), valid};
        case ArithOp::kSub:
          return {b_.CreateFSub(x, y), valid};
        case ArithOp::kMul:
          return {b_.CreateFMul(x, y), valid};
        default: {
          // Division by zero is null.
          llvm::Value* nonzero =
              b_.CreateFCmpUNE(y, Splat(llvm::ConstantFP::get(b_.getDoubleTy(), 0)));
          return {b_.CreateFDiv(x, y), b_.CreateAnd(valid, nonzero)};
        }
      }
    }
    switch (e.arith_op) {
      case ArithOp::kAdd:
        return {b_.CreateAdd(a.v, c.v), valid};  // wraps, as the interpreter's
      case ArithOp::kSub:
        return {b_.CreateSub(a.v, c.v), valid};
      case ArithOp::kMul:
        return {b_.CreateMul(a.v, c.v), valid};
      default: {
        // x % 0 is null; x % -1 is 0 (never the overflowing INT64_MIN % -1).
        llvm::Value* zero = b_.CreateICmpEQ(c.v, Int(0));
        llvm::Value* minus_one = b_.CreateICmpEQ(c.v, Int(-1));
        llvm::Value* safe = b_.CreateSelect(b_.CreateOr(zero, minus_one), Int(1), c.v);
        return {Remainder(a.v, safe), b_.CreateAnd(valid, b_.CreateNot(zero))};
      }
    }
  }
  // x % y for y != 0 and y != -1. A vector has no integer division: while every lane of both
  // is below 2^53 in magnitude (they are exact as doubles), the quotient is truncated from a
  // double division, which is exact there (a quotient that is not an integer is at least 1/|y|
  // from the next one, more than the division's rounding), and x - q * y is the remainder;
  // otherwise the lanes are divided one by one.
  llvm::Value* Remainder(llvm::Value* x, llvm::Value* y) {
    if (lanes_ == 1) return b_.CreateSRem(x, y);
    llvm::Value* limit = Int(int64_t{1} << 54);
    llvm::Value* bias = Int(int64_t{1} << 53);
    llvm::Value* small = b_.CreateAnd(b_.CreateICmpULT(b_.CreateAdd(x, bias), limit),
                                      b_.CreateICmpULT(b_.CreateAdd(y, bias), limit));
    llvm::Value* all_small =
        b_.CreateICmpEQ(b_.CreateBitCast(small, b_.getIntNTy(lanes_)),
                        llvm::ConstantInt::getAllOnesValue(b_.getIntNTy(lanes_)));
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock* fast = llvm::BasicBlock::Create(b_.getContext(), "rem.double", fn);
    llvm::BasicBlock* slow = llvm::BasicBlock::Create(b_.getContext(), "rem.lanes", fn);
    llvm::BasicBlock* join = llvm::BasicBlock::Create(b_.getContext(), "rem.join", fn);
    b_.CreateCondBr(all_small, fast, slow);
    b_.SetInsertPoint(fast);
    llvm::Type* doubles = Ty(b_.getDoubleTy());
    llvm::Value* q = b_.CreateUnaryIntrinsic(
        llvm::Intrinsic::trunc,
        b_.CreateFDiv(b_.CreateSIToFP(x, doubles), b_.CreateSIToFP(y, doubles)));
    llvm::Value* by_double = b_.CreateSub(x, b_.CreateMul(b_.CreateFPToSI(q, x->getType()), y));
    b_.CreateBr(join);
    b_.SetInsertPoint(slow);
    llvm::Value* by_lane = b_.CreateSRem(x, y);
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
    llvm::PHINode* r = b_.CreatePHI(x->getType(), 2);
    r->addIncoming(by_double, fast);
    r->addIncoming(by_lane, slow);
    return r;
  }
  Val Compare(const PExpr& e) {
    Val a = Emit(*e.args[0]);
    Val c = Emit(*e.args[1]);
    llvm::Value* valid = b_.CreateAnd(a.valid, c.valid);
    const CompareOp op = e.compare_op;
    Storage s;
    StorageOf(e.args[0]->type, &s);
    if (s == Storage::kFloat) {
      // NaN equals NaN and sorts above every number, as in the interpreter and in sort.
      llvm::Value* an = b_.CreateFCmpUNO(a.v, a.v);
      llvm::Value* cn = b_.CreateFCmpUNO(c.v, c.v);
      llvm::Value* ordered = nullptr;
      llvm::Value* nan_case = nullptr;
      switch (op) {
        case CompareOp::kEq:
          ordered = b_.CreateFCmpOEQ(a.v, c.v);
          nan_case = b_.CreateAnd(an, cn);
          break;
        case CompareOp::kNe:
          ordered = b_.CreateFCmpONE(a.v, c.v);
          nan_case = b_.CreateNot(b_.CreateAnd(an, cn));
          break;
        case CompareOp::kLt:
          ordered = b_.CreateFCmpOLT(a.v, c.v);
          nan_case = b_.CreateAnd(cn, b_.CreateNot(an));
          break;
        case CompareOp::kLe:
          ordered = b_.CreateFCmpOLE(a.v, c.v);
          nan_case = cn;
          break;
        case CompareOp::kGt:
          ordered = b_.CreateFCmpOGT(a.v, c.v);
          nan_case = b_.CreateAnd(an, b_.CreateNot(cn));
          break;
        case CompareOp::kGe:
          ordered = b_.CreateFCmpOGE(a.v, c.v);
          nan_case = an;
          break;
      }
      return {b_.CreateSelect(b_.CreateOr(an, cn), nan_case, ordered), valid};
    }
    llvm::Value* x = a.v;
    llvm::Value* y = c.v;
    const bool unsigned_compare = s == Storage::kBool;  // false < true
    if (unsigned_compare) {
      x = b_.CreateZExt(x, Ty(b_.getInt8Ty()));
      y = b_.CreateZExt(y, Ty(b_.getInt8Ty()));
    }
    llvm::Value* r = nullptr;
    switch (op) {
      case CompareOp::kEq:
        r = b_.CreateICmpEQ(x, y);
        break;
      case CompareOp::kNe:
        r = b_.CreateICmpNE(x, y);
        break;
      case CompareOp::kLt:
        r = unsigned_compare ? b_.CreateICmpULT(x, y) : b_.CreateICmpSLT(x, y);
        break;
      case CompareOp::kLe:
        r = unsigned_compare ? b_.CreateICmpULE(x, y) : b_.CreateICmpSLE(x, y);
        break;
      case CompareOp::kGt:
        r = unsigned_compare ? b_.CreateICmpUGT(x, y) : b_.CreateICmpSGT(x, y);
        break;
      case CompareOp::kGe:
        r = unsigned_compare ? b_.CreateICmpUGE(x, y) : b_.CreateICmpSGE(x, y);
        break;
    }
    return {r, valid};
  }
  // Three-valued and/or: a false (true) operand decides, else any null makes null.
  Val Logic(const PExpr& e) {
    const bool is_and = e.kind == PKind::kAnd;
    llvm::Value* decided = Bool(false);
    llvm::Value* all_valid = Bool(true);
    for (const PExprPtr& arg : e.args) {
      Val a = Emit(*arg);
      llvm::Value* deciding = is_and ? b_.CreateNot(a.v) : a.v;
      decided = b_.CreateOr(decided, b_.CreateAnd(a.valid, deciding));
      all_valid = b_.CreateAnd(all_valid, a.valid);
    }
    llvm::Value* value = is_and ? b_.CreateNot(decided) : decided;
    return {value, b_.CreateOr(decided, all_valid)};
  }

  llvm::IRBuilder<>& b_;
  const Layout& layout_;
  const std::vector<llvm::Value*>& data_;
  const std::vector<llvm::Value*>& validity_;
  const std::vector<llvm::Value*>& tables_;
  llvm::Value* params_;
  llvm::Value* row_;
  unsigned lanes_;
  int64_t next_param_ = 0;
};

// The column, validity and table pointers of a layout's slots, loaded from a kernel's argument
// arrays.
struct Slots {
  std::vector<llvm::Value*> data, validity, tables;
};
Slots LoadSlots(llvm::IRBuilder<>& b, const Layout& layout, llvm::Value* data,
                llvm::Value* validity, llvm::Value* tables);

// The function of a kernel: `i64 name(ptr data, ptr validity, ptr params, ptr tables, ptr sel,
// i64 count, ptr out)` (KernelFn), with its arguments.
struct KernelFunction {
  llvm::Function* fn;
  llvm::Value *data, *validity, *params, *tables, *sel, *count, *out;
};

// The module of one kernel being generated: its own context, the module, a builder, and the
// kernel's function (DeclareKernel). Compile hands the module to `engine` (which optimizes
// and compiles it; `ir`, when set, receives the optimized IR) and returns the function's
// address. REQUIRES: Compile called once, and calls on one engine serialized.
class KernelModule {
 public:
  explicit KernelModule(const std::string& name);
  KernelModule(const KernelModule&) = delete;
  KernelModule& operator=(const KernelModule&) = delete;
  llvm::LLVMContext* context() { return context_.get(); }
  llvm::Module* module() { return module_.get(); }
  llvm::IRBuilder<>& builder() { return builder_; }
  const KernelFunction& kernel() const { return kernel_; }
  Result<void*> Compile(JitEngine& engine, std::string* ir);

 private:
  std::string name_;
  std::unique_ptr<llvm::LLVMContext> context_;
  std::unique_ptr<llvm::Module> module_;
  llvm::IRBuilder<> builder_;
  KernelFunction kernel_;
};

// The rough cost of evaluating `e` in a kernel, per row: a string leaf (a gather from its match
// table) and a division cost several simple operations.
int KernelCost(const PExpr& e);
// The conjuncts cheapest first (stable). A kernel meets them in this order, so it is applied
// before normalization (the literals are numbered in the order the kernel reads them).
std::vector<const PExpr*> OrderByCost(std::vector<const PExpr*> conjuncts);

// Whether every conjunct holds (true, not null) at the rows of `row` (one, or `lanes` from a
// multiple of 8), emitted with `emit`, which then has consumed their literals. A costly
// conjunct after the first is evaluated only when a row (a lane) is still passing: the code
// branches around it, so the insert block changes.
llvm::Value* EmitConjuncts(llvm::IRBuilder<>& b, Emitter& emit,
                           const std::vector<const PExpr*>& conjuncts);

// A filter kernel: writes the rows that pass to `out`, returns their number. A fused update
// has the same signature with an AggregateKernelState* as `out`.
using KernelFn = int64_t (*)(const void* const* data, const uint8_t* const* validity,
                             const uint64_t* params, const uint32_t* const* tables,
                             const int32_t* sel, int64_t count, int32_t* out);

}  // namespace tql::jit
