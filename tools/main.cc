// The `tql` command: run, explain, check, fmt, gen and the other subcommands of docs/cli.md.
// Exit status: 0 ok, 1 query error (diagnostics on stderr), 2 usage or input error.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#ifdef TQL_HAVE_JIT
#include "codegen/filter_compiler.h"
#endif
#include "frontend/binder.h"
#include "frontend/function_registry.h"
#include "frontend/parser.h"
#include "planner/executor.h"
#include "planner/logical_plan.h"
#include "runtime/byte_io.h"
#include "runtime/time_format.h"
#include "tools/as_code.h"
#include "tools/cli_support.h"
#include "tools/gen/telemetry_generator.h"
#include "tools/inputs.h"
#include "tools/result_format.h"
#include "tools/trace_view.h"

namespace tql {
namespace {

// The type of a --param value: read as a TQL literal when it is one (42, 2.5, 250ms, true,
// 2026-11-24T10:00:00Z), else a string.
TypeId ParameterType(const std::string& value) {
  int64_t i;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), i);
  if (ec == std::errc() && p == value.data() + value.size()) return TypeId::kInt;
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  if (!value.empty() && end == value.c_str() + value.size()) return TypeId::kFloat;
  if (ParseDuration(value)) return TypeId::kDuration;
  if (value == "true" || value == "false") return TypeId::kBool;
  if (value.size() >= 10 && ParseTimestamp(value)) return TypeId::kTimestamp;
  return TypeId::kString;
}

// A --param value as the typed value ParameterType reads it as.
Value ParameterValue(const std::string& text) {
  switch (ParameterType(text)) {
    case TypeId::kInt:
      return Value::Int(std::strtoll(text.c_str(), nullptr, 10));
    case TypeId::kFloat:
      return Value::Float(std::strtod(text.c_str(), nullptr));
    case TypeId::kDuration:
      return Value::Duration(*ParseDuration(text));
    case TypeId::kBool:
      return Value::Bool(text == "true");
    case TypeId::kTimestamp:
      return Value::Timestamp(*ParseTimestamp(text));
    default:
      return Value::String(text);
  }
}

BindOptions MakeBindOptions(const std::vector<std::string>& params) {
  BindOptions options;
  for (const std::string& p : params) {
    const size_t eq = p.find('=');
    if (eq != std::string::npos)
      options.parameter_types[p.substr(0, eq)] = ParameterType(p.substr(eq + 1));
  }
  return options;
}

PlanOptions MakePlanOptions(const std::vector<std::string>& params) {
  PlanOptions options;
  for (const std::string& p : params) {
    const size_t eq = p.find('=');
    if (eq != std::string::npos) {
      options.parameters[p.substr(0, eq)] = ParameterValue(p.substr(eq + 1));
    }
  }
  options.now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return options;
}

struct Compiled {
  std::optional<ast::Query> query;
  BindResult bound;
  PlanResult planned;
  std::unique_ptr<PlanNode> plan;  // null when the query does not bind or cannot run yet
  int64_t now = 0;
};

// Parses, binds and plans `text`; prints diagnostics (prefixed by `origin` when set) to
// stderr. `plan_required`: a query that cannot be planned is an error (else it is reported by
// the caller).
Compiled Compile(const std::string& text, const Catalog& catalog, const std::string& origin,
                 const std::vector<std::string>& params, bool plan_required) {
  Compiled c;
  ParseResult parsed = ParseQuery(text);
  if (!parsed.query) {
    fmt::print(stderr, "{}", FormatDiagnostics(text, parsed.diagnostics, origin));
    return c;
  }
  c.query = std::move(parsed.query);
  c.bound = Bind(&*c.query, catalog, MakeBindOptions(params));
  if (!c.bound.diagnostics.empty()) {
    fmt::print(stderr, "{}", FormatDiagnostics(text, c.bound.diagnostics, origin));
  }
  if (!c.bound.ok()) return c;
  PlanOptions options = MakePlanOptions(params);
  c.now = options.now;
  c.planned = PlanQuery(*c.query, c.bound, catalog, options);
  if (plan_required && !c.planned.diagnostics.empty()) {
    fmt::print(stderr, "{}", FormatDiagnostics(text, c.planned.diagnostics, origin));
  }
  c.plan = std::move(c.planned.plan);
  return c;
}

struct QueryText {
  std::string text;
  std::string origin;  // the file name for diagnostics, empty for a command-line query
};

std::optional<QueryText> ResolveQuery(const std::string& query, const std::string& file) {
  if (!file.empty() && !query.empty()) {
    UsageError("give either a QUERY or -f FILE, not both");
    return std::nullopt;
  }
  if (!file.empty()) {
    QueryText q{"", file};
    if (!ReadTextFile(file, &q.text)) {
      UsageError(fmt::format("cannot read '{}'", file));
      return std::nullopt;
    }
    return q;
  }
  if (query.empty()) {
    UsageError("no query given (a QUERY argument or -f FILE)");
    return std::nullopt;
  }
  return QueryText{query, ""};
}

// ---------------------------------------------------------------------------------------------

struct RunOptions {
  std::vector<std::string> inputs;
  std::string format = "table";
  std::string engine = "auto";
  int threads = 1;
  std::vector<std::string> params;
  int repeat = 1;
  bool stats = false;
  bool skip_bad_lines = false;
  std::string file;
  std::string query;
  std::string memory_limit;
  int64_t row_limit = 0;
  int64_t time_limit_ms = 0;
  std::string partial_out;
};

// A byte size: digits and an optional unit (K, M, G, T, with or without B or iB: powers of
// 1024). False when malformed.
bool ParseByteSize(const std::string& text, int64_t* bytes) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0 || i > 15) return false;
  int64_t n = std::stoll(text.substr(0, i));
  std::string unit = text.substr(i);
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  static const std::pair<const char*, int> kUnits[] = {
      {"", 0},     {"B", 0},  {"K", 10},  {"KB", 10},  {"KIB", 10}, {"M", 20},  {"MB", 20},
      {"MIB", 20}, {"G", 30}, {"GB", 30}, {"GIB", 30}, {"T", 40},   {"TB", 40}, {"TIB", 40}};
  for (const auto& [name, shift] : kUnits) {
    if (unit == name) {
      if (shift > 0 && n > (std::numeric_limits<int64_t>::max() >> shift)) return false;
      *bytes = n << shift;
      return true;
    }
  }
  return false;
}

