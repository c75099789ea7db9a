// The C API (include/tql/tql.h) over the engine. Every exported function catches what the
// engine could throw (only allocation failure, in practice) and turns it into a status.

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/sources.h"
#include "frontend/binder.h"
#include "frontend/parser.h"
#include "planner/executor.h"
#include "planner/logical_plan.h"
#include "runtime/arrow_bridge.h"
#include "runtime/json_reader.h"
#include "runtime/utf8.h"
#include "tql/tql.h"
#ifdef TQL_HAVE_JIT
#include "codegen/filter_compiler.h"
#endif

using tql::Result;
using tql::Status;
using tql::StatusCode;

// ---- Errors ---------------------------------------------------------------------------------

struct tql_error {
  tql_status status = TQL_INTERNAL;
  std::string message;
  struct Diagnostic {
    tql_diagnostic d{};
    std::string message;
    std::string hint;
  };
  std::vector<Diagnostic> diagnostics;
};

namespace {

tql_status ToStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return TQL_OK;
    case StatusCode::kInvalidInput:
      return TQL_INVALID_INPUT;
    case StatusCode::kQueryError:
      return TQL_QUERY_ERROR;
    case StatusCode::kUnsupported:
      return TQL_UNSUPPORTED;
    case StatusCode::kIoError:
      return TQL_IO_ERROR;
    case StatusCode::kLimitExceeded:
      return TQL_LIMIT_EXCEEDED;
    case StatusCode::kCancelled:
      return TQL_CANCELLED;
    case StatusCode::kInternal:
      return TQL_INTERNAL;
    case StatusCode::kInvalidArgument:
      return TQL_INVALID_ARGUMENT;
  }
  return TQL_INTERNAL;
}

tql_status Fail(tql_error** error, tql_status status, std::string message) {
  if (error != nullptr) {
    auto* e = new (std::nothrow) tql_error;
    if (e != nullptr) {
      e->status = status;
      e->message = std::move(message);
    }
    *error = e;
  }
  return status;
}

tql_status Fail(tql_error** error, const Status& status) {
  return Fail(error, ToStatus(status.code()), status.message());
}

// Every diagnostic of a query that does not compile, with positions in `text`.
tql_status FailQuery(tql_error** error, std::string_view text,
                     const std::vector<tql::Diagnostic>& diagnostics) {
  if (error == nullptr) return TQL_QUERY_ERROR;
  auto e = std::make_unique<tql_error>();
  e->status = TQL_QUERY_ERROR;
  e->message = tql::FormatDiagnostics(text, diagnostics);
  if (!e->message.empty() && e->message.back() == '\n') e->message.pop_back();
  for (const tql::Diagnostic& d : diagnostics) {
    tql_error::Diagnostic out;
    const tql::LineColumn begin = tql::LocateOffset(text, d.range.begin);
    const tql::LineColumn end = tql::LocateOffset(text, std::max(d.range.end, d.range.begin));
    out.d.severity =
        d.severity == tql::Severity::kError ? TQL_SEVERITY_ERROR : TQL_SEVERITY_WARNING;
    out.d.line = begin.line;
    out.d.column = begin.column;
    out.d.end_line = end.line;
    out.d.end_column = end.column;
    out.d.offset = d.range.begin;
    out.d.length = d.range.end > d.range.begin ? d.range.end - d.range.begin : 0;
    out.message = d.message;
    for (const std::string& h : d.hints) {
      if (!out.hint.empty()) out.hint += '\n';
      out.hint += h;
    }
    e->diagnostics.push_back(std::move(out));
  }
  for (tql_error::Diagnostic& d : e->diagnostics) {  // pointers after the vector is final
    d.d.message = d.message.c_str();
    d.d.hint = d.hint.c_str();
  }
  *error = e.release();
  return TQL_QUERY_ERROR;
}

tql_status NullArgument(tql_error** error, const char* what) {
  return Fail(error, TQL_INVALID_ARGUMENT, fmt::format("{} is NULL", what));
}

