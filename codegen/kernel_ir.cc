#include "codegen/kernel_ir.h"

#include <fmt/format.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "codegen/jit_engine.h"

namespace tql::jit {

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

namespace {

// The kernel function of `module` (see KernelFunction).
KernelFunction DeclareKernel(llvm::IRBuilder<>& b, llvm::Module& module, const std::string& name) {
  llvm::Type* ptr = b.getPtrTy();
  llvm::Type* i64 = b.getInt64Ty();
  auto* type = llvm::FunctionType::get(i64, {ptr, ptr, ptr, ptr, ptr, i64, ptr}, false);
  auto* fn = llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, module);
  for (unsigned i = 0; i < 7; ++i) {
    if (i != 5) fn->addParamAttr(i, llvm::Attribute::NoAlias);
  }
  return {fn,
          fn->getArg(0),
          fn->getArg(1),
          fn->getArg(2),
          fn->getArg(3),
          fn->getArg(4),
          fn->getArg(5),
          fn->getArg(6)};
}

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

}  // namespace

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

KernelModule::KernelModule(const std::string& name)
    : name_(name),
      context_(std::make_unique<llvm::LLVMContext>()),
      module_(std::make_unique<llvm::Module>(name, *context_)),
      builder_(*context_),
      kernel_(DeclareKernel(builder_, *module_, name)) {}

Result<void*> KernelModule::Compile(JitEngine& engine, std::string* ir) {
  TQL_RETURN_IF_ERROR(
      engine.AddModule(llvm::orc::ThreadSafeModule(std::move(module_), std::move(context_)), ir));
  return engine.Lookup(name_);
}

Slots LoadSlots(llvm::IRBuilder<>& b, const Layout& layout, llvm::Value* data,
                llvm::Value* validity, llvm::Value* tables) {
  llvm::Type* ptr = b.getPtrTy();
  Slots slots;
  for (size_t s = 0; s < layout.columns.size(); ++s) {
    slots.data.push_back(b.CreateLoad(ptr, b.CreateGEP(ptr, data, b.getInt64(s))));
    slots.validity.push_back(b.CreateLoad(ptr, b.CreateGEP(ptr, validity, b.getInt64(s))));
  }
  for (size_t l = 0; l < layout.leaves.size(); ++l) {
    slots.tables.push_back(b.CreateLoad(ptr, b.CreateGEP(ptr, tables, b.getInt64(l))));
  }
  return slots;
}

int KernelCost(const PExpr& e) {
  TypeId type;
  if (LeafColumn(e, &type) >= 0) return 16;
  int cost = 1;
  if (e.kind == PKind::kArith && (e.arith_op == ArithOp::kDiv || e.arith_op == ArithOp::kMod)) {
    cost = 8;
  } else if (e.kind == PKind::kIn && e.set) {
    cost = static_cast<int>(e.set->ints.size());
  }
  for (const PExprPtr& a : e.args) cost += KernelCost(*a);
  return cost;
}

std::vector<const PExpr*> OrderByCost(std::vector<const PExpr*> conjuncts) {
  std::stable_sort(conjuncts.begin(), conjuncts.end(),
                   [](const PExpr* a, const PExpr* b) { return KernelCost(*a) < KernelCost(*b); });
  return conjuncts;
}

llvm::Value* EmitConjuncts(llvm::IRBuilder<>& b, Emitter& emit,
                           const std::vector<const PExpr*>& conjuncts) {
  // At and above this cost a conjunct is worth a branch around it.
  constexpr int kCostly = 8;
  llvm::Value* pass = nullptr;
  for (const PExpr* c : conjuncts) {
    if (pass == nullptr || KernelCost(*c) < kCostly) {
      Val v = emit.Emit(*c);
      llvm::Value* holds = b.CreateAnd(v.v, v.valid);
      pass = pass == nullptr ? holds : b.CreateAnd(pass, holds);
      continue;
    }
    llvm::Type* type = pass->getType();
    llvm::Value* any =
        type->isVectorTy()
            ? b.CreateICmpNE(
                  b.CreateBitCast(
                      pass, b.getIntNTy(llvm::cast<llvm::FixedVectorType>(type)->getNumElements())),
                  b.getIntN(llvm::cast<llvm::FixedVectorType>(type)->getNumElements(), 0))
            : pass;
    llvm::Function* fn = b.GetInsertBlock()->getParent();
    llvm::BasicBlock* before = b.GetInsertBlock();
    llvm::BasicBlock* eval = llvm::BasicBlock::Create(b.getContext(), "costly", fn);
    llvm::BasicBlock* join = llvm::BasicBlock::Create(b.getContext(), "costly.join", fn);
    b.CreateCondBr(any, eval, join);
    b.SetInsertPoint(eval);
    Val v = emit.Emit(*c);
    llvm::Value* holds = b.CreateAnd(pass, b.CreateAnd(v.v, v.valid));
    llvm::BasicBlock* evaluated = b.GetInsertBlock();
    b.CreateBr(join);
    b.SetInsertPoint(join);
    llvm::PHINode* merged = b.CreatePHI(type, 2);
    merged->addIncoming(llvm::Constant::getNullValue(type), before);
    merged->addIncoming(holds, evaluated);
    pass = merged;
  }
  return pass;
}

}  // namespace tql::jit
