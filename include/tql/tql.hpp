// tql: the C++ API, a header-only wrapper over the C API (tql.h) for C++17 and later.
//
// RAII handles (move-only), std::string_view in, and results that carry either a value or
// the error with its diagnostics: nothing here throws, as nothing in the C API does.
//
//   auto engine = tql::Engine::Create();
//   tql::Catalog catalog;
//   catalog.AddFile("spans", "spans.ndjson");
//   auto query = engine->Compile(catalog, "spans | summarize count() by service");
//   if (!query) std::cerr << query.error().message() << "\n";
//   auto result = query->Execute();   // a tql::ResultStream over Arrow batches
#ifndef TQL_TQL_HPP_
#define TQL_TQL_HPP_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tql/tql.h"

namespace tql {

// A problem in a query's text (positions are 1-based; columns count characters).
struct Diagnostic {
  tql_severity severity = TQL_SEVERITY_ERROR;
  int line = 0;
  int column = 0;
  int end_line = 0;
  int end_column = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  std::string message;
  std::string hint;
};

class Error {
 public:
  Error() = default;
  Error(tql_status status, std::string message) : status_(status), message_(std::move(message)) {}
  // Takes the C error (and frees it).
  static Error From(tql_status status, tql_error* e) {
    Error out(status, e != nullptr ? tql_error_message(e) : tql_status_name(status));
    for (size_t i = 0; i < tql_error_diagnostic_count(e); ++i) {
      tql_diagnostic d;
      if (tql_error_diagnostic(e, i, &d) != TQL_OK) continue;
      out.diagnostics_.push_back(Diagnostic{d.severity, d.line, d.column, d.end_line, d.end_column,
                                            d.offset, d.length, d.message, d.hint});
    }
    tql_error_free(e);
    return out;
  }

  tql_status status() const { return status_; }
  const char* status_name() const { return tql_status_name(status_); }
  // The whole message; for a query error every diagnostic with its source line and caret.
  const std::string& message() const { return message_; }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  tql_status status_ = TQL_OK;
  std::string message_;
  std::vector<Diagnostic> diagnostics_;
};

// Success, or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: an error converts
  bool ok() const { return error_.status() == TQL_OK; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
};

// A value, or an Error. Reading the value of an error result is undefined (check first).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)), ok_(true) {}  // NOLINT
  Result(Error error) : error_(std::move(error)) {}         // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }
  T& operator*() & { return value_; }

 private:
  T value_{};
  Error error_;
  bool ok_ = false;
};

namespace detail {

template <typename H, void (*Free)(H*)>
struct Deleter {
  void operator()(H* h) const { Free(h); }
};
template <typename H, void (*Free)(H*)>
using Handle = std::unique_ptr<H, Deleter<H, Free>>;

// Runs a C call with a trailing tql_error** and turns its outcome into a Status.
template <typename F>
Status Call(F&& f) {
  tql_error* e = nullptr;
  const tql_status s = f(&e);
  if (s == TQL_OK) return Status();
  return Error::From(s, e);
}

}  // namespace detail

// An Arrow C stream of result batches; released when destroyed.
class ResultStream {
 public:
  ResultStream() { stream_.release = nullptr; }
  ResultStream(ResultStream&& other) noexcept : stream_(other.stream_) {
    other.stream_.release = nullptr;
  }
  ResultStream& operator=(ResultStream&& other) noexcept {
    if (this != &other) {
      Reset();
      stream_ = other.stream_;
      other.stream_.release = nullptr;
    }
    return *this;
  }
  ResultStream(const ResultStream&) = delete;
  ResultStream& operator=(const ResultStream&) = delete;
  ~ResultStream() { Reset(); }

  // The stream itself, e.g. to hand to an Arrow library (which then owns it: use Release).
  ArrowArrayStream* get() { return &stream_; }
  ArrowArrayStream Release() {
    ArrowArrayStream s = stream_;
    stream_.release = nullptr;
    return s;
  }
  // Fills `out` with the result's schema (the caller releases it).
  bool Schema(ArrowSchema* out) { return stream_.get_schema(&stream_, out) == 0; }
  // The next batch into `out`: false at the end (out->release is then null) or on an error.
  bool Next(ArrowArray* out) {
    return stream_.get_next(&stream_, out) == 0 && out->release != nullptr;
  }

