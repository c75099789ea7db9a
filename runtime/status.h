//! Status and Result<T>: recoverable errors as values (bad input, bad batches, limits).
#pragma once

#include <fmt/format.h>

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tql {

enum class StatusCode {
  kOk = 0,
  kInvalidInput,     // malformed data handed to us (a bad batch, a bad line)
  kQueryError,       // a query that does not parse, bind or type-check
  kUnsupported,      // valid input that this build cannot handle
  kIoError,          // a file could not be read or written
  kLimitExceeded,    // memory, row or time limit reached
  kCancelled,        // the host cancelled the query
  kInternal,         // a bug in tql
  kInvalidArgument,  // an API call used wrongly (a name registered twice, a stream read twice)
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  template <typename... Args>
  static Status InvalidInput(fmt::format_string<Args...> f, Args&&... args) {
    return {StatusCode::kInvalidInput, fmt::format(f, std::forward<Args>(args)...)};
  }
  template <typename... Args>
  static Status InvalidArgument(fmt::format_string<Args...> f, Args&&... args) {
    return {StatusCode::kInvalidArgument, fmt::format(f, std::forward<Args>(args)...)};
  }
  template <typename... Args>
  static Status Unsupported(fmt::format_string<Args...> f, Args&&... args) {
    return {StatusCode::kUnsupported, fmt::format(f, std::forward<Args>(args)...)};
  }
  template <typename... Args>
  static Status IoError(fmt::format_string<Args...> f, Args&&... args) {
    return {StatusCode::kIoError, fmt::format(f, std::forward<Args>(args)...)};
  }
  template <typename... Args>
  static Status QueryError(fmt::format_string<Args...> f, Args&&... args) {
    return {StatusCode::kQueryError, fmt::format(f, std::forward<Args>(args)...)};
  }
  template <typename... Args>
  static Status Internal(fmt::format_string<Args...> f, Args&&... args) {
    return {StatusCode::kInternal, fmt::format(f, std::forward<Args>(args)...)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T> holds either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace tql

#define TQL_CONCAT_INNER(a, b) a##b
#define TQL_CONCAT(a, b) TQL_CONCAT_INNER(a, b)

// Returns early from the enclosing function when `expr` yields a non-ok Status.
#define TQL_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::tql::Status _tql_status = (expr);        \
    if (!_tql_status.ok()) return _tql_status; \
  } while (0)

#define TQL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                              \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

// `TQL_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value or returns the error.
#define TQL_ASSIGN_OR_RETURN(lhs, rexpr) \
  TQL_ASSIGN_OR_RETURN_IMPL(TQL_CONCAT(_tql_result_, __LINE__), lhs, rexpr)
