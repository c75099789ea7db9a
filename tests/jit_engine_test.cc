#include "codegen/jit_engine.h"

#include <gtest/gtest.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

namespace tql {
namespace {

// Builds `int64_t sum_i64(const int64_t* values, int64_t n)` with IRBuilder: a loop the
// optimizer vectorizes for the host, the shape of the scan kernels to come.
llvm::orc::ThreadSafeModule BuildSumModule() {
  auto context = std::make_unique<llvm::LLVMContext>();
  auto module = std::make_unique<llvm::Module>("sum", *context);
  llvm::IRBuilder<> b(*context);
  auto* i64 = b.getInt64Ty();
  auto* fn_type = llvm::FunctionType::get(i64, {b.getPtrTy(), i64}, false);
  auto* fn = llvm::Function::Create(fn_type, llvm::Function::ExternalLinkage, "sum_i64", *module);
  auto* values = fn->getArg(0);
  auto* n = fn->getArg(1);
  auto* entry = llvm::BasicBlock::Create(*context, "entry", fn);
  auto* loop = llvm::BasicBlock::Create(*context, "loop", fn);
  auto* done = llvm::BasicBlock::Create(*context, "done", fn);
  b.SetInsertPoint(entry);
  b.CreateCondBr(b.CreateICmpSGT(n, b.getInt64(0)), loop, done);
  b.SetInsertPoint(loop);
  auto* i = b.CreatePHI(i64, 2);
  auto* acc = b.CreatePHI(i64, 2);
  auto* value = b.CreateLoad(i64, b.CreateGEP(i64, values, i));
  auto* next_acc = b.CreateAdd(acc, value);
  auto* next_i = b.CreateAdd(i, b.getInt64(1));
  i->addIncoming(b.getInt64(0), entry);
  i->addIncoming(next_i, loop);
  acc->addIncoming(b.getInt64(0), entry);
  acc->addIncoming(next_acc, loop);
  b.CreateCondBr(b.CreateICmpSLT(next_i, n), loop, done);
  b.SetInsertPoint(done);
  auto* result = b.CreatePHI(i64, 2);
  result->addIncoming(b.getInt64(0), entry);
  result->addIncoming(next_acc, loop);
  b.CreateRet(result);
  return llvm::orc::ThreadSafeModule(std::move(module), std::move(context));
}

TEST(JitEngine, CompilesAndRunsAFunction) {
  Result<std::unique_ptr<JitEngine>> jit = JitEngine::Create();
  ASSERT_TRUE(jit.ok()) << jit.status().ToString();
  EXPECT_FALSE((*jit)->cpu().empty());
  ASSERT_TRUE((*jit)->AddModule(BuildSumModule()).ok());
  Result<void*> address = (*jit)->Lookup("sum_i64");
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  auto sum = reinterpret_cast<int64_t (*)(const int64_t*, int64_t)>(*address);
  std::vector<int64_t> values(1001);
  for (size_t k = 0; k < values.size(); ++k) values[k] = static_cast<int64_t>(k) - 7;
  EXPECT_EQ(sum(values.data(), static_cast<int64_t>(values.size())), 500500 - 7 * 1001);
  EXPECT_EQ(sum(values.data(), 0), 0);
}

TEST(JitEngine, MissingSymbolIsAnError) {
  Result<std::unique_ptr<JitEngine>> jit = JitEngine::Create();
  ASSERT_TRUE(jit.ok());
  EXPECT_FALSE((*jit)->Lookup("no_such_function").ok());
}

}  // namespace
}  // namespace tql