// Runs `body` and turns what escapes it into a status: no exception crosses the C API.
template <typename F>
tql_status Guard(tql_error** error, F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(error, TQL_LIMIT_EXCEEDED, "out of memory");
  } catch (const std::exception& e) {
    return Fail(error, TQL_INTERNAL, fmt::format("internal error: {}", e.what()));
  } catch (...) {
    return Fail(error, TQL_INTERNAL, "internal error");
  }
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---- Handles --------------------------------------------------------------------------------

struct tql_options {
  tql_jit_mode jit = TQL_JIT_AUTO;
  int64_t cache_size = 256;
  int64_t memory_limit = 0;
  int32_t threads = 1;
};

namespace {

// What an engine's queries share; queries keep it alive after tql_engine_free.
struct EngineState {
  tql_options options;
  int threads = 1;
#ifdef TQL_HAVE_JIT
  std::unique_ptr<tql::JitKernelCompiler> jit;
#endif
  tql::KernelCompiler* compiler() const {
#ifdef TQL_HAVE_JIT
    return jit.get();
#else
    return nullptr;
#endif
  }
};

}  // namespace

struct tql_engine {
  std::shared_ptr<EngineState> state;
};

struct tql_catalog {
  tql::api::SourceSet sources;
};

struct tql_params {
  std::map<std::string, tql::Value> values;
};

struct tql_exec {
  std::optional<std::map<std::string, tql::Value>> params;
  std::optional<int64_t> memory_limit;
  int64_t row_limit = 0;
  int64_t time_limit_ms = 0;
  // Cancel may come from another thread while an execution runs.
  tql::QueryControl control;
};

struct tql_query {
  std::shared_ptr<EngineState> engine;
  std::string text;
  tql::api::SourceSet sources;  // the catalog's sources when compiled
  std::map<std::string, tql::TypeId> parameter_types;
  std::map<std::string, tql::Value> parameters;
  std::unique_ptr<tql::PlanNode> plan;  // as compiled (explain, scans, schema)
  std::string explain;
  std::string warnings;
  std::vector<std::unique_ptr<tql_scan>> scans;
};

namespace {

struct Planned {
  std::unique_ptr<tql::PlanNode> plan;
  int64_t now = 0;
  std::string warnings;
};

// Parse, bind and plan: on errors, the status of FailQuery.
tql_status PlanText(const std::string& text, const tql::Catalog& catalog,
                    const std::map<std::string, tql::TypeId>& types,
                    const std::map<std::string, tql::Value>& values, Planned* out,
                    tql_error** error) {
  tql::ParseResult parsed = tql::ParseQuery(text);
  if (!parsed.query) return FailQuery(error, text, parsed.diagnostics);
  tql::BindOptions bind;
  bind.parameter_types = types;
  tql::BindResult bound = tql::Bind(&*parsed.query, catalog, bind);
  if (!bound.ok()) return FailQuery(error, text, bound.diagnostics);
  tql::PlanOptions options;
  options.parameters = values;
  options.now = NowNanos();
  tql::PlanResult planned = tql::PlanQuery(*parsed.query, bound, catalog, options);
  if (!planned.plan) return FailQuery(error, text, planned.diagnostics);
  std::vector<tql::Diagnostic> warnings = bound.diagnostics;
  warnings.insert(warnings.end(), planned.diagnostics.begin(), planned.diagnostics.end());
  out->warnings = tql::FormatDiagnostics(text, warnings);
  out->plan = std::move(planned.plan);
  out->now = options.now;
  return TQL_OK;
}

void CollectScans(const tql::PlanNode& plan, std::vector<std::unique_ptr<tql_scan>>* out) {
  for (const tql::PlanNode* s : tql::ScanNodes(plan)) {
    out->push_back(
        tql::api::MakeScan({s->source, s->source_schema, s->columns, s->scan_predicates}));
  }
}

tql_status SetParam(tql_params* params, const char* name, tql::Value value, tql_error** error) {
  if (params == nullptr) return NullArgument(error, "params");
  if (name == nullptr) return NullArgument(error, "name");
  std::string n = name;
  if (!n.empty() && n[0] == '$') n.erase(0, 1);
  if (n.empty()) return Fail(error, TQL_INVALID_ARGUMENT, "a parameter name is empty");
  params->values[n] = std::move(value);
  return TQL_OK;
}

}  // namespace

