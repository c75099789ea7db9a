#include "codegen/filter_compiler.h"

#include <fmt/format.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
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

#include "codegen/jit_engine.h"

namespace tql {

namespace {

// How a kernel reads a column: int64 values, doubles, packed bools, only its validity, or
// int32 codes into the match tables of its string predicates.
enum class Storage : uint8_t { kInt64, kFloat, kBool, kValidity, kCodes };

bool StorageOf(TypeId type, Storage* s) {
  if (IsInt64Backed(type)) {
    *s = Storage::kInt64;
  } else if (type == TypeId::kFloat) {
    *s = Storage::kFloat;
  } else if (type == TypeId::kBool) {
    *s = Storage::kBool;
  } else {
    return false;
  }
  return true;
}

// A bool expression over one string column (`service == "checkout"`, `name contains "db"`,
// `route matches regex "^/api"`, `strlen(user.id) > 8`): outside the kernel it is evaluated once
// per dictionary entry (or, for a column without a dictionary, once per row) into a match table
// of one byte per code (bit 0 the value, bit 1 set when it is not null; the entry before code 0
// is the result for a null string); inside, the kernel looks up the code of each row.
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

uint64_t FloatBits(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

constexpr size_t kMaxInItems = 32;

std::vector<int64_t> SortedItems(const ValueSet& set) {
  std::vector<int64_t> items(set.ints.begin(), set.ints.end());
  std::sort(items.begin(), items.end());
  return items;
}

// The string column a bool expression reads when it reads exactly one and nothing else (so it
// can be a Leaf), or -1; `type` receives the column's type. `isnull(column)` is not one: the
// kernel reads the validity instead.
int LeafColumn(const PExpr& e, TypeId* type) {
  if (e.type != TypeId::kBool || e.kind == PKind::kColumn || e.kind == PKind::kConstant ||
      (e.kind == PKind::kIsNull && e.args[0]->kind == PKind::kColumn)) {
    return -1;
  }
  int column = -1;
  bool single = true;
  std::function<void(const PExpr&)> visit = [&](const PExpr& x) {
    if (x.kind == PKind::kColumn) {
      if (!IsStringBacked(x.type) || (column >= 0 && column != x.column)) single = false;
      column = x.column;
      *type = x.type;
    }
    for (const PExprPtr& a : x.args) visit(*a);
  };
  visit(e);
  return single ? column : -1;
}

// Appends the normalized form of `e` to `key` (columns by slot, literals as parameter slots,
// with their storage), registering both in `layout`. False when the JIT does not handle `e`.
bool Normalize(const PExpr& e, Layout* layout, std::string* key) {
  TypeId leaf_type = TypeId::kString;
  if (const int column = LeafColumn(e, &leaf_type); column >= 0) {
    const int slot = layout->Column(column, Storage::kCodes);
    layout->leaves.push_back({&e, leaf_type, slot});
    *key += fmt::format("t{}", slot);
    return true;
  }
  Storage s;
  auto args = [&](const char* tag) {
    *key += tag;
    *key += '(';
    for (const PExprPtr& a : e.args) {
      if (!Normalize(*a, layout, key)) return false;
      *key += ',';
    }
    *key += ')';
    return true;
  };
  switch (e.kind) {
    case PKind::kColumn:
      if (!StorageOf(e.type, &s)) return false;
      *key += fmt::format("c{}:{}", layout->Column(e.column, s), static_cast<int>(s));
      return true;
    case PKind::kConstant: {
      Storage held;
      if (e.constant.null || !StorageOf(e.type, &s) || !StorageOf(e.constant.type, &held) ||
          held != s) {
        return false;
      }
      const uint64_t bits = s == Storage::kFloat  ? FloatBits(e.constant.f)
                            : s == Storage::kBool ? uint64_t{e.constant.i != 0}
                                                  : static_cast<uint64_t>(e.constant.i);
      *key += fmt::format("p{}:{}", layout->Param(bits), static_cast<int>(s));
      return true;
    }
    case PKind::kCast:
      // int64 storage to float; every other conversion stays with the interpreter.
      if (e.type != TypeId::kFloat || !IsInt64Backed(e.args[0]->type)) return false;
      return args("tofloat");
    case PKind::kArith: {
      const TypeId a = e.args[0]->type, b = e.args[1]->type;
      const bool numeric_a = IsInt64Backed(a) || a == TypeId::kFloat;
      const bool numeric_b = IsInt64Backed(b) || b == TypeId::kFloat;
      const bool floating =
          a == TypeId::kFloat || b == TypeId::kFloat || e.arith_op == ArithOp::kDiv;
      const bool ints = !floating && IsInt64Backed(a) && IsInt64Backed(b) && IsInt64Backed(e.type);
      const bool floats = floating && numeric_a && numeric_b && e.type == TypeId::kFloat &&
                          e.arith_op != ArithOp::kMod;
      if (!ints && !floats) return false;
      return args(fmt::format("arith{}{}", static_cast<int>(e.arith_op), ints ? 'i' : 'f').c_str());
    }
    case PKind::kNegate:
      if (!((IsInt64Backed(e.type) && IsInt64Backed(e.args[0]->type)) ||
            (e.type == TypeId::kFloat && e.args[0]->type == TypeId::kFloat))) {
        return false;
      }
      return args("neg");
    case PKind::kCompare: {
      Storage sa, sb;
      if (!StorageOf(e.args[0]->type, &sa) || !StorageOf(e.args[1]->type, &sb) || sa != sb) {
        return false;
      }
      return args(fmt::format("cmp{}", static_cast<int>(e.compare_op)).c_str());
    }
    case PKind::kAnd:
    case PKind::kOr:
    case PKind::kNot:
      for (const PExprPtr& a : e.args) {
        if (a->type != TypeId::kBool) return false;
      }
      return args(e.kind == PKind::kAnd ? "and" : e.kind == PKind::kOr ? "or" : "not");
    case PKind::kIn: {
      // A short list of integers (status codes): one comparison per item, items as params.
      if (!e.set || e.args.size() != 1 || !IsInt64Backed(e.args[0]->type) ||
          !e.set->strings.empty() || !e.set->floats.empty() || e.set->has_nan ||
          e.set->ints.size() > kMaxInItems) {
        return false;
      }
      *key += fmt::format("in{}{}{}(", e.set->ints.size(), e.negated ? "!" : "",
                          e.set->has_null ? "n" : "");
      if (!Normalize(*e.args[0], layout, key)) return false;
      for (int64_t item : SortedItems(*e.set)) {
        *key += fmt::format(",p{}", layout->Param(static_cast<uint64_t>(item)));
      }
      *key += ')';
      return true;
    }
    case PKind::kIsNull: {
      const PExpr& a = *e.args[0];
      *key += e.negated ? "isnotnull(" : "isnull(";
      if (a.kind == PKind::kColumn && (IsStringBacked(a.type))) {
        // Only its validity is read.
        *key += fmt::format("v{}", layout->Column(a.column, Storage::kValidity));
      } else if (!Normalize(a, layout, key)) {
        return false;
      }
      *key += ')';
      return true;
    }
    default:
      return false;
  }
}

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
    llvm::Value* code = b_.CreateSExt(Load(b_.getInt32Ty(), data_[slot]), Ty(b_.getInt64Ty()));
    llvm::Value* index = b_.CreateSelect(Bits(validity_[slot]), code, Int(-1));
    llvm::Value* table = tables_[static_cast<size_t>(leaf)];
    llvm::Value* entry;
    if (lanes_ == 1) {
      entry = b_.CreateLoad(b_.getInt8Ty(), b_.CreateGEP(b_.getInt8Ty(), table, index));
    } else {
      entry = b_.CreateMaskedGather(Ty(b_.getInt8Ty()), b_.CreateGEP(b_.getInt8Ty(), table, index),
                                    llvm::Align(1), Bool(true));
    }
    return {b_.CreateTrunc(entry, Ty(b_.getInt1Ty())),
            b_.CreateTrunc(b_.CreateLShr(entry, Splat(b_.getInt8(1))), Ty(b_.getInt1Ty()))};
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
        return {b_.CreateSRem(a.v, safe), b_.CreateAnd(valid, b_.CreateNot(zero))};
      }
    }
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

using KernelFn = int64_t (*)(const void* const* data, const uint8_t* const* validity,
                             const uint64_t* params, const uint8_t* const* tables,
                             const int32_t* sel, int64_t count, int32_t* out);

}  // namespace

