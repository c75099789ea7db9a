#include "codegen/projection_kernel.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cstring>

#include "codegen/jit_engine.h"
#include "runtime/buffer.h"

namespace tql::jit {

namespace {

// A column a kernel can compute: a number or a bool made of something more than a column or
// a literal.
bool Computable(const PExpr& e) {
  if (e.kind == PKind::kColumn || e.kind == PKind::kConstant) return false;
  return IsInt64Backed(e.type) || e.type == TypeId::kFloat || e.type == TypeId::kBool;
}

// The storage of a computed column's values: int64, double, or bits.
llvm::Type* ValueType(llvm::IRBuilder<>& b, TypeId type) {
  if (type == TypeId::kFloat) return b.getDoubleTy();
  if (type == TypeId::kBool) return b.getInt1Ty();
  return b.getInt64Ty();
}

}  // namespace

bool NormalizeProjection(const std::vector<const PExpr*>& exprs, std::vector<size_t>* computed,
                         Layout* layout, std::string* key) {
  *key += "project(";
  for (size_t i = 0; i < exprs.size(); ++i) {
    if (!Computable(*exprs[i])) continue;
    Layout with = *layout;
    std::string with_key = *key;
    if (!Normalize(*exprs[i], &with, &with_key)) continue;
    *layout = std::move(with);
    *key = std::move(with_key) + ';';
    computed->push_back(i);
  }
  *key += ')';
  return !computed->empty();
}

Result<void*> BuildProjectionKernel(JitEngine& engine, const std::string& name,
                                    const std::vector<const PExpr*>& exprs, const Layout& layout,
                                    std::string* ir) {
  KernelModule generated(name);
  llvm::LLVMContext* context = generated.context();
  llvm::Module* module = generated.module();
  llvm::IRBuilder<>& b = generated.builder();
  llvm::Type* ptr = b.getPtrTy();
  llvm::Type* i64 = b.getInt64Ty();
  llvm::Type* i8 = b.getInt8Ty();
  const KernelFunction& kernel = generated.kernel();
  // `out`: per expression, its values and its validity (zeroed by the caller).
  auto output = [&](llvm::Value* out, size_t e, int which) {
    return b.CreateLoad(ptr,
                        b.CreateGEP(ptr, out, b.getInt64(static_cast<int64_t>(2 * e) + which)));
  };

  // One row: `void row(data, validity, params, tables, out, row)` stores each value and sets
  // its bits.
  auto* row_type = llvm::FunctionType::get(b.getVoidTy(), {ptr, ptr, ptr, ptr, ptr, i64}, false);
  auto* row_fn =
      llvm::Function::Create(row_type, llvm::Function::PrivateLinkage, name + "_row", *module);
  row_fn->addFnAttr(llvm::Attribute::NoInline);
  {
    b.SetInsertPoint(llvm::BasicBlock::Create(*context, "entry", row_fn));
    llvm::Value* out = row_fn->getArg(4);
    llvm::Value* row = row_fn->getArg(5);
    const Slots slots =
        LoadSlots(b, layout, row_fn->getArg(0), row_fn->getArg(1), row_fn->getArg(3));
    Emitter emit(b, layout, slots.data, slots.validity, slots.tables, row_fn->getArg(2), row, 1);
    llvm::Value* byte = b.CreateLShr(row, b.getInt64(3));
    llvm::Value* bit = b.CreateShl(b.getInt8(1), b.CreateTrunc(b.CreateAnd(row, 7), i8));
    auto set_bit = [&](llvm::Value* bits, llvm::Value* on) {
      llvm::Value* p = b.CreateGEP(i8, bits, byte);
      llvm::Value* mask = b.CreateSelect(on, bit, b.getInt8(0));
      b.CreateStore(b.CreateOr(b.CreateLoad(i8, p), mask), p);
    };
    for (size_t e = 0; e < exprs.size(); ++e) {
      Val v = emit.Emit(*exprs[e]);
      if (exprs[e]->type == TypeId::kBool) {
        set_bit(output(out, e, 0), b.CreateAnd(v.v, v.valid));
      } else {
        b.CreateStore(v.v, b.CreateGEP(ValueType(b, exprs[e]->type), output(out, e, 0), row));
      }
      set_bit(output(out, e, 1), v.valid);
    }
    b.CreateRetVoid();
  }

  llvm::Function* fn = kernel.fn;
  auto block = [&](const char* label) { return llvm::BasicBlock::Create(*context, label, fn); };
  llvm::BasicBlock* entry = block("entry");
  llvm::BasicBlock* start = block("start");
  llvm::BasicBlock* dense = block("dense");
  llvm::BasicBlock* vector_body = block("vector");
  llvm::BasicBlock* tail = block("tail");
  llvm::BasicBlock* done = block("done");
  b.SetInsertPoint(entry);
  b.CreateCondBr(b.CreateICmpSGT(kernel.count, b.getInt64(0)), start, done);
  b.SetInsertPoint(start);
  b.CreateCondBr(b.CreateIsNull(kernel.sel), dense, tail);

  // Dense: 8 rows at a time, each value vector stored whole and its 8 validity (and bool)
  // bits as one byte.
  b.SetInsertPoint(dense);
  const Slots slots = LoadSlots(b, layout, kernel.data, kernel.validity, kernel.tables);
  llvm::Value* vector_end = b.CreateAnd(kernel.count, b.getInt64(~int64_t{7}));
  b.CreateCondBr(b.CreateICmpSGT(vector_end, b.getInt64(0)), vector_body, tail);
  b.SetInsertPoint(vector_body);
  llvm::PHINode* vk = b.CreatePHI(i64, 2);
  vk->addIncoming(b.getInt64(0), dense);
  {
    Emitter emit(b, layout, slots.data, slots.validity, slots.tables, kernel.params, vk, 8);
    llvm::Value* byte = b.CreateLShr(vk, b.getInt64(3));
    for (size_t e = 0; e < exprs.size(); ++e) {
      Val v = emit.Emit(*exprs[e]);
      if (exprs[e]->type == TypeId::kBool) {
        b.CreateStore(b.CreateBitCast(b.CreateAnd(v.v, v.valid), i8),
                      b.CreateGEP(i8, output(kernel.out, e, 0), byte));
      } else {
        llvm::Type* t = ValueType(b, exprs[e]->type);
        b.CreateAlignedStore(v.v, b.CreateGEP(t, output(kernel.out, e, 0), vk), llvm::Align(8));
      }
      b.CreateStore(b.CreateBitCast(v.valid, i8), b.CreateGEP(i8, output(kernel.out, e, 1), byte));
    }
  }
  llvm::Value* vk_next = b.CreateAdd(vk, b.getInt64(8));
  llvm::BasicBlock* latch = b.GetInsertBlock();
  vk->addIncoming(vk_next, latch);
  b.CreateCondBr(b.CreateICmpSLT(vk_next, vector_end), vector_body, tail);

  // Row by row: the rows after the last multiple of 8, or the rows listed in `sel`.
  b.SetInsertPoint(tail);
  llvm::PHINode* from = b.CreatePHI(i64, 3);
  from->addIncoming(b.getInt64(0), start);
  from->addIncoming(b.getInt64(0), dense);
  from->addIncoming(vector_end, latch);
  llvm::BasicBlock* rows = block("rows");
  b.CreateCondBr(b.CreateICmpSLT(from, kernel.count), rows, done);
  b.SetInsertPoint(rows);
  llvm::PHINode* k = b.CreatePHI(i64, 2);
  k->addIncoming(from, tail);
  llvm::BasicBlock* listed = block("rows.listed");
  llvm::BasicBlock* call = block("rows.call");
  b.CreateCondBr(b.CreateIsNull(kernel.sel), call, listed);
  b.SetInsertPoint(listed);
  llvm::Value* listed_row =
      b.CreateSExt(b.CreateLoad(b.getInt32Ty(), b.CreateGEP(b.getInt32Ty(), kernel.sel, k)), i64);
  b.CreateBr(call);
  b.SetInsertPoint(call);
  llvm::PHINode* row = b.CreatePHI(i64, 2);
  row->addIncoming(k, rows);
  row->addIncoming(listed_row, listed);
  b.CreateCall(row_fn,
               {kernel.data, kernel.validity, kernel.params, kernel.tables, kernel.out, row});
  llvm::Value* next = b.CreateAdd(k, b.getInt64(1));
  k->addIncoming(next, call);
  b.CreateCondBr(b.CreateICmpSLT(next, kernel.count), rows, done);

  b.SetInsertPoint(done);
  b.CreateRet(b.getInt64(0));

  return generated.Compile(engine, ir);
}

JitProjection::JitProjection(std::shared_ptr<const void> kernel, const std::atomic<KernelFn>* fn,
                             std::vector<size_t> computed, std::vector<TypeId> types,
                             const Layout& layout, std::shared_ptr<const void> owned)
    : kernel_(std::move(kernel)),
      fn_(fn),
      computed_(std::move(computed)),
      types_(std::move(types)),
      binding_(layout),
      params_(layout.params),
      owned_(std::move(owned)) {}

Result<bool> JitProjection::Project(const Batch& batch, const Selection& sel,
                                    const EvalContext& ctx, std::vector<Vector>* out) const {
  const int64_t rows = batch.num_rows();
  BoundBatch bound;
  TQL_ASSIGN_OR_RETURN(bool readable, binding_.Bind(batch, sel, ctx, false, &bound));
  if (!readable) return false;
  // Values and validity per column; the bit arrays zeroed (the row path sets bits), with a
  // byte to spare for the rows after the last multiple of 8.
  const auto bytes = static_cast<size_t>(bits::BytesFor(rows)) + 1;
  std::vector<std::shared_ptr<Buffer>> values, validity;
  std::vector<void*> pointers;
  for (TypeId type : types_) {
    const size_t size = type == TypeId::kBool ? bytes : static_cast<size_t>(rows) * 8 + 64;
    values.push_back(Buffer::Allocate(size));
    validity.push_back(Buffer::Allocate(bytes));
    if (type == TypeId::kBool) std::memset(values.back()->mutable_data(), 0, size);
    std::memset(validity.back()->mutable_data(), 0, bytes);
    pointers.push_back(values.back()->mutable_data());
    pointers.push_back(validity.back()->mutable_data());
  }
  const KernelFn fn = fn_->load(std::memory_order_acquire);
  fn(bound.data.data(), bound.validity.data(), params_.data(), bound.tables.data(),
     sel.dense() ? nullptr : sel.rows().data(), sel.count(),
     reinterpret_cast<int32_t*>(pointers.data()));
  out->clear();
  for (size_t c = 0; c < types_.size(); ++c) {
    out->push_back(Vector::Fixed(types_[c], rows, std::move(values[c]), std::move(validity[c])));
  }
  return true;
}

}  // namespace tql::jit