namespace {

// One execution's plan and options: the query planned again with the execution's parameter
// values (and the current time for now()), and the limits set on its control.
struct Execution {
  std::unique_ptr<tql::PlanNode> plan;
  tql::ExecOptions options;
};

tql_status Prepare(const tql_query& query, tql_exec& e, Execution* out, tql_error** error) {
  const EngineState& engine = *query.engine;
  // New values must keep the types the query was compiled with.
  std::map<std::string, tql::Value> values = query.parameters;
  if (e.params) {
    for (const auto& [name, value] : *e.params) {
      auto it = query.parameter_types.find(name);
      const tql::TypeId type =
          it == query.parameter_types.end() ? tql::TypeId::kDynamic : it->second;
      if (type != value.type && type != tql::TypeId::kDynamic && value.type != tql::TypeId::kNull) {
        return Fail(error, TQL_INVALID_ARGUMENT,
                    fmt::format("parameter ${} was compiled as {}; it cannot be bound to {}", name,
                                tql::TypeName(type), tql::TypeName(value.type)));
      }
      values[name] = value;
    }
  }
  Planned planned;
  const tql_status s =
      PlanText(query.text, query.sources.catalog(), query.parameter_types, values, &planned, error);
  if (s != TQL_OK) return s;

  tql::QueryControl& control = e.control;
  control.Reset();
  const int64_t memory_limit = e.memory_limit.value_or(engine.options.memory_limit);
  control.set_memory_limit(memory_limit);
  control.set_row_limit(e.row_limit);
  control.set_deadline(tql::QueryControl::Clock::now() + std::chrono::milliseconds(e.time_limit_ms),
                       e.time_limit_ms);

  out->plan = std::move(planned.plan);
  out->options.now = planned.now;
  out->options.memory_limit = memory_limit;
  out->options.compiler = engine.compiler();
  out->options.adaptive = engine.options.jit == TQL_JIT_AUTO;
  out->options.streams = &query.sources.streams();
  out->options.control = &control;
  return TQL_OK;
}

tql_status Export(Result<tql::Table> result, struct ArrowArrayStream* out, tql_error** error) {
  if (!result.ok()) return Fail(error, result.status());
  Status exported = tql::ExportTableStream(std::move(result).value(), out);
  return exported.ok() ? TQL_OK : Fail(error, exported);
}

}  // namespace

struct tql_push {
  const tql_query* query = nullptr;
  tql_exec own_exec;  // when the host gave none
  Execution run;
  std::unique_ptr<tql::PushExecution> execution;
};

// ---- Exported functions ---------------------------------------------------------------------