struct JitKernelCompiler::Kernel {
  // The code to run: the first tier's, replaced by the optimized tier's once that compiles.
  mutable std::atomic<KernelFn> fn{nullptr};
  std::vector<Storage> storage;  // per column slot
};

namespace {

// A leaf as the JitFilter evaluates it: the expression over the batch, and the same expression
// reading column 0 of a one-column batch (a dictionary).
struct FilterLeaf {
  const PExpr* expr;
  int column;
  bool top_level;
  PExprPtr on_dictionary;
  SchemaPtr dictionary_schema;
};

// One byte per row of `sel` (after the null entry): the value of `d` as a match-table entry.
void FillTable(const Datum& d, const Selection& sel, uint8_t* table) {
  if (d.is_constant) {
    const uint8_t entry = d.constant.null ? 0 : d.constant.i != 0 ? 3 : 2;
    sel.ForEach([&](int64_t r) { table[r] = entry; });
    return;
  }
  const Vector& v = d.vector;
  if (v.type() != TypeId::kBool) {  // all null
    sel.ForEach([&](int64_t r) { table[r] = 0; });
    return;
  }
  sel.ForEach([&](int64_t r) { table[r] = !v.IsValid(r) ? 0 : v.GetBool(r) ? 3 : 2; });
}

// Runs a kernel over a batch: the column pointers of its slots, an all-valid bitmap where a
// column has no nulls, a match table per string predicate, and the rows of `sel`.
class JitFilter final : public CompiledFilter {
 public:
  JitFilter(std::shared_ptr<const void> kernel, const std::atomic<KernelFn>* fn,
            std::vector<Storage> storage, std::vector<int> columns, std::vector<uint64_t> params,
            std::vector<const PExpr*> conjuncts, const std::vector<Leaf>& leaves)
      : kernel_(std::move(kernel)),
        fn_(fn),
        storage_(std::move(storage)),
        columns_(std::move(columns)),
        params_(std::move(params)),
        conjuncts_(std::move(conjuncts)) {
    for (const Leaf& leaf : leaves) {
      FilterLeaf f;
      f.expr = leaf.expr;
      f.column = columns_[static_cast<size_t>(leaf.slot)];
      f.top_level = leaf.top_level;
      f.on_dictionary = CloneExpr(*leaf.expr);
      std::vector<int> remap(static_cast<size_t>(f.column) + 1, 0);
      RemapColumns(f.on_dictionary.get(), remap);
      f.dictionary_schema = std::make_shared<Schema>(std::vector<Field>{{"value", leaf.type}});
      leaves_.push_back(std::move(f));
    }
  }