// --memory-limit, or by default 80% of the machine's physical memory; false (after printing
// the usage error) when the flag is not a size.
bool MemoryLimit(const std::string& flag, int64_t* limit) {
  if (!flag.empty()) {
    if (ParseByteSize(flag, limit) && *limit > 0) return true;
    UsageError(fmt::format("--memory-limit '{}' is not a size such as 512MB or 4GiB", flag));
    return false;
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  *limit = pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page / 10 * 8 : 0;
  return true;
}

// A shard file of `tql run --partial`: what `tql merge` needs besides the partial state, so
// that the merge reads no data: the query text, its parameters, now(), and the schemas of the
// sources the shard had.
constexpr std::string_view kShardMagic = "tql partial aggregate state v1\n";

std::string EncodeShard(const std::string& query, const std::vector<std::string>& params,
                        int64_t now, const Catalog& catalog, const std::string& partial) {
  std::string out(kShardMagic);
  ByteWriter w(&out);
  w.Bytes(query);
  w.Varint(params.size());
  for (const std::string& p : params) w.Bytes(p);
  w.SignedVarint(now);
  const std::vector<std::string> names = catalog.Names();
  w.Varint(names.size());
  for (const std::string& name : names) {
    w.Bytes(name);
    w.U8(catalog.IsOpen(name) ? 1 : 0);
    const Schema& schema = *catalog.Find(name);
    w.Varint(static_cast<uint64_t>(schema.num_fields()));
    for (int i = 0; i < schema.num_fields(); ++i) {
      w.Bytes(schema.field(i).name);
      w.U8(static_cast<uint8_t>(schema.field(i).type));
    }
  }
  w.Bytes(partial);
  return out;
}

struct Shard {
  std::string query;
  std::vector<std::string> params;
  int64_t now = 0;
  Catalog catalog;
  std::string partial;
};

bool DecodeShard(std::string_view bytes, Shard* shard) {
  if (bytes.substr(0, kShardMagic.size()) != kShardMagic) return false;
  ByteReader r(bytes.substr(kShardMagic.size()));
  std::string_view s;
  uint64_t n;
  if (!r.Bytes(&s)) return false;
  shard->query.assign(s);
  if (!r.Count(&n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    if (!r.Bytes(&s)) return false;
    shard->params.emplace_back(s);
  }
  if (!r.SignedVarint(&shard->now) || !r.Count(&n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    uint8_t open;
    uint64_t fields;
    if (!r.Bytes(&name) || !r.U8(&open) || !r.Count(&fields, 2)) return false;
    std::vector<Field> list;
    for (uint64_t f = 0; f < fields; ++f) {
      uint8_t type;
      if (!r.Bytes(&s) || !r.U8(&type) || type >= kNumTypes) return false;
      list.push_back({std::string(s), static_cast<TypeId>(type)});
    }
    shard->catalog.Add(std::string(name), std::make_shared<Schema>(std::move(list)), open != 0);
  }
  if (!r.Bytes(&s) || r.remaining() != 0) return false;
  shard->partial.assign(s);
  return true;
}

// The engine `--engine auto|jit|interp` names: the kernel compiler (null: the interpreter, also
// for auto without a working JIT) and whether filters start on the interpreter.
struct ChosenEngine {
#ifdef TQL_HAVE_JIT
  std::unique_ptr<JitKernelCompiler> jit;
#endif
  KernelCompiler* compiler = nullptr;
  bool adaptive = false;
};

// False, after printing the usage error, when `jit` is asked for and there is none.
bool ChooseEngine(const std::string& name, ChosenEngine* out) {
#ifdef TQL_HAVE_JIT
  if (name != "interp") {
    Result<std::unique_ptr<JitKernelCompiler>> j = JitKernelCompiler::Create();
    if (j.ok()) {
      out->jit = std::move(j).value();
    } else if (name == "jit") {
      UsageError(fmt::format("--engine jit: {}", j.status().message()));
      return false;
    }
  }
  out->compiler = out->jit.get();
  out->adaptive = name == "auto";
#else
  if (name == "jit") {
    UsageError("--engine jit: this build of tql has no JIT (it was configured without LLVM)");
    return false;
  }
#endif
  return true;
}

int RunCommand(const RunOptions& o) {
  auto format = OutputFormatFromName(o.format);
  if (!format) return UsageError(fmt::format("unknown --format '{}'", o.format));
  ChosenEngine engine;
  if (!ChooseEngine(o.engine, &engine)) return kExitUsageError;
#ifdef TQL_HAVE_JIT
  if (engine.jit) engine.jit->WarmUpInBackground();  // while the inputs load
  JitKernelCompiler* jit = engine.jit.get();
#endif
  KernelCompiler* compiler = engine.compiler;
  const bool adaptive = engine.adaptive;
  for (const std::string& p : o.params) {
    if (p.find('=') == std::string::npos || p.front() == '=') {
      return UsageError(fmt::format("--param '{}' is not NAME=VALUE", p));
    }
  }
  int64_t memory_limit = 0;
  if (!MemoryLimit(o.memory_limit, &memory_limit)) return kExitUsageError;
  auto query = ResolveQuery(o.query, o.file);
  if (!query) return kExitUsageError;
  Result<LoadedInputs> inputs = LoadInputs(o.inputs, o.skip_bad_lines);
  if (!inputs.ok()) return UsageError(inputs.status().message());
  for (const std::string& note : inputs->notes) fmt::print(stderr, "tql: {}\n", note);

  const auto compile_start = std::chrono::steady_clock::now();
  Compiled compiled = Compile(query->text, inputs->catalog, query->origin, o.params,
                              /*plan_required=*/true);
  const auto compile_end = std::chrono::steady_clock::now();
  if (!compiled.plan) return kExitQueryError;
  const PlanNode* plan = compiled.plan.get();

  if (!o.partial_out.empty()) {
    ScanStats scan;
    ExecOptions exec;
    exec.now = compiled.now;
    exec.memory_limit = memory_limit;
    exec.compiler = compiler;
    exec.adaptive = adaptive;
    Result<std::string> partial = ExecutePartial(*plan, inputs->tables, &scan, exec);
    if (!partial.ok()) {
      fmt::print(stderr, "tql: {}\n", partial.status().message());
      return kExitQueryError;
    }
    std::ofstream out(o.partial_out, std::ios::binary);
    out << EncodeShard(query->text, o.params, compiled.now, inputs->catalog, *partial);
    if (!out.flush()) return UsageError(fmt::format("cannot write '{}'", o.partial_out));
    return kExitOk;
  }

  std::vector<double> times_ms;
  ScanStats scan;
  Table result;
  for (int i = 0; i < std::max(1, o.repeat); ++i) {
    scan = {};
    const auto start = std::chrono::steady_clock::now();
    QueryControl control;
    control.set_memory_limit(memory_limit);
    control.set_row_limit(o.row_limit);
    control.set_deadline(QueryControl::Clock::now() + std::chrono::milliseconds(o.time_limit_ms),
                         o.time_limit_ms);
    ExecOptions exec;
    exec.now = compiled.now;
    exec.memory_limit = memory_limit;
    exec.compiler = compiler;
    exec.adaptive = adaptive;
    exec.control = &control;
    Result<Table> r = ExecuteParallel(*plan, inputs->tables, o.threads, &scan, exec);
    const auto end = std::chrono::steady_clock::now();
    if (!r.ok()) {
      fmt::print(stderr, "tql: {}\n", r.status().message());
      return kExitQueryError;
    }
    result = std::move(r).value();
    times_ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  WriteTable(result, *format, stdout);
  std::fflush(stdout);
  if (o.stats) {
    std::sort(times_ms.begin(), times_ms.end());
    fmt::print(stderr, "compile: {:.3f} ms\n",
               std::chrono::duration<double, std::milli>(compile_end - compile_start).count());
    fmt::print(stderr, "execute: min {:.3f} ms, median {:.3f} ms over {} run(s)\n",
               times_ms.front(), times_ms[times_ms.size() / 2], times_ms.size());
    fmt::print(stderr, "rows scanned: {} in {} batch(es); {} batch(es) skipped by statistics\n",
               scan.rows_read, scan.batches_read, scan.batches_skipped);
#ifdef TQL_HAVE_JIT
    if (jit) {
      const JitStats s = jit->stats();
      fmt::print(stderr,
                 "engine: {}: {} kernel(s) compiled in {:.3f} ms ({} optimized in the background "
                 "in {:.3f} ms so far), {} cache hit(s); what the kernels do not cover runs on "
                 "the interpreter{}\n",
                 o.engine, s.kernels_compiled, s.compile_ms, s.kernels_optimized, s.optimize_ms,
                 s.cache_hits,
                 adaptive ? ", as does every batch that comes before its kernel is ready" : "");
    } else {
      fmt::print(stderr, "engine: interpreter\n");
    }
#else
    fmt::print(stderr, "engine: interpreter\n");
#endif
  }
  return kExitOk;
}

// tql merge: the result of a query from the partial states of its shards.
int MergeCommand(const std::vector<std::string>& files, const std::string& format_name,
                 const std::string& memory_flag) {
  auto format = OutputFormatFromName(format_name);
  if (!format) return UsageError(fmt::format("unknown --format '{}'", format_name));
  int64_t memory_limit = 0;
  if (!MemoryLimit(memory_flag, &memory_limit)) return kExitUsageError;
  std::vector<Shard> shards(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    std::string bytes;
    if (!ReadTextFile(files[i], &bytes)) {
      return UsageError(fmt::format("cannot read '{}'", files[i]));
    }
    if (!DecodeShard(bytes, &shards[i])) {
      fmt::print(stderr, "tql: {}: not a partial state written by 'tql run --partial'\n", files[i]);
      return kExitQueryError;
    }
    if (shards[i].query != shards[0].query || shards[i].params != shards[0].params) {
      fmt::print(stderr, "tql: {}: made by another query or parameters than {}\n", files[i],
                 files[0]);
      return kExitQueryError;
    }
  }
  Compiled compiled = Compile(shards[0].query, shards[0].catalog, files[0], shards[0].params,
                              /*plan_required=*/true);
  if (!compiled.plan) return kExitQueryError;
  std::vector<std::string_view> partials;
  for (const Shard& s : shards) partials.push_back(s.partial);
  ExecOptions exec;
  exec.now = shards[0].now;
  exec.memory_limit = memory_limit;
  Result<Table> r = MergePartials(*compiled.plan, partials, exec);
  if (!r.ok()) {
    fmt::print(stderr, "tql: {}\n", r.status().message());
    return kExitQueryError;
  }
  WriteTable(*r, *format, stdout);
  return kExitOk;
}

int ExplainCommand(const std::vector<std::string>& input_specs, bool ir, bool verbose,
                   const std::vector<std::string>& params, const std::string& q,
                   const std::string& file) {
#ifndef TQL_HAVE_JIT
  if (ir) return UsageError("--ir: this build of tql has no JIT (it was configured without LLVM)");
#endif
  auto query = ResolveQuery(q, file);
  if (!query) return kExitUsageError;
  Result<LoadedInputs> inputs = LoadInputs(input_specs, /*skip_bad_lines=*/true);
  if (!inputs.ok()) return UsageError(inputs.status().message());
  Compiled compiled = Compile(query->text, inputs->catalog, query->origin, params,
                              /*plan_required=*/false);
  if (!compiled.bound.ok()) return kExitQueryError;
  if (verbose) fmt::print("bound query:\n{}", FormatBoundQuery(*compiled.query, compiled.bound));
  if (!compiled.plan) {
    fmt::print("plan: none\n{}",
               FormatDiagnostics(query->text, compiled.planned.diagnostics, query->origin));
    return kExitQueryError;
  }
  fmt::print("plan:\n{}", ExplainPlan(*compiled.plan));
  for (const PushdownInfo& p : DescribePushdown(*compiled.plan)) {
    fmt::print("pushdown to {}: columns [{}]", p.source, fmt::join(p.columns, ", "));
    if (!p.predicates.empty()) fmt::print("; predicates [{}]", fmt::join(p.predicates, ", "));
    fmt::print("\n");
  }
  if (verbose) {
    fmt::print("rules:\n");
    if (compiled.planned.rules_fired.empty()) fmt::print("  (none fired)\n");
    for (const std::string& r : compiled.planned.rules_fired) fmt::print("  {}\n", r);
  }
#ifdef TQL_HAVE_JIT
  if (ir) {
    Result<std::unique_ptr<JitKernelCompiler>> jit = JitKernelCompiler::Create(256, true);
    if (!jit.ok()) return UsageError(fmt::format("--ir: {}", jit.status().message()));
    // The updates fused with the filters below them (as the executor fuses them), then the
    // other filters, each as the kernel the JIT compiles for it.
    std::set<const PExpr*> fused;
    std::set<const PlanNode*> fused_projections;
    std::vector<PExprPtr> owned;
    int updates = 0;
    std::function<void(const PlanNode&)> fuse = [&](const PlanNode& n) {
      AggregateFusion fusion;
      if (const PlanNode* scan = FusionOf(n, &fusion, &owned); scan != nullptr) {
        ++updates;
        const bool kernel = (*jit)->CompileAggregate(fusion) != nullptr;
        const std::string by =
            fusion.key ? " by " + fusion.key->ToString(*scan->output_schema) : std::string();
        fmt::print("update {}{} over {} with {} filter conjunct(s): {}\n",
                   n.kind == PlanNode::Kind::kCount ? "count" : "summarize", by, scan->source,
                   fusion.conjuncts.size(), kernel ? "compiled" : "on the interpreter");
        if (kernel) {
          for (const PlanNode* f = n.input(); f != nullptr; f = f->input()) {
            if (f->kind == PlanNode::Kind::kProject) fused_projections.insert(f);
            if (f->kind == PlanNode::Kind::kFilter) fused.insert(f->predicate.get());
            if (f->kind == PlanNode::Kind::kScan) {
              fused.insert(f->filter.get());
              break;
            }
          }
        }
      }
      for (const auto& input : n.inputs) fuse(*input);
    };
    fuse(*compiled.plan);
    std::vector<std::pair<const PExpr*, const Schema*>> filters;
    int projections = 0;
    std::function<void(const PlanNode&)> walk = [&](const PlanNode& n) {
      if (n.kind == PlanNode::Kind::kProject && !fused_projections.count(&n)) {
        std::vector<const PExpr*> exprs;
        for (const PExprPtr& e : n.exprs) exprs.push_back(e.get());
        auto kernel = (*jit)->CompileProjection(exprs);
        std::vector<std::string> names;
        if (kernel) {
          for (size_t c : kernel->columns()) {
            names.push_back(n.output_schema->field(static_cast<int>(c)).name);
          }
        }
        ++projections;
        fmt::print("project: {} of {} column(s) compiled{}{}\n", names.size(), exprs.size(),
                   names.empty() ? "" : ": ", fmt::join(names, ", "));
      }
      if (n.kind == PlanNode::Kind::kScan && n.filter && !fused.count(n.filter.get())) {
        filters.emplace_back(n.filter.get(), n.output_schema.get());
      }
      if (n.kind == PlanNode::Kind::kFilter && !fused.count(n.predicate.get())) {
        filters.emplace_back(n.predicate.get(), &n.input_schema());
      }
      for (const auto& input : n.inputs) walk(*input);
    };
    walk(*compiled.plan);
    for (const auto& [predicate, schema] : filters) {
      std::vector<const PExpr*> residual;
      const bool kernel = (*jit)->CompileFilter(*predicate, &residual) != nullptr;
      fmt::print("filter {}: {}", predicate->ToString(*schema),
                 kernel ? "compiled" : "on the interpreter");
      if (kernel && !residual.empty()) {
        std::vector<std::string> rest;
        for (const PExpr* r : residual) rest.push_back(r->ToString(*schema));
        fmt::print(" (on the interpreter: {})", fmt::join(rest, ", "));
      }
      fmt::print("\n");
    }
    for (const std::string& text : (*jit)->ir()) fmt::print("{}", text);
    if (filters.empty() && updates == 0 && projections == 0) {
      fmt::print("nothing to compile\n");
    }
  }
#endif
  fmt::print("engine: interpreter\n");
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------

// Bytes of the columns a plan's scans read (values, offsets, string bytes, validity; an
// encoded column's codes and its dictionary once): what a query must touch in memory.
int64_t ScanBytes(const PlanNode& node, const SourceTables& tables) {
  int64_t total = 0;
  for (const auto& input : node.inputs) total += ScanBytes(*input, tables);
  if (node.kind != PlanNode::Kind::kScan) return total;
  auto it = tables.find(node.source);
  if (it == tables.end()) return total;
  for (int c : node.columns) {
    const Vector* dictionary = nullptr;
    for (const Batch& b : it->second.batches) {
      const Vector& v = b.column(c);
      for (const BufferPtr& buf : {v.validity_buffer(), v.values_buffer(), v.data_buffer()}) {
        if (buf) total += static_cast<int64_t>(buf->size());
      }
      if (v.is_dictionary() && &v.dictionary() != dictionary) {
        dictionary = &v.dictionary();
        total += static_cast<int64_t>(
            dictionary->values_buffer()->size() +
            (dictionary->data_buffer() ? dictionary->data_buffer()->size() : 0));
      }
    }
  }
  return total;
}

struct BenchOptions {
  std::vector<std::string> inputs;
  std::vector<std::string> queries;  // NAME=QUERY or QUERY
  std::string queries_file;          // lines of NAME: QUERY
  int repeat = 5;
  std::string format = "table";
  std::string engine = "interp";  // interp, jit or both
};

// Runs each query `repeat` times over inputs loaded once; prints the best and median time,
// rows/s and GB/s of the scanned columns.
int BenchCommand(const BenchOptions& o) {
  std::vector<std::pair<std::string, std::string>> queries;
  for (const std::string& q : o.queries) {
    const size_t colon = q.find(": ");
    if (colon != std::string::npos && q.find_first_of(" |") > colon) {
      queries.emplace_back(q.substr(0, colon), q.substr(colon + 2));
    } else {
      queries.emplace_back(fmt::format("q{}", queries.size() + 1), q);
    }
  }
  if (!o.queries_file.empty()) {
    std::string text;
    if (!ReadTextFile(o.queries_file, &text)) {
      return UsageError(fmt::format("cannot read '{}'", o.queries_file));
    }
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == '#') continue;
      const size_t colon = line.find(": ");
      if (colon == std::string::npos) {
        return UsageError(
            fmt::format("{}: expected 'NAME: QUERY', got '{}'", o.queries_file, line));
      }
      queries.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    }
  }
  if (queries.empty()) return UsageError("no queries (give QUERY arguments or --queries FILE)");
  if (o.format != "table" && o.format != "json") {
    return UsageError(fmt::format("unknown --format '{}'", o.format));
  }
  const auto load_start = std::chrono::steady_clock::now();
  Result<LoadedInputs> inputs = LoadInputs(o.inputs, /*skip_bad_lines=*/false);
  if (!inputs.ok()) return UsageError(inputs.status().message());
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start)
          .count();
  if (o.format == "table") fmt::print("loaded inputs in {:.0f} ms\n", load_ms);
  // The engines to time each query on, in order: the interpreter, the JIT (kernels compiled
  // in the first repeat, cached for the others), or both side by side.
  std::vector<std::pair<std::string, KernelCompiler*>> engines;
#ifdef TQL_HAVE_JIT
  std::unique_ptr<JitKernelCompiler> jit;
  if (o.engine != "interp") {
    Result<std::unique_ptr<JitKernelCompiler>> j = JitKernelCompiler::Create();
    if (!j.ok()) return UsageError(fmt::format("--engine {}: {}", o.engine, j.status().message()));
    jit = std::move(j).value();
  }
  if (o.engine != "jit") engines.emplace_back("interp", nullptr);
  if (o.engine != "interp") engines.emplace_back("jit", jit.get());
#else
  if (o.engine != "interp") {
    return UsageError(fmt::format("--engine {}: this build of tql has no JIT", o.engine));
  }
  engines.emplace_back("interp", nullptr);
#endif
  if (o.format == "table") {
    fmt::print("{:<16} {:>6} {:>12} {:>10} {:>10} {:>10} {:>12} {:>8}\n", "query", "engine",
               "rows in", "rows out", "best ms", "median ms", "Mrows/s", "GB/s");
  }
  int status = kExitOk;
  for (const auto& [name, text] : queries) {
    for (const auto& [engine, compiler] : engines) {
      Compiled compiled = Compile(text, inputs->catalog, name, {}, /*plan_required=*/true);
      if (!compiled.plan) {
        status = kExitQueryError;
        continue;
      }
      const int64_t bytes = ScanBytes(*compiled.plan, inputs->tables);
      std::vector<double> times;
      int64_t rows_out = 0;
      std::string value;  // a one-value result, to check against another engine
      for (int i = 0; i < std::max(1, o.repeat); ++i) {
        ScanStats scan;
        ExecOptions exec;
        exec.now = compiled.now;
        exec.compiler = compiler;
        const auto start = std::chrono::steady_clock::now();
        Result<Table> r = ExecutePlan(*compiled.plan, inputs->tables, &scan, exec);
        const auto end = std::chrono::steady_clock::now();
        if (!r.ok()) {
          fmt::print(stderr, "{}: {}\n", name, r.status().message());
          return kExitQueryError;
        }
        rows_out = r->num_rows();
        if (rows_out == 1 && r->schema->num_fields() == 1) {
          for (const Batch& b : r->batches) {
            if (b.num_rows() > 0) value = FormatValueText(b.column(0), 0);
          }
        }
        times.push_back(std::chrono::duration<double, std::milli>(end - start).count());
      }
      std::sort(times.begin(), times.end());
      const double best = times.front(), median = times[times.size() / 2];
      // Rows of the sources the query reads (batches skipped by statistics count as read).
      int64_t rows_in = 0;
      for (const PushdownInfo& p : DescribePushdown(*compiled.plan)) {
        rows_in += inputs->tables.at(p.source).num_rows();
      }
      const double mrows = static_cast<double>(rows_in) / (best * 1e3);
      const double gbs = static_cast<double>(bytes) / (best * 1e6);
      if (o.format == "json") {
        fmt::print(
            "{{\"name\":\"{}\",\"engine\":\"{}\",\"rows_in\":{},\"rows_out\":{},\"bytes\":{},"
            "\"best_ms\":{:.3f},\"median_ms\":{:.3f}{}}}\n",
            name, engine, rows_in, rows_out, bytes, best, median,
            value.empty() ? "" : fmt::format(",\"value\":\"{}\"", value));
      } else {
        fmt::print("{:<16} {:>6} {:>12} {:>10} {:>10.2f} {:>10.2f} {:>12.1f} {:>8.2f}\n", name,
                   engine, rows_in, rows_out, best, median, mrows, gbs);
      }
    }
  }
  return status;
}

// ---------------------------------------------------------------------------------------------

// tql fmt: the canonical form of each file on stdout (`--write`: in the file instead, and the
// names of the files changed; `--check`: only the names of the files that would change, exit 1
// if any would).
int FmtCommand(const std::vector<std::string>& files, bool check, bool write) {
  bool would_change = false;
  bool failed = false;
  for (const std::string& file : files) {
    std::string text;
    if (!ReadSourceFile(file, &text)) {
      failed = true;
      continue;
    }
    ParseResult parsed = ParseQuery(text);
    if (!parsed.query) {
      fmt::print(stderr, "{}", FormatDiagnostics(text, parsed.diagnostics, file));
      failed = true;
      continue;
    }
    const std::string canonical =
        ast::FormatQueryKeepingComments(*parsed.query, text, parsed.comments);
    if (!check && !write) {
      fmt::print("{}", canonical);
      continue;
    }
    if (canonical == text) continue;
    would_change = true;
    fmt::print("{}\n", file);
    if (write) {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << canonical;
      if (!out) {
        fmt::print(stderr, "{}: error: cannot write the file\n", file);
        failed = true;
      }
    }
  }
  if (failed) return kExitQueryError;
  return check && would_change ? kExitQueryError : kExitOk;
}

// ---------------------------------------------------------------------------------------------

struct GenOptions {
  int64_t spans = 10000;
  uint64_t seed = 1;
  bool logs = false;
  std::string out;
  std::string logs_out;
};

// `dir/spans.ndjson` → `dir/spans.logs.ndjson`.
std::string DefaultLogsPath(const std::string& spans_path) {
  std::filesystem::path p(spans_path);
  std::string stem = p.stem().string();
  std::string ext = p.extension().string();
  if (ext.empty()) ext = ".ndjson";
  return (p.parent_path() / (stem + ".logs" + ext)).string();
}

int GenCommand(const GenOptions& o) {
  if (o.spans < 0) return UsageError("--spans must not be negative");
  const std::string logs_path =
      o.logs ? (o.logs_out.empty() ? DefaultLogsPath(o.out) : o.logs_out) : std::string();
  std::FILE* spans = std::fopen(o.out.c_str(), "wb");
  if (spans == nullptr) return UsageError(fmt::format("cannot write '{}'", o.out));
  std::FILE* logs = nullptr;
  if (o.logs) {
    logs = std::fopen(logs_path.c_str(), "wb");
    if (logs == nullptr) {
      std::fclose(spans);
      return UsageError(fmt::format("cannot write '{}'", logs_path));
    }
  }
  bool write_failed = false;
  auto sink = [&write_failed](std::FILE* f) {
    return [f, &write_failed](std::string_view chunk) {
      if (std::fwrite(chunk.data(), 1, chunk.size(), f) != chunk.size()) write_failed = true;
    };
  };
  gen::GeneratorOptions options;
  options.spans = o.spans;
  options.seed = o.seed;
  options.logs = o.logs;
  gen::GeneratorStats stats = gen::GenerateTelemetry(
      options, sink(spans), logs ? gen::TextSink(sink(logs)) : gen::TextSink());
  write_failed = std::fclose(spans) != 0 || write_failed;
  if (logs) write_failed = std::fclose(logs) != 0 || write_failed;
  if (write_failed) return UsageError("writing the output failed (disk full?)");
  fmt::print(stderr, "tql gen: {} spans in {} traces -> {}", stats.spans, stats.traces, o.out);
  if (o.logs) fmt::print(stderr, "; {} logs -> {}", stats.logs, logs_path);
  fmt::print(stderr, "\n");
  return kExitOk;
}

// The function registry as a table, or as the Markdown page docs/functions.md.
int FunctionsCommand(bool markdown) {
  if (!markdown) {
    size_t width = 0;
    for (const FunctionInfo& f : AllFunctions()) width = std::max(width, f.signature.size());
    for (const FunctionInfo& f : AllFunctions()) {
      fmt::print("{:<9}  {:<{}}  {}\n", f.kind == FunctionKind::kAggregate ? "aggregate" : "scalar",
                 f.signature, width, f.description);
    }
    return kExitOk;
  }
  fmt::print("# Functions and aggregates\n\n");
  fmt::print(
      "Generated by `tql functions --markdown` from the registry the binder checks calls "
      "with; the test suite fails when this page and the registry differ.\n"
      "Function names are case-insensitive. Unknown (null) and dynamic arguments are "
      "accepted wherever a type is asked for and converted when the query runs.\n");
  for (FunctionKind kind : {FunctionKind::kScalar, FunctionKind::kAggregate}) {
    fmt::print("\n## {}\n\n", kind == FunctionKind::kScalar ? "Scalar functions" : "Aggregates");
    if (kind == FunctionKind::kAggregate) {
      fmt::print(
          "Aggregates are used in `summarize`. `count()` counts rows; every other aggregate "
          "skips nulls. Over no values `count`, `countif` and `dcount` give 0 and the "
          "others null.\n\n");
    }
    fmt::print("| signature | what it computes | example |\n|---|---|---|\n");
    for (const FunctionInfo& f : AllFunctions()) {
      if (f.kind != kind) continue;
      auto escape = [](std::string_view text) {
        std::string out;
        for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
        return out;
      };
      fmt::print("| `{}` | {} | `{}` |\n", escape(f.signature), escape(f.description),
                 escape(f.example));
    }
  }
  return kExitOk;
}

// tql trace: one trace's spans (and logs) as a waterfall or nested JSON.

struct TraceOptions {
  std::string trace_id;
  std::vector<std::string> inputs;
  std::string format = "text";
  std::string color = "auto";
  bool stats = false;
  int repeat = 1;
};

// `SOURCE | where trace_id == "ID"`: the planner pushes the predicate into the scan, where the
// batches' Bloom filters skip all but the batches that hold the trace.
// A trace_id that is not a string (an int) is compared as text.
std::unique_ptr<PlanNode> TraceQuery(const std::string& source, const std::string& id,
                                     const Schema& schema, const Catalog& catalog) {
  std::string literal;
  for (char ch : id) {
    if (ch == '"' || ch == '\\') literal += '\\';
    literal += ch;
  }
  const int column = schema.IndexOf("trace_id");
  const bool text = column >= 0 && schema.field(column).type == TypeId::kString;
  return Compile(fmt::format("{} | where {} == \"{}\"", source,
                             text ? "trace_id" : "tostring(trace_id)", literal),
                 catalog, "", {}, /*plan_required=*/true)
      .plan;
}

int TraceCommand(const TraceOptions& o) {
  if (o.trace_id.empty() || std::any_of(o.trace_id.begin(), o.trace_id.end(), [](char ch) {
        return static_cast<unsigned char>(ch) < 0x20;
      })) {
    return UsageError("the trace id must be non-empty text without control characters");
  }
  Result<LoadedInputs> inputs = LoadInputs(o.inputs, /*skip_bad_lines=*/false);
  if (!inputs.ok()) return UsageError(inputs.status().message());
  for (const std::string& note : inputs->notes) fmt::print(stderr, "tql: {}\n", note);
  if (inputs->tables.count("spans") == 0) {
    return UsageError("tql trace reads the source 'spans': give --input spans=FILE");
  }
  const Schema& spans_schema = *inputs->tables.at("spans").schema;
  if (spans_schema.IndexOf("trace_id") < 0) {
    return UsageError("the spans have no trace_id column, so no trace can be isolated");
  }
  std::unique_ptr<PlanNode> spans_plan =
      TraceQuery("spans", o.trace_id, spans_schema, inputs->catalog);
  if (!spans_plan) return kExitQueryError;
  std::unique_ptr<PlanNode> logs_plan;
  if (auto logs = inputs->tables.find("logs"); logs != inputs->tables.end()) {
    if (logs->second.schema->IndexOf("trace_id") < 0) {
      fmt::print(stderr, "tql: warning: the logs have no trace_id column; showing spans only\n");
    } else {
      logs_plan = TraceQuery("logs", o.trace_id, *logs->second.schema, inputs->catalog);
      if (!logs_plan) return kExitQueryError;
    }
  }
  TraceViewOptions view;
  view.json = o.format == "json";
  const bool tty = isatty(fileno(stdout)) != 0;
  view.color =
      o.color == "always" || (o.color == "auto" && tty && std::getenv("NO_COLOR") == nullptr);
  if (tty) {
    winsize ws{};
    if (ioctl(fileno(stdout), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) view.width = ws.ws_col;
  }
  std::string text;
  std::vector<double> times_ms;
  ScanStats scan;
  for (int i = 0; i < std::max(1, o.repeat); ++i) {
    const auto start = std::chrono::steady_clock::now();
    scan = {};
    Result<Table> spans = ExecutePlan(*spans_plan, inputs->tables, &scan, {});
    if (!spans.ok()) {
      fmt::print(stderr, "tql: {}\n", spans.status().message());
      return kExitQueryError;
    }
    Result<Table> logs = Table{};
    if (logs_plan) logs = ExecutePlan(*logs_plan, inputs->tables, &scan, {});
    if (!logs.ok()) {
      fmt::print(stderr, "tql: {}\n", logs.status().message());
      return kExitQueryError;
    }
    Result<std::string> rendered =
        RenderTrace(o.trace_id, *spans, logs_plan ? &*logs : nullptr, view);
    if (!rendered.ok()) {
      fmt::print(stderr, "tql: {}\n", rendered.status().message());
      return kExitQueryError;
    }
    text = std::move(rendered).value();
    times_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  if (o.stats) {
    std::sort(times_ms.begin(), times_ms.end());
    fmt::print(stderr,
               "trace: found, assembled and rendered in min {:.3f} ms, median {:.3f} ms over {} "
               "run(s)\n",
               times_ms.front(), times_ms[times_ms.size() / 2], times_ms.size());
    fmt::print(stderr, "rows scanned: {} in {} batch(es); {} batch(es) skipped by statistics\n",
               scan.rows_read, scan.batches_read, scan.batches_skipped);
  }
  return kExitOk;
}

std::string VersionText() {
  return fmt::format("tql {}", TQL_VERSION);
}

int Main(int argc, char** argv) {
  CLI::App app{"tql: an embedded query engine for telemetry (spans, logs, events)", "tql"};
  app.set_version_flag("--version", VersionText());
  app.require_subcommand(1);

  RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "run a query and print its result");
  run_cmd->add_option("--input", run.inputs, "a data file, optionally named as a source")
      ->type_name("[NAME=]FILE")
      ->allow_extra_args(false);
  run_cmd->add_option("--format", run.format, "table, json, ndjson or csv")
      ->check(CLI::IsMember({"table", "json", "ndjson", "csv"}));
  run_cmd->add_option("--engine", run.engine, "auto, jit or interp")
      ->check(CLI::IsMember({"auto", "jit", "interp"}));
  run_cmd->add_option("--threads", run.threads, "threads for a summarize over row-by-row stages")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--row-limit", run.row_limit, "stop after reading more rows than this")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--time-limit", run.time_limit_ms, "stop after this many milliseconds")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--param", run.params, "bind a $parameter")
      ->type_name("NAME=VALUE")
      ->allow_extra_args(false);
  run_cmd->add_option("--repeat", run.repeat, "run the query N times (timing)")
      ->check(CLI::PositiveNumber);
  run_cmd->add_flag("--stats", run.stats, "print compile and execution statistics to stderr");
  run_cmd->add_flag("--skip-bad-lines", run.skip_bad_lines,
                    "skip malformed input lines instead of failing");
  run_cmd
      ->add_option("--memory-limit", run.memory_limit,
                   "bytes a summarize may hold (default: 80% of physical memory)")
      ->type_name("SIZE");
  run_cmd
      ->add_option("--partial", run.partial_out,
                   "write this shard's partial aggregate state to FILE (see tql merge)")
      ->type_name("FILE");
  run_cmd->add_option("-f,--file", run.file, "read the query from a .tql file");
  run_cmd->add_option("query", run.query, "the query text");

  std::vector<std::string> merge_files;
  std::string merge_format = "table", merge_memory;
  auto* merge_cmd =
      app.add_subcommand("merge", "the result of a query from its shards' partial states");
  merge_cmd->add_option("--format", merge_format, "table, json, ndjson or csv")
      ->check(CLI::IsMember({"table", "json", "ndjson", "csv"}));
  merge_cmd->add_option("--memory-limit", merge_memory, "bytes the merge may hold")
      ->type_name("SIZE");
  merge_cmd->add_option("partials", merge_files, "files of 'tql run --partial'")->required();

  std::vector<std::string> explain_inputs;
  bool explain_ir = false, explain_verbose = false;
  std::vector<std::string> explain_params;
  std::string explain_query, explain_file;
  auto* explain_cmd = app.add_subcommand("explain", "print the optimized plan of a query");
  explain_cmd->add_option("--input", explain_inputs, "a data file, optionally named")
      ->type_name("[NAME=]FILE")
      ->allow_extra_args(false);
  explain_cmd->add_flag("--ir", explain_ir, "also print the LLVM IR of compiled pipelines");
  explain_cmd->add_flag("-v,--verbose", explain_verbose,
                        "also print the bound query and the rewrite rules that fired");
  explain_cmd->add_option("--param", explain_params, "bind a $parameter")->type_name("NAME=VALUE");
  explain_cmd->add_option("-f,--file", explain_file, "read the query from a .tql file");
  explain_cmd->add_option("query", explain_query, "the query text");

  std::vector<std::string> check_paths;
  std::string check_schema;
  auto* check_cmd =
      app.add_subcommand("check", "validate .tql files, manifests and Baselime files for CI");
  check_cmd->add_option("--schema", check_schema, "check names against a sample NDJSON file");
  check_cmd->add_option("paths", check_paths, "files or directories")->required();

  std::vector<std::string> fmt_files;
  bool fmt_check = false, fmt_write = false;
  auto* fmt_cmd = app.add_subcommand("fmt", "print .tql files in canonical form");
  auto* fmt_check_flag = fmt_cmd->add_flag("--check", fmt_check,
                                           "list the files that would change; exit 1 if any would");
  fmt_cmd->add_flag("-w,--write", fmt_write, "rewrite the files; list those changed")
      ->excludes(fmt_check_flag);
  fmt_cmd->add_option("files", fmt_files, ".tql files")->required();

  TraceOptions trace;
  auto* trace_cmd = app.add_subcommand("trace", "show one request: span waterfall with its logs");
  trace_cmd->add_option("trace_id", trace.trace_id, "the trace id")->required();
  trace_cmd->add_option("--input", trace.inputs, "spans=FILE, logs=FILE")
      ->type_name("NAME=FILE")
      ->allow_extra_args(false);
  trace_cmd->add_option("--format", trace.format, "text (a waterfall) or json (nested)")
      ->check(CLI::IsMember({"text", "json"}));
  trace_cmd->add_option("--color", trace.color, "auto (when stdout is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  trace_cmd->add_flag("--stats", trace.stats, "print the time taken and the rows scanned");
  trace_cmd->add_option("--repeat", trace.repeat, "render N times (timing)")
      ->check(CLI::PositiveNumber);

  auto* alert_cmd = app.add_subcommand("alert", "evaluate alert manifests");
  AlertEvalOptions alert;
  auto* alert_eval = alert_cmd->add_subcommand("eval", "which alerts of a manifest fire");
  alert_eval->add_option("manifest", alert.manifest, "a .tql.yaml manifest")->required();
  alert_eval->add_option("--input", alert.inputs, "NAME=FILE")->allow_extra_args(false);
  alert_eval->add_option("--at", alert.at,
                         "evaluate as of this RFC 3339 time (default: the latest timestamp + 1ns)");
  alert_eval->add_option("--format", alert.format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  alert_eval->add_flag("--explain", alert.explain,
                       "print the query each alert runs and its plan (to stderr)");
  std::string alert_engine = "auto";
  alert_eval->add_option("--engine", alert_engine, "auto, jit or interp")
      ->check(CLI::IsMember({"auto", "jit", "interp"}));
  alert_cmd->require_subcommand(1);

  ImportOptions import;
  auto* import_cmd = app.add_subcommand("import", "translate Baselime files to TQL");
  import_cmd->add_option("path", import.path, "a .baselime.yml file or .baselime/ folder")
      ->required();
  import_cmd->add_option("--query", import.query, "print only this query's TQL");
  import_cmd->add_option("--out", import.out, "write ID.tql files and a tql.yaml manifest here");

  bool functions_markdown = false;
  auto* functions_cmd = app.add_subcommand("functions", "list the functions and aggregates");
  functions_cmd->add_flag("--markdown", functions_markdown,
                          "print the reference page (docs/functions.md) instead of a table");

  GenOptions gen;
  auto* gen_cmd = app.add_subcommand("gen", "generate realistic sample telemetry (NDJSON)");
  gen_cmd->add_option("--spans", gen.spans, "number of spans")->required();
  gen_cmd->add_option("--seed", gen.seed, "random seed (same seed, same bytes)");
  gen_cmd->add_flag("--logs", gen.logs, "also write correlated log records");
  gen_cmd->add_option("--out", gen.out, "the spans file")->required();
  gen_cmd->add_option("--logs-out", gen.logs_out, "the logs file (default: OUT with .logs)");

  BenchOptions bench;
  auto* bench_cmd =
      app.add_subcommand("bench", "time queries over inputs loaded once (one thread)");
  bench_cmd->add_option("--input", bench.inputs, "a data file, optionally named as a source")
      ->type_name("[NAME=]FILE")
      ->allow_extra_args(false);
  bench_cmd->add_option("--queries", bench.queries_file, "a file of 'NAME: QUERY' lines");
  bench_cmd->add_option("--repeat", bench.repeat, "runs per query (the best and median count)")
      ->check(CLI::PositiveNumber);
  bench_cmd->add_option("--format", bench.format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  bench_cmd->add_option("--engine", bench.engine, "interp, jit, or both side by side")
      ->check(CLI::IsMember({"interp", "jit", "both"}));
  bench_cmd->add_option("query", bench.queries, "queries, optionally 'NAME: QUERY'");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsageError;
  }

  if (run_cmd->parsed()) return RunCommand(run);
  if (merge_cmd->parsed()) return MergeCommand(merge_files, merge_format, merge_memory);
  if (explain_cmd->parsed()) {
    return ExplainCommand(explain_inputs, explain_ir, explain_verbose, explain_params,
                          explain_query, explain_file);
  }
  if (check_cmd->parsed()) return CheckCommand(check_paths, check_schema);
  if (fmt_cmd->parsed()) return FmtCommand(fmt_files, fmt_check, fmt_write);
  if (gen_cmd->parsed()) return GenCommand(gen);
  if (functions_cmd->parsed()) return FunctionsCommand(functions_markdown);
  if (trace_cmd->parsed()) return TraceCommand(trace);
  if (alert_eval->parsed()) {
    ChosenEngine engine;
    if (!ChooseEngine(alert_engine, &engine)) return kExitUsageError;
    alert.compiler = engine.compiler;
    alert.adaptive = engine.adaptive;
    return AlertEvalCommand(alert);
  }
  if (import_cmd->parsed()) return ImportCommand(import);
  if (bench_cmd->parsed()) return BenchCommand(bench);
  return kExitUsageError;
}

}  // namespace
}  // namespace tql

int main(int argc, char** argv) {
  try {
    return tql::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tql: internal error: %s\n", e.what());
    return 3;
  }
}