extern "C" {

const char* tql_status_name(tql_status status) {
  switch (status) {
    case TQL_OK:
      return "TQL_OK";
    case TQL_INVALID_ARGUMENT:
      return "TQL_INVALID_ARGUMENT";
    case TQL_INVALID_INPUT:
      return "TQL_INVALID_INPUT";
    case TQL_QUERY_ERROR:
      return "TQL_QUERY_ERROR";
    case TQL_UNSUPPORTED:
      return "TQL_UNSUPPORTED";
    case TQL_IO_ERROR:
      return "TQL_IO_ERROR";
    case TQL_LIMIT_EXCEEDED:
      return "TQL_LIMIT_EXCEEDED";
    case TQL_CANCELLED:
      return "TQL_CANCELLED";
    case TQL_INTERNAL:
      return "TQL_INTERNAL";
  }
  return "TQL_UNKNOWN";
}

const char* tql_version(void) {
  return TQL_VERSION;
}

void tql_error_free(tql_error* error) {
  delete error;
}

tql_status tql_error_status(const tql_error* error) {
  return error == nullptr ? TQL_INVALID_ARGUMENT : error->status;
}

const char* tql_error_message(const tql_error* error) {
  return error == nullptr ? "" : error->message.c_str();
}

size_t tql_error_diagnostic_count(const tql_error* error) {
  return error == nullptr ? 0 : error->diagnostics.size();
}

tql_status tql_error_diagnostic(const tql_error* error, size_t index, tql_diagnostic* out) {
  if (error == nullptr || out == nullptr || index >= error->diagnostics.size()) {
    return TQL_INVALID_ARGUMENT;
  }
  *out = error->diagnostics[index].d;
  return TQL_OK;
}

// ---- Engine

tql_options* tql_options_new(void) {
  return new (std::nothrow) tql_options;
}

void tql_options_free(tql_options* options) {
  delete options;
}

tql_status tql_options_set_jit(tql_options* options, tql_jit_mode mode, tql_error** error) {
  if (options == nullptr) return NullArgument(error, "options");
  if (mode != TQL_JIT_AUTO && mode != TQL_JIT_ON && mode != TQL_JIT_OFF) {
    return Fail(error, TQL_INVALID_ARGUMENT, fmt::format("{} is no tql_jit_mode", int(mode)));
  }
  options->jit = mode;
  return TQL_OK;
}

tql_status tql_options_set_cache_size(tql_options* options, int64_t kernels, tql_error** error) {
  if (options == nullptr) return NullArgument(error, "options");
  if (kernels < 1) {
    return Fail(error, TQL_INVALID_ARGUMENT,
                fmt::format("the kernel cache must hold at least 1 kernel, not {}", kernels));
  }
  options->cache_size = kernels;
  return TQL_OK;
}

tql_status tql_options_set_memory_limit(tql_options* options, int64_t bytes, tql_error** error) {
  if (options == nullptr) return NullArgument(error, "options");
  if (bytes < 0) {
    return Fail(error, TQL_INVALID_ARGUMENT,
                fmt::format("a memory limit cannot be negative ({})", bytes));
  }
  options->memory_limit = bytes;
  return TQL_OK;
}

tql_status tql_options_set_threads(tql_options* options, int32_t threads, tql_error** error) {
  if (options == nullptr) return NullArgument(error, "options");
  if (threads < 0) {
    return Fail(error, TQL_INVALID_ARGUMENT,
                fmt::format("threads cannot be negative ({})", threads));
  }
  options->threads = threads;
  return TQL_OK;
}

tql_status tql_engine_new(const tql_options* options, tql_engine** out, tql_error** error) {
  if (out == nullptr) return NullArgument(error, "out");
  *out = nullptr;
  return Guard(error, [&]() -> tql_status {
    auto state = std::make_shared<EngineState>();
    if (options != nullptr) state->options = *options;
    state->threads = state->options.threads > 0
                         ? state->options.threads
                         : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
#ifdef TQL_HAVE_JIT
    if (state->options.jit != TQL_JIT_OFF) {
      auto jit = tql::JitKernelCompiler::Create(static_cast<size_t>(state->options.cache_size));
      if (jit.ok()) {
        state->jit = std::move(jit).value();
      } else if (state->options.jit == TQL_JIT_ON) {
        return Fail(error, TQL_UNSUPPORTED,
                    fmt::format("the JIT cannot start: {}", jit.status().message()));
      }
    }
#else
    if (state->options.jit == TQL_JIT_ON) {
      return Fail(error, TQL_UNSUPPORTED,
                  "this build of tql has no JIT (it was configured without LLVM)");
    }
#endif
    *out = new tql_engine{std::move(state)};
    return TQL_OK;
  });
}

void tql_engine_free(tql_engine* engine) {
  delete engine;
}

int tql_engine_has_jit(const tql_engine* engine) {
  return engine != nullptr && engine->state->compiler() != nullptr ? 1 : 0;
}

// ---- Sources

tql_catalog* tql_catalog_new(void) {
  return new (std::nothrow) tql_catalog;
}

void tql_catalog_free(tql_catalog* catalog) {
  delete catalog;
}

tql_status tql_catalog_add_arrow_array(tql_catalog* catalog, const char* name,
                                       const struct ArrowSchema* schema, struct ArrowArray* array,
                                       tql_error** error) {
  // The array is ours whatever happens: release it on every early return.
  tql::api::ArrayGuard guard(array);
  if (catalog == nullptr) return NullArgument(error, "catalog");
  if (name == nullptr || *name == '\0') return NullArgument(error, "name");
  if (schema == nullptr) return NullArgument(error, "schema");
  if (array == nullptr) return NullArgument(error, "array");
  return Guard(error, [&]() -> tql_status {
    Status s = catalog->sources.AddArray(name, *schema, guard.Take());
    return s.ok() ? TQL_OK : Fail(error, s);
  });
}

tql_status tql_catalog_add_arrow_stream(tql_catalog* catalog, const char* name,
                                        struct ArrowArrayStream* stream, tql_error** error) {
  tql::api::StreamGuard guard(stream);
  if (catalog == nullptr) return NullArgument(error, "catalog");
  if (name == nullptr || *name == '\0') return NullArgument(error, "name");
  if (stream == nullptr) return NullArgument(error, "stream");
  return Guard(error, [&]() -> tql_status {
    Status s = catalog->sources.AddStream(name, guard.Take());
    return s.ok() ? TQL_OK : Fail(error, s);
  });
}

tql_status tql_catalog_add_source(tql_catalog* catalog, const char* name,
                                  const struct ArrowSchema* schema,
                                  const tql_source_callbacks* callbacks, tql_error** error) {
  if (callbacks == nullptr) return NullArgument(error, "callbacks");
  // The callbacks are ours from here: a source that is not registered releases them.
  const char* missing = catalog == nullptr                 ? "catalog"
                        : name == nullptr || *name == '\0' ? "name"
                        : schema == nullptr                ? "schema"
                        : callbacks->open == nullptr       ? "callbacks->open"
                                                           : nullptr;
  if (missing != nullptr) {
    if (callbacks->release != nullptr) callbacks->release(callbacks->user_data);
    return NullArgument(error, missing);
  }
  return Guard(error, [&]() -> tql_status {
    Status s = catalog->sources.AddCallbacks(name, *schema, *callbacks);
    return s.ok() ? TQL_OK : Fail(error, s);
  });
}

tql_status tql_catalog_add_file(tql_catalog* catalog, const char* name, const char* path,
                                tql_error** error) {
  if (catalog == nullptr) return NullArgument(error, "catalog");
  if (path == nullptr) return NullArgument(error, "path");
  return Guard(error, [&]() -> tql_status {
    tql::JsonReadStats stats;
    Result<tql::Table> table = tql::ReadJsonFile(path, {}, &stats);
    if (!table.ok()) return Fail(error, table.status());
    std::string n = name != nullptr && *name != '\0' ? std::string(name)
                                                     : tql::DefaultSourceName(path, stats.format);
    Status s = catalog->sources.AddTable(n, std::move(table).value(), /*open=*/true);
    return s.ok() ? TQL_OK : Fail(error, s);
  });
}

size_t tql_catalog_source_count(const tql_catalog* catalog) {
  return catalog == nullptr ? 0 : catalog->sources.size();
}

const char* tql_catalog_source_name(const tql_catalog* catalog, size_t index) {
  return catalog == nullptr ? nullptr : catalog->sources.name(index);
}

// ---- Scans

const char* tql_scan_source(const tql_scan* scan) {
  return scan == nullptr ? "" : scan->source.c_str();
}

size_t tql_scan_column_count(const tql_scan* scan) {
  return scan == nullptr ? 0 : scan->columns.size();
}

const char* tql_scan_column(const tql_scan* scan, size_t index) {
  if (scan == nullptr || index >= scan->columns.size()) return nullptr;
  return scan->columns[index].c_str();
}

size_t tql_scan_predicate_count(const tql_scan* scan) {
  return scan == nullptr ? 0 : scan->predicates.size();
}

tql_status tql_scan_predicate(const tql_scan* scan, size_t index, tql_predicate* out) {
  if (scan == nullptr || out == nullptr) return TQL_INVALID_ARGUMENT;
  return tql::api::ScanPredicateAt(*scan, index, out) ? TQL_OK : TQL_INVALID_ARGUMENT;
}

// ---- Parameters

tql_params* tql_params_new(void) {
  return new (std::nothrow) tql_params;
}

void tql_params_free(tql_params* params) {
  delete params;
}

tql_status tql_params_set_null(tql_params* params, const char* name, tql_error** error) {
  return Guard(error, [&] { return SetParam(params, name, tql::Value::Null(), error); });
}

tql_status tql_params_set_bool(tql_params* params, const char* name, int value, tql_error** error) {
  return Guard(error, [&] { return SetParam(params, name, tql::Value::Bool(value != 0), error); });
}

tql_status tql_params_set_int(tql_params* params, const char* name, int64_t value,
                              tql_error** error) {
  return Guard(error, [&] { return SetParam(params, name, tql::Value::Int(value), error); });
}

tql_status tql_params_set_float(tql_params* params, const char* name, double value,
                                tql_error** error) {
  return Guard(error, [&] { return SetParam(params, name, tql::Value::Float(value), error); });
}

tql_status tql_params_set_string(tql_params* params, const char* name, const char* value,
                                 size_t length, tql_error** error) {
  if (value == nullptr && length > 0) return NullArgument(error, "value");
  return Guard(error, [&]() -> tql_status {
    std::string_view text(value == nullptr ? "" : value, length);
    if (size_t bad = tql::FindInvalidUtf8(text); bad != tql::kValidUtf8) {
      return Fail(error, TQL_INVALID_INPUT,
                  fmt::format("parameter '{}': invalid UTF-8 at byte {}",
                              name == nullptr ? "" : name, bad));
    }
    return SetParam(params, name, tql::Value::String(std::string(text)), error);
  });
}

tql_status tql_params_set_timestamp(tql_params* params, const char* name, int64_t unix_nanos,
                                    tql_error** error) {
  return Guard(error,
               [&] { return SetParam(params, name, tql::Value::Timestamp(unix_nanos), error); });
}

tql_status tql_params_set_duration(tql_params* params, const char* name, int64_t nanos,
                                   tql_error** error) {
  return Guard(error, [&] { return SetParam(params, name, tql::Value::Duration(nanos), error); });
}

// ---- Queries

tql_status tql_compile(tql_engine* engine, const tql_catalog* catalog, const char* text,
                       size_t length, const tql_params* params, tql_query** out,
                       tql_error** error) {
  if (out == nullptr) return NullArgument(error, "out");
  *out = nullptr;
  if (engine == nullptr) return NullArgument(error, "engine");
  if (catalog == nullptr) return NullArgument(error, "catalog");
  if (text == nullptr && length > 0) return NullArgument(error, "text");
  return Guard(error, [&]() -> tql_status {
    auto q = std::make_unique<tql_query>();
    q->engine = engine->state;
    q->text.assign(text == nullptr ? "" : text, length);
    q->sources = catalog->sources;
    if (params != nullptr) {
      q->parameters = params->values;
      for (const auto& [name, value] : params->values) q->parameter_types[name] = value.type;
    }
    Planned planned;
    const tql_status s =
        PlanText(q->text, q->sources.catalog(), q->parameter_types, q->parameters, &planned, error);
    if (s != TQL_OK) return s;
    q->plan = std::move(planned.plan);
    q->warnings = std::move(planned.warnings);
    q->explain = tql::ExplainPlan(*q->plan);
    CollectScans(*q->plan, &q->scans);
    *out = q.release();
    return TQL_OK;
  });
}

void tql_query_free(tql_query* query) {
  delete query;
}

tql_status tql_query_schema(const tql_query* query, struct ArrowSchema* out, tql_error** error) {
  if (query == nullptr) return NullArgument(error, "query");
  if (out == nullptr) return NullArgument(error, "out");
  return Guard(error, [&]() -> tql_status {
    Status s = tql::ExportSchema(*query->plan->output_schema, out);
    return s.ok() ? TQL_OK : Fail(error, s);
  });
}

const char* tql_query_explain(const tql_query* query) {
  return query == nullptr ? "" : query->explain.c_str();
}

const char* tql_query_warnings(const tql_query* query) {
  return query == nullptr ? "" : query->warnings.c_str();
}

size_t tql_query_scan_count(const tql_query* query) {
  return query == nullptr ? 0 : query->scans.size();
}

const tql_scan* tql_query_scan(const tql_query* query, size_t index) {
  if (query == nullptr || index >= query->scans.size()) return nullptr;
  return query->scans[index].get();
}

// ---- Executing

tql_exec* tql_exec_new(void) {
  return new (std::nothrow) tql_exec;
}

void tql_exec_free(tql_exec* exec) {
  delete exec;
}

tql_status tql_exec_set_params(tql_exec* exec, const tql_params* params, tql_error** error) {
  if (exec == nullptr) return NullArgument(error, "exec");
  if (params == nullptr) return NullArgument(error, "params");
  return Guard(error, [&]() -> tql_status {
    exec->params = params->values;
    return TQL_OK;
  });
}

tql_status tql_exec_set_memory_limit(tql_exec* exec, int64_t bytes, tql_error** error) {
  if (exec == nullptr) return NullArgument(error, "exec");
  if (bytes < 0) {
    return Fail(error, TQL_INVALID_ARGUMENT,
                fmt::format("a memory limit cannot be negative ({})", bytes));
  }
  exec->memory_limit = bytes;
  return TQL_OK;
}

tql_status tql_exec_set_row_limit(tql_exec* exec, int64_t rows, tql_error** error) {
  if (exec == nullptr) return NullArgument(error, "exec");
  if (rows < 0) {
    return Fail(error, TQL_INVALID_ARGUMENT,
                fmt::format("a row limit cannot be negative ({})", rows));
  }
  exec->row_limit = rows;
  return TQL_OK;
}

tql_status tql_exec_set_time_limit(tql_exec* exec, int64_t milliseconds, tql_error** error) {
  if (exec == nullptr) return NullArgument(error, "exec");
  if (milliseconds < 0) {
    return Fail(error, TQL_INVALID_ARGUMENT,
                fmt::format("a time limit cannot be negative ({})", milliseconds));
  }
  exec->time_limit_ms = milliseconds;
  return TQL_OK;
}

void tql_exec_cancel(tql_exec* exec) {
  if (exec != nullptr) exec->control.Cancel();
}

tql_status tql_query_execute(const tql_query* query, tql_exec* exec, struct ArrowArrayStream* out,
                             tql_error** error) {
  if (query == nullptr) return NullArgument(error, "query");
  if (out == nullptr) return NullArgument(error, "out");
  out->release = nullptr;
  return Guard(error, [&]() -> tql_status {
    tql_exec defaults;
    Execution run;
    const tql_status s = Prepare(*query, exec != nullptr ? *exec : defaults, &run, error);
    if (s != TQL_OK) return s;
    tql::ScanStats stats;
    Result<tql::Table> result = tql::ExecuteParallel(*run.plan, query->sources.tables(),
                                                     query->engine->threads, &stats, run.options);
    return Export(std::move(result), out, error);
  });
}

// ---- Streaming mode

tql_status tql_catalog_declare(tql_catalog* catalog, const char* name,
                               const struct ArrowSchema* schema, tql_error** error) {
  if (catalog == nullptr) return NullArgument(error, "catalog");
  if (name == nullptr || *name == '\0') return NullArgument(error, "name");
  if (schema == nullptr) return NullArgument(error, "schema");
  return Guard(error, [&]() -> tql_status {
    Status s = catalog->sources.AddDeclared(name, *schema);
    return s.ok() ? TQL_OK : Fail(error, s);
  });
}

tql_status tql_push_open(const tql_query* query, tql_exec* exec, tql_push** out,
                         tql_error** error) {
  if (out == nullptr) return NullArgument(error, "out");
  *out = nullptr;
  if (query == nullptr) return NullArgument(error, "query");
  return Guard(error, [&]() -> tql_status {
    auto push = std::make_unique<tql_push>();
    push->query = query;
    tql_exec& e = exec != nullptr ? *exec : push->own_exec;
    const tql_status s = Prepare(*query, e, &push->run, error);
    if (s != TQL_OK) return s;
    Result<std::unique_ptr<tql::PushExecution>> started =
        tql::PushExecution::Start(*push->run.plan, push->run.options);
    if (!started.ok()) return Fail(error, started.status());
    push->execution = std::move(started).value();
    *out = push.release();
    return TQL_OK;
  });
}

void tql_push_free(tql_push* push) {
  delete push;
}

tql_status tql_push_batch(tql_push* push, const struct ArrowSchema* schema,
                          struct ArrowArray* array, tql_error** error) {
  tql::api::ArrayGuard guard(array);
  if (push == nullptr) return NullArgument(error, "push");
  if (schema == nullptr) return NullArgument(error, "schema");
  if (array == nullptr) return NullArgument(error, "array");
  return Guard(error, [&]() -> tql_status {
    tql::PushExecution& x = *push->execution;
    Result<tql::Batch> batch =
        tql::api::ImportByName(x.source(), x.source_schema(), *schema, guard.Take());
    if (!batch.ok()) return Fail(error, batch.status());
    Status s = x.Push(*batch);
    return s.ok() ? TQL_OK : Fail(error, s);
  });
}

tql_status tql_push_snapshot(tql_push* push, struct ArrowArrayStream* out, tql_error** error) {
  if (push == nullptr) return NullArgument(error, "push");
  if (out == nullptr) return NullArgument(error, "out");
  out->release = nullptr;
  return Guard(error, [&] { return Export(push->execution->Snapshot(), out, error); });
}

tql_status tql_push_finish(tql_push* push, struct ArrowArrayStream* out, tql_error** error) {
  if (push == nullptr) return NullArgument(error, "push");
  if (out == nullptr) return NullArgument(error, "out");
  out->release = nullptr;
  return Guard(error, [&] { return Export(push->execution->Finish(), out, error); });
}

tql_status tql_push_export_state(tql_push* push, void** data, size_t* length, tql_error** error) {
  if (push == nullptr) return NullArgument(error, "push");
  if (data == nullptr || length == nullptr) return NullArgument(error, "data");
  *data = nullptr;
  *length = 0;
  return Guard(error, [&]() -> tql_status {
    Result<std::string> state = push->execution->ExportState();
    if (!state.ok()) return Fail(error, state.status());
    void* copy = std::malloc(std::max<size_t>(state->size(), 1));
    if (copy == nullptr) return Fail(error, TQL_LIMIT_EXCEEDED, "out of memory");
    std::memcpy(copy, state->data(), state->size());
    *data = copy;
    *length = state->size();
    return TQL_OK;
  });
}

tql_status tql_query_merge_states(const tql_query* query, const void* const* states,
                                  const size_t* lengths, size_t count, tql_exec* exec,
                                  struct ArrowArrayStream* out, tql_error** error) {
  if (query == nullptr) return NullArgument(error, "query");
  if (out == nullptr) return NullArgument(error, "out");
  out->release = nullptr;
  if (count > 0 && (states == nullptr || lengths == nullptr)) return NullArgument(error, "states");
  return Guard(error, [&]() -> tql_status {
    tql_exec defaults;
    Execution run;
    const tql_status s = Prepare(*query, exec != nullptr ? *exec : defaults, &run, error);
    if (s != TQL_OK) return s;
    std::vector<std::string_view> partials;
    for (size_t i = 0; i < count; ++i) {
      if (states[i] == nullptr && lengths[i] > 0) return NullArgument(error, "a state");
      partials.emplace_back(static_cast<const char*>(states[i]), lengths[i]);
    }
    return Export(tql::MergePartials(*run.plan, partials, run.options), out, error);
  });
}

void tql_free(void* data) {
  std::free(data);
}

}  // extern "C"