  Result<Selection> Select(const Batch& batch, const Selection& sel,
                           const EvalContext& ctx) const override {
    const int64_t count = sel.count();
    if (count == 0) return sel;
    const int64_t rows = batch.num_rows();
    thread_local std::vector<uint8_t> all_valid;
    const auto bytes = static_cast<size_t>(bits::BytesFor(rows));
    if (all_valid.size() < bytes) all_valid.assign(bytes, 0xFF);
    const size_t slots = columns_.size();
    std::vector<const void*> data(slots);
    std::vector<const uint8_t*> validity(slots);
    for (size_t s = 0; s < slots; ++s) {
      const Vector& v = batch.column(columns_[s]);
      validity[s] = v.validity_bits() != nullptr ? v.validity_bits() : all_valid.data();
      if (storage_[s] == Storage::kCodes) {
        if (!IsStringBacked(v.type())) return Interpret(batch, sel, ctx);
        if (v.is_dictionary()) {
          data[s] = v.dictionary_codes();
        } else {
          // Per-row match tables: row r looks up entry r.
          thread_local std::vector<int32_t> identity;
          const auto old = static_cast<int32_t>(identity.size());
          if (identity.size() < static_cast<size_t>(rows)) {
            identity.resize(static_cast<size_t>(rows));
            std::iota(identity.begin() + old, identity.end(), old);
          }
          data[s] = identity.data();
          validity[s] = all_valid.data();  // nulls are in the per-row table
        }
        continue;
      }
      const bool readable =
          storage_[s] == Storage::kValidity ||
          (!v.is_dictionary() && v.values_buffer() != nullptr && v.type() != TypeId::kNull);
      if (!readable) return Interpret(batch, sel, ctx);  // a layout the kernel does not read
      switch (storage_[s]) {
        case Storage::kInt64:
          data[s] = v.int64_values();
          break;
        case Storage::kFloat:
          data[s] = v.float_values();
          break;
        case Storage::kBool:
          data[s] = v.bool_bits();
          break;
        default:
          data[s] = nullptr;
          break;
      }
    }
    // Match tables: per dictionary (cached), or per row of this batch.
    std::vector<std::shared_ptr<const std::vector<uint8_t>>> held;
    std::vector<std::vector<uint8_t>> per_row;
    std::vector<const uint8_t*> tables(leaves_.size());
    std::vector<const PExpr*> deferred;
    for (size_t l = 0; l < leaves_.size(); ++l) {
      const FilterLeaf& leaf = leaves_[l];
      const Vector& v = batch.column(leaf.column);
      if (v.is_dictionary()) {
        TQL_ASSIGN_OR_RETURN(std::shared_ptr<const std::vector<uint8_t>> t,
                             DictionaryTable(l, v, ctx));
        tables[l] = t->data() + 1;
        held.push_back(std::move(t));
        continue;
      }
      std::vector<uint8_t>& t = per_row.emplace_back(static_cast<size_t>(rows) + 1, 3);
      tables[l] = t.data() + 1;
      if (leaf.top_level) {
        // Applied after the kernel, to the rows the other conjuncts leave.
        deferred.push_back(leaf.expr);
      } else {
        TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*leaf.expr, batch, sel, ctx));
        FillTable(d, sel, t.data() + 1);
      }
    }
    // The kernel writes into a per-thread scratch (8 rows at a time, so 8 more than `count`);
    // the selection copies only the rows that passed.
    thread_local std::vector<int32_t> scratch;
    if (scratch.size() < static_cast<size_t>(count) + 8)
      scratch.resize(static_cast<size_t>(count) + 8);
    const KernelFn fn = fn_->load(std::memory_order_acquire);
    const int64_t n = fn(data.data(), validity.data(), params_.data(), tables.data(),
                         sel.dense() ? nullptr : sel.rows().data(), count, scratch.data());
    Selection result;
    if (n == count && sel.dense()) {
      result = Selection::All(count);
    } else {
      result = Selection::Of(std::vector<int32_t>(scratch.begin(), scratch.begin() + n));
    }
    for (const PExpr* c : deferred) {
      if (result.empty()) break;
      TQL_ASSIGN_OR_RETURN(result, SelectTrue(*c, batch, result, ctx));
    }
    return result;
  }

 private:
  // The conjuncts on the interpreter.
  Result<Selection> Interpret(const Batch& batch, Selection sel, const EvalContext& ctx) const {
    for (const PExpr* c : conjuncts_) {
      if (sel.empty()) break;
      TQL_ASSIGN_OR_RETURN(sel, SelectTrue(*c, batch, sel, ctx));
    }
    return sel;
  }

  // The match table of leaf `l` for the dictionary of `v`: the null entry, then one per code.
  Result<std::shared_ptr<const std::vector<uint8_t>>> DictionaryTable(
      size_t l, const Vector& v, const EvalContext& ctx) const {
    const FilterLeaf& leaf = leaves_[l];
    const Vector* dict = &v.dictionary();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const TableEntry& e : tables_) {
        if (e.leaf == l && e.dictionary.get() == dict) return e.table;
      }
    }
    const int64_t n = dict->length();
    auto table = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(n) + 1, 0);
    const TypeId type = leaf.dictionary_schema->field(0).type;
    Batch null_row(leaf.dictionary_schema, {Vector::Nulls(type, 1)}, 1);
    TQL_ASSIGN_OR_RETURN(Datum at_null,
                         Evaluate(*leaf.on_dictionary, null_row, Selection::All(1), ctx));
    FillTable(at_null, Selection::All(1), table->data());
    if (n > 0) {
      Batch entries(leaf.dictionary_schema, {*dict}, n);
      TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*leaf.on_dictionary, entries, Selection::All(n), ctx));
      FillTable(d, Selection::All(n), table->data() + 1);
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (tables_.size() >= 64) tables_.clear();  // bounded: a few dictionaries at a time
    tables_.push_back({l, v.dictionary_ptr(), table});
    return std::shared_ptr<const std::vector<uint8_t>>(table);
  }

  struct TableEntry {
    size_t leaf;
    std::shared_ptr<const Vector> dictionary;  // kept alive so its address is not reused
    std::shared_ptr<const std::vector<uint8_t>> table;
  };

  std::shared_ptr<const void> kernel_;  // keeps the kernel alive while this filter exists
  const std::atomic<KernelFn>* fn_;     // the kernel's current code
  std::vector<Storage> storage_;
  std::vector<int> columns_;
  std::vector<uint64_t> params_;
  std::vector<const PExpr*> conjuncts_;
  std::vector<FilterLeaf> leaves_;
  mutable std::mutex mu_;
  mutable std::vector<TableEntry> tables_;
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
  auto context = std::make_unique<llvm::LLVMContext>();
  auto module = std::make_unique<llvm::Module>(name, *context);
  llvm::IRBuilder<> b(*context);
  llvm::Type* ptr = b.getPtrTy();
  llvm::Type* i64 = b.getInt64Ty();
  // i64 kernel(ptr data, ptr validity, ptr params, ptr tables, ptr sel, i64 count, ptr out)
  auto* fn_type = llvm::FunctionType::get(i64, {ptr, ptr, ptr, ptr, ptr, i64, ptr}, false);
  auto* fn = llvm::Function::Create(fn_type, llvm::Function::ExternalLinkage, name, *module);
  for (unsigned i = 0; i < 7; ++i) {
    if (i != 5) fn->addParamAttr(i, llvm::Attribute::NoAlias);
  }
  llvm::Value* data_arg = fn->getArg(0);
  llvm::Value* validity_arg = fn->getArg(1);
  llvm::Value* params = fn->getArg(2);
  llvm::Value* tables_arg = fn->getArg(3);
  llvm::Value* sel = fn->getArg(4);
  llvm::Value* count = fn->getArg(5);
  llvm::Value* out = fn->getArg(6);

  auto block = [&](const char* label) { return llvm::BasicBlock::Create(*context, label, fn); };
  llvm::BasicBlock* entry = block("entry");
  llvm::BasicBlock* start = block("start");
  llvm::BasicBlock* dense = block("dense");
  llvm::BasicBlock* vector_body = block("vector");
  llvm::BasicBlock* tail = block("tail");
  llvm::BasicBlock* tail_body = block("tail.body");
  llvm::BasicBlock* sparse = block("sparse");
  llvm::BasicBlock* done = block("done");
  // The column, validity and table pointers of the slots, read from the argument arrays.
  struct Slots {
    std::vector<llvm::Value*> data, validity, tables;
  };
  auto load_slots = [&](llvm::Value* d, llvm::Value* v, llvm::Value* t) {
    Slots slots;
    for (size_t s = 0; s < layout.columns.size(); ++s) {
      slots.data.push_back(b.CreateLoad(ptr, b.CreateGEP(ptr, d, b.getInt64(s))));
      slots.validity.push_back(b.CreateLoad(ptr, b.CreateGEP(ptr, v, b.getInt64(s))));
    }
    for (size_t l = 0; l < layout.leaves.size(); ++l) {
      slots.tables.push_back(b.CreateLoad(ptr, b.CreateGEP(ptr, t, b.getInt64(l))));
    }
    return slots;
  };
  // Whether every conjunct holds (true, not null) at the rows of `row`.
  auto pass_at = [&](const Slots& slots, llvm::Value* p, llvm::Value* row, unsigned lanes) {
    Emitter emit(b, layout, slots.data, slots.validity, slots.tables, p, row, lanes);
    llvm::Value* pass = nullptr;
    for (const PExpr* c : conjuncts) {
      Val v = emit.Emit(*c);
      llvm::Value* holds = b.CreateAnd(v.v, v.valid);
      pass = pass == nullptr ? holds : b.CreateAnd(pass, holds);
    }
    return pass;
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

  TQL_RETURN_IF_ERROR(
      engine.AddModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(context)), ir));
  return engine.Lookup(name);
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++in_flight_;
  }
  std::thread([this, pending, copy] {
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
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    idle_.notify_all();
  }).detach();
  return pending;
}

