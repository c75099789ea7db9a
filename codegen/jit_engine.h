//! JitEngine: an LLVM ORC LLJIT instance targeting the host CPU. Modules built with IRBuilder
//! are optimized with the new pass manager and compiled on demand; symbols are looked up by name.
#pragma once

#include <memory>
#include <string>

#include "runtime/status.h"

namespace llvm {
class TargetMachine;
namespace orc {
class LLJIT;
class ThreadSafeModule;
}  // namespace orc
}  // namespace llvm

namespace tql {

class JitEngine {
 public:
  // How much work goes into the machine code. kOptimized: the O2 pass pipeline and aggressive
  // code generation (the kernels that run for long). kFast: the O1 pipeline and LLVM's fast
  // instruction selection, about half the compile time for somewhat slower code (the first
  // tier, used until the optimized kernel is ready).
  enum class Tier { kFast, kOptimized };
  static Result<std::unique_ptr<JitEngine>> Create(Tier tier = Tier::kOptimized);
  ~JitEngine();
  JitEngine(const JitEngine&) = delete;
  JitEngine& operator=(const JitEngine&) = delete;

  // Runs the tier's pass pipeline for the host on the module, then hands it to the JIT; `ir`
  // (when set) receives the optimized IR as text.
  Status AddModule(llvm::orc::ThreadSafeModule module, std::string* ir = nullptr);
  // Makes `address` the definition of the symbol `name` in every module added after: runtime
  // functions and tables that kernels call or read are host symbols, not generated code.
  Status DefineAbsolute(const std::string& name, const void* address);
  // Address of a compiled function (compiling it on first lookup).
  Result<void*> Lookup(const std::string& name);

  // The CPU the code is compiled for, e.g. "znver3" or "skylake-avx512".
  const std::string& cpu() const { return cpu_; }

 private:
  JitEngine() = default;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  // For the optimization passes: made once (creating a target machine per module costs
  // milliseconds); AddModule calls are serialized by the callers.
  std::unique_ptr<llvm::TargetMachine> machine_;
  std::string cpu_;
  Tier tier_ = Tier::kOptimized;
};

}  // namespace tql