 private:
  void Reset() {
    if (stream_.release != nullptr) stream_.release(&stream_);
  }
  ArrowArrayStream stream_;
};

class Options {
 public:
  Options& jit(tql_jit_mode mode) {
    jit_ = mode;
    return *this;
  }
  Options& cache_size(int64_t kernels) {
    cache_size_ = kernels;
    return *this;
  }
  Options& memory_limit(int64_t bytes) {
    memory_limit_ = bytes;
    return *this;
  }
  Options& threads(int32_t threads) {
    threads_ = threads;
    return *this;
  }

 private:
  friend class Engine;
  tql_jit_mode jit_ = TQL_JIT_AUTO;
  int64_t cache_size_ = 256;
  int64_t memory_limit_ = 0;
  int32_t threads_ = 1;
};

class Params {
 public:
  Params() : p_(tql_params_new()) {}
  Status SetNull(const std::string& name) {
    return detail::Call(
        [&](tql_error** e) { return tql_params_set_null(p_.get(), name.c_str(), e); });
  }
  Status Set(const std::string& name, bool v) {
    return detail::Call(
        [&](tql_error** e) { return tql_params_set_bool(p_.get(), name.c_str(), v ? 1 : 0, e); });
  }
  Status Set(const std::string& name, int64_t v) {
    return detail::Call(
        [&](tql_error** e) { return tql_params_set_int(p_.get(), name.c_str(), v, e); });
  }
  Status Set(const std::string& name, int v) { return Set(name, static_cast<int64_t>(v)); }
  Status Set(const std::string& name, double v) {
    return detail::Call(
        [&](tql_error** e) { return tql_params_set_float(p_.get(), name.c_str(), v, e); });
  }
  Status Set(const std::string& name, std::string_view v) {
    return detail::Call([&](tql_error** e) {
      return tql_params_set_string(p_.get(), name.c_str(), v.data(), v.size(), e);
    });
  }
  Status Set(const std::string& name, const char* v) { return Set(name, std::string_view(v)); }
  Status Set(const std::string& name, std::chrono::nanoseconds v) {
    return detail::Call([&](tql_error** e) {
      return tql_params_set_duration(p_.get(), name.c_str(), v.count(), e);
    });
  }
  Status Set(const std::string& name, std::chrono::system_clock::time_point v) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(v.time_since_epoch());
    return detail::Call([&](tql_error** e) {
      return tql_params_set_timestamp(p_.get(), name.c_str(), ns.count(), e);
    });
  }
  const tql_params* get() const { return p_.get(); }

 private:
  detail::Handle<tql_params, tql_params_free> p_;
};

// What a scan reads: its columns and the predicates a host may apply early.
class Scan {
 public:
  explicit Scan(const tql_scan* scan) : scan_(scan) {}
  std::string_view source() const { return tql_scan_source(scan_); }
  std::vector<std::string_view> columns() const {
    std::vector<std::string_view> out;
    for (size_t i = 0; i < tql_scan_column_count(scan_); ++i)
      out.emplace_back(tql_scan_column(scan_, i));
    return out;
  }
  // Views into the scan: valid while it is.
  std::vector<tql_predicate> predicates() const {
    std::vector<tql_predicate> out(tql_scan_predicate_count(scan_));
    for (size_t i = 0; i < out.size(); ++i) tql_scan_predicate(scan_, i, &out[i]);
    return out;
  }
  const tql_scan* get() const { return scan_; }

 private:
  const tql_scan* scan_;
};

// A host's source for one scan: fill `out` with a stream holding (at least) the scan's
// columns and return 0, or return non-zero to fail the query.
using SourceCallback = std::function<int(const Scan& scan, ArrowArrayStream* out)>;