void JitKernelCompiler::OptimizeInBackground(std::shared_ptr<const Kernel> kernel,
                                             const std::string& name,
                                             const std::vector<const PExpr*>& conjuncts) {
  // REQUIRES: mu_ held. One worker thread compiles the queue in order; a kernel that finds
  // the queue full keeps its first-tier code (a burst of new filters cannot pile up threads).
  if (optimize_queue_.size() >= kMaxOptimizeQueue) return;
  // The job works on its own copy of the conjuncts, normalized again (the same layout:
  // normalization is deterministic).
  auto copies = std::make_shared<std::vector<PExprPtr>>();
  for (const PExpr* c : conjuncts) copies->push_back(CloneExpr(*c));
  optimize_queue_.push_back([this, kernel = std::move(kernel), name, copies] {
    const auto start = std::chrono::steady_clock::now();
    Layout layout;
    std::string key;
    std::vector<const PExpr*> compiled;
    for (const PExprPtr& c : *copies) {
      const bool ok = Normalize(*c, &layout, &key);
      (void)ok;  // it normalized the first time
      for (Leaf& leaf : layout.leaves) leaf.top_level = leaf.top_level || leaf.expr == c.get();
      compiled.push_back(c.get());
    }
    Result<void*> address = BuildKernel(*engine_, name + "_optimized", compiled, layout, nullptr);
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
  const std::vector<const PExpr*> conjuncts = Conjuncts(predicate);
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
  for (const auto& [column, storage] : layout.columns) {
    key += fmt::format("|{}", static_cast<int>(storage));
  }
  key += "|" + (engine_ ? engine_ : fast_engine_)->cpu();
  std::shared_ptr<const Kernel> kernel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      kernel = it->second->second;
      ++stats_.cache_hits;
    } else {
      const auto start = std::chrono::steady_clock::now();
      const std::string name = fmt::format("tql_filter_{}", next_id_++);
      std::string ir;
      // The first tier when there is one: the query waits only for it.
      JitEngine& first = fast_engine_ ? *fast_engine_ : *engine_;
      Result<void*> address = BuildKernel(first, name, compiled, layout, keep_ir_ ? &ir : nullptr);
      stats_.compile_ms +=
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      if (!address.ok()) {
        residual->insert(residual->begin(), compiled.begin(), compiled.end());
        return nullptr;
      }
      if (keep_ir_) ir_.push_back(fmt::format("; kernel {} for {}\n{}", name, key, ir));
      auto built = std::make_shared<Kernel>();
      built->fn.store(reinterpret_cast<KernelFn>(*address), std::memory_order_release);
      for (const auto& [column, storage] : layout.columns) built->storage.push_back(storage);
      if (fast_engine_ && engine_) OptimizeInBackground(built, name, compiled);
      kernel = std::move(built);
      ++stats_.kernels_compiled;
      lru_.emplace_front(key, kernel);
      cache_[key] = lru_.begin();
      if (lru_.size() > capacity_) {
        cache_.erase(lru_.back().first);
        lru_.pop_back();
      }
    }
  }
  std::vector<int> columns;
  for (const auto& [column, storage] : layout.columns) columns.push_back(column);
  return std::make_shared<JitFilter>(kernel, &kernel->fn, kernel->storage, std::move(columns),
                                     std::move(layout.params), std::move(compiled), layout.leaves);
}

}  // namespace tql
