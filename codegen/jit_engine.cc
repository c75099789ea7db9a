#include "codegen/jit_engine.h"

#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <mutex>

namespace tql {

namespace {

std::string ErrorText(llvm::Error error) {
  return llvm::toString(std::move(error));
}

void InitializeLlvmOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

}  // namespace

Result<std::unique_ptr<JitEngine>> JitEngine::Create(Tier tier) {
  InitializeLlvmOnce();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) return Status::Internal("cannot detect the host CPU: {}", ErrorText(jtmb.takeError()));
  // Code generation dominates a kernel's compile time; at None, x86 selects instructions with
  // FastISel.
  jtmb->setCodeGenOptLevel(tier == Tier::kFast ? llvm::CodeGenOptLevel::None
                                               : llvm::CodeGenOptLevel::Aggressive);
  std::unique_ptr<JitEngine> engine(new JitEngine());
  engine->tier_ = tier;
  engine->cpu_ = jtmb->getCPU();
  auto machine = jtmb->createTargetMachine();
  if (!machine) {
    return Status::Internal("cannot create a target machine: {}", ErrorText(machine.takeError()));
  }
  engine->machine_ = std::move(*machine);
  // One compiler with one target machine for every module: callers serialize AddModule and
  // Lookup, so no per-compile target machine is needed (that costs milliseconds each).
  auto jit = llvm::orc::LLJITBuilder()
                 .setJITTargetMachineBuilder(std::move(*jtmb))
                 .setCompileFunctionCreator(
                     [](llvm::orc::JITTargetMachineBuilder b)
                         -> llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
                       auto tm = b.createTargetMachine();
                       if (!tm) return tm.takeError();
                       return std::make_unique<llvm::orc::TMOwningSimpleCompiler>(std::move(*tm));
                     })
                 .create();
  if (!jit) return Status::Internal("cannot create the JIT: {}", ErrorText(jit.takeError()));
  engine->jit_ = std::move(*jit);
  return engine;
}

JitEngine::~JitEngine() = default;

Status JitEngine::AddModule(llvm::orc::ThreadSafeModule module, std::string* ir) {
  llvm::TargetMachine* machine = machine_.get();
  const llvm::OptimizationLevel level =
      tier_ == Tier::kFast ? llvm::OptimizationLevel::O1 : llvm::OptimizationLevel::O2;
  // A module the generator got wrong is an error here, not a crash in the JIT.
  std::string broken;
  module.withModuleDo([&broken](llvm::Module& m) {
    llvm::raw_string_ostream out(broken);
    if (!llvm::verifyModule(m, &out)) broken.clear();
  });
  if (!broken.empty()) return Status::Internal("the JIT generated invalid IR: {}", broken);
  module.withModuleDo([machine, ir, level](llvm::Module& m) {
    m.setDataLayout(machine->createDataLayout());
    m.setTargetTriple(machine->getTargetTriple().str());
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    // The kernels come vectorized and their loops need no unrolling: the pipeline's loop
    // vectorizer, SLP vectorizer and unroller would only add compile time.
    llvm::PipelineTuningOptions tuning;
    tuning.LoopUnrolling = false;
    tuning.LoopInterleaving = false;
    tuning.LoopVectorization = false;
    tuning.SLPVectorization = false;
    llvm::PassBuilder pb(machine, tuning);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(level);
    mpm.run(m, mam);
    if (ir != nullptr) {
      llvm::raw_string_ostream os(*ir);
      m.print(os, nullptr);
    }
  });
  if (auto err = jit_->addIRModule(std::move(module))) {
    return Status::Internal("cannot add a module to the JIT: {}", ErrorText(std::move(err)));
  }
  return Status::Ok();
}

Status JitEngine::DefineAbsolute(const std::string& name, const void* address) {
  llvm::orc::SymbolMap symbols;
  symbols[jit_->mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                          llvm::JITSymbolFlags::Exported};
  if (auto err = jit_->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(symbols)))) {
    return Status::Internal("cannot define the JIT symbol '{}': {}", name,
                            ErrorText(std::move(err)));
  }
  return Status::Ok();
}

Result<void*> JitEngine::Lookup(const std::string& name) {
  auto sym = jit_->lookup(name);
  if (!sym)
    return Status::Internal("JIT symbol '{}' not found: {}", name, ErrorText(sym.takeError()));
  return sym->toPtr<void*>();
}

}  // namespace tql