class Catalog {
 public:
  Catalog() : c_(tql_catalog_new()) {}
  Status AddFile(const std::string& name, const std::string& path) {
    return detail::Call([&](tql_error** e) {
      return tql_catalog_add_file(c_.get(), name.c_str(), path.c_str(), e);
    });
  }
  // `array` is moved (even on failure); `schema` is borrowed.
  Status AddArrowArray(const std::string& name, const ArrowSchema& schema, ArrowArray* array) {
    return detail::Call([&](tql_error** e) {
      return tql_catalog_add_arrow_array(c_.get(), name.c_str(), &schema, array, e);
    });
  }
  // `stream` is moved (even on failure); it can be scanned once.
  Status AddArrowStream(const std::string& name, ArrowArrayStream* stream) {
    return detail::Call([&](tql_error** e) {
      return tql_catalog_add_arrow_stream(c_.get(), name.c_str(), stream, e);
    });
  }
  Status AddSource(const std::string& name, const ArrowSchema& schema, SourceCallback open) {
    auto* held = new SourceCallback(std::move(open));
    tql_source_callbacks cb;
    cb.open = [](void* user, const tql_scan* scan, ArrowArrayStream* out) {
      return (*static_cast<SourceCallback*>(user))(Scan(scan), out);
    };
    cb.release = [](void* user) { delete static_cast<SourceCallback*>(user); };
    cb.user_data = held;
    return detail::Call([&](tql_error** e) {
      return tql_catalog_add_source(c_.get(), name.c_str(), &schema, &cb, e);
    });
  }
  // A source whose batches arrive through Push.
  Status Declare(const std::string& name, const ArrowSchema& schema) {
    return detail::Call(
        [&](tql_error** e) { return tql_catalog_declare(c_.get(), name.c_str(), &schema, e); });
  }
  std::vector<std::string> sources() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < tql_catalog_source_count(c_.get()); ++i) {
      out.emplace_back(tql_catalog_source_name(c_.get(), i));
    }
    return out;
  }
  const tql_catalog* get() const { return c_.get(); }

 private:
  detail::Handle<tql_catalog, tql_catalog_free> c_;
};

// The settings of one execution and its cancel switch (Cancel is thread-safe).
class Exec {
 public:
  Exec() : x_(tql_exec_new()) {}
  Status params(const Params& p) {
    return detail::Call([&](tql_error** e) { return tql_exec_set_params(x_.get(), p.get(), e); });
  }
  Status memory_limit(int64_t bytes) {
    return detail::Call(
        [&](tql_error** e) { return tql_exec_set_memory_limit(x_.get(), bytes, e); });
  }
  Status row_limit(int64_t rows) {
    return detail::Call([&](tql_error** e) { return tql_exec_set_row_limit(x_.get(), rows, e); });
  }
  Status time_limit(std::chrono::milliseconds limit) {
    return detail::Call(
        [&](tql_error** e) { return tql_exec_set_time_limit(x_.get(), limit.count(), e); });
  }
  void Cancel() { tql_exec_cancel(x_.get()); }
  tql_exec* get() const { return x_.get(); }

 private:
  detail::Handle<tql_exec, tql_exec_free> x_;
};

class Push {
 public:
  Push() = default;
  // `array` is moved, `schema` borrowed.
  Status Batch(const ArrowSchema& schema, ArrowArray* array) {
    return detail::Call([&](tql_error** e) { return tql_push_batch(p_.get(), &schema, array, e); });
  }
  Result<ResultStream> Snapshot() { return Stream(tql_push_snapshot); }
  Result<ResultStream> Finish() { return Stream(tql_push_finish); }
  Result<std::string> ExportState() {
    void* data = nullptr;
    size_t length = 0;
    tql_error* e = nullptr;
    const tql_status s = tql_push_export_state(p_.get(), &data, &length, &e);
    if (s != TQL_OK) return Error::From(s, e);
    std::string out(static_cast<const char*>(data), length);
    tql_free(data);
    return out;
  }

 private:
  friend class Query;
  explicit Push(tql_push* p) : p_(p) {}
  Result<ResultStream> Stream(tql_status (*f)(tql_push*, ArrowArrayStream*, tql_error**)) {
    ResultStream out;
    tql_error* e = nullptr;
    const tql_status s = f(p_.get(), out.get(), &e);
    if (s != TQL_OK) return Error::From(s, e);
    return out;
  }
  detail::Handle<tql_push, tql_push_free> p_;
};

// A compiled query: immutable, it may execute from several threads at once.
class Query {
 public:
  Query() = default;
  std::string_view explain() const { return tql_query_explain(q_.get()); }
  std::string_view warnings() const { return tql_query_warnings(q_.get()); }
  std::vector<Scan> scans() const {
    std::vector<Scan> out;
    for (size_t i = 0; i < tql_query_scan_count(q_.get()); ++i)
      out.emplace_back(tql_query_scan(q_.get(), i));
    return out;
  }
  // The result's schema (the caller releases it).
  Status Schema(ArrowSchema* out) const {
    return detail::Call([&](tql_error** e) { return tql_query_schema(q_.get(), out, e); });
  }
  // `exec` must outlive the call (and, for Open, the push).
  Result<ResultStream> Execute(Exec* exec = nullptr) const {
    ResultStream out;
    tql_error* e = nullptr;
    const tql_status s =
        tql_query_execute(q_.get(), exec != nullptr ? exec->get() : nullptr, out.get(), &e);
    if (s != TQL_OK) return Error::From(s, e);
    return out;
  }
  Result<Push> Open(Exec* exec = nullptr) const {
    tql_push* p = nullptr;
    tql_error* e = nullptr;
    const tql_status s = tql_push_open(q_.get(), exec != nullptr ? exec->get() : nullptr, &p, &e);
    if (s != TQL_OK) return Error::From(s, e);
    return Push(p);
  }
  Result<ResultStream> MergeStates(const std::vector<std::string_view>& states,
                                   Exec* exec = nullptr) const {
    std::vector<const void*> data;
    std::vector<size_t> lengths;
    for (std::string_view s : states) {
      data.push_back(s.data());
      lengths.push_back(s.size());
    }
    ResultStream out;
    tql_error* e = nullptr;
    const tql_status s =
        tql_query_merge_states(q_.get(), data.data(), lengths.data(), states.size(),
                               exec != nullptr ? exec->get() : nullptr, out.get(), &e);
    if (s != TQL_OK) return Error::From(s, e);
    return out;
  }
  const tql_query* get() const { return q_.get(); }

 private:
  friend class Engine;
  explicit Query(tql_query* q) : q_(q) {}
  detail::Handle<tql_query, tql_query_free> q_;
};

// The engine: thread-safe, shared by every query compiled with it.
class Engine {
 public:
  Engine() = default;
  static Result<Engine> Create(const Options& options = Options()) {
    detail::Handle<tql_options, tql_options_free> o(tql_options_new());
    Status s = detail::Call([&](tql_error** e) {
      tql_status st = tql_options_set_jit(o.get(), options.jit_, e);
      if (st == TQL_OK) st = tql_options_set_cache_size(o.get(), options.cache_size_, e);
      if (st == TQL_OK) st = tql_options_set_memory_limit(o.get(), options.memory_limit_, e);
      if (st == TQL_OK) st = tql_options_set_threads(o.get(), options.threads_, e);
      return st;
    });
    if (!s) return s.error();
    tql_engine* engine = nullptr;
    tql_error* e = nullptr;
    const tql_status st = tql_engine_new(o.get(), &engine, &e);
    if (st != TQL_OK) return Error::From(st, e);
    return Engine(engine);
  }
  bool has_jit() const { return tql_engine_has_jit(e_.get()) != 0; }
  Result<Query> Compile(const Catalog& catalog, std::string_view text,
                        const Params* params = nullptr) const {
    tql_query* q = nullptr;
    tql_error* e = nullptr;
    const tql_status s = tql_compile(e_.get(), catalog.get(), text.data(), text.size(),
                                     params != nullptr ? params->get() : nullptr, &q, &e);
    if (s != TQL_OK) return Error::From(s, e);
    return Query(q);
  }
  tql_engine* get() const { return e_.get(); }

 private:
  explicit Engine(tql_engine* e) : e_(e) {}
  detail::Handle<tql_engine, tql_engine_free> e_;
};

inline std::string_view Version() {
  return tql_version();
}

}  // namespace tql

#endif  // TQL_TQL_HPP_
