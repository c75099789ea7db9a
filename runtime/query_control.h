//! The limits of one running query and its cancel switch: the host may cancel from any thread,
//! a deadline and a budget of scanned rows end the query with a clear status, and operators
//! that hold rows (the result, sort, distinct) reserve their memory against one limit.
//! Operators check between batches, so a cancel takes effect within one batch's work.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "runtime/status.h"

namespace tql {

class QueryControl {
 public:
  using Clock = std::chrono::steady_clock;

  // Thread-safe; may come before the query starts (it then ends at its first batch).
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // Not thread-safe: set before the query runs.
  void set_deadline(Clock::time_point deadline, int64_t limit_ms) {
    deadline_ = deadline;
    time_limit_ms_ = limit_ms;
  }
  void set_row_limit(int64_t rows) { row_limit_ = rows; }
  void set_memory_limit(int64_t bytes) { memory_limit_ = bytes; }
  int64_t memory_limit() const { return memory_limit_; }

  // Called before each batch a scan reads, with its rows (summed over every scan of the
  // query, on every thread).
  Status CheckScan(int64_t rows) {
    TQL_RETURN_IF_ERROR(Check());
    const int64_t after = rows_read_.fetch_add(rows, std::memory_order_relaxed) + rows;
    if (row_limit_ > 0 && after > row_limit_) {
      return Status(StatusCode::kLimitExceeded,
                    "the query reads more than its row limit of " + std::to_string(row_limit_) +
                        " rows; narrow it (a time range, a filter on the source) or raise the "
                        "limit");
    }
    return Status::Ok();
  }

  // Cancellation and the deadline; cheap enough to call per batch.
  Status Check() const {
    if (cancelled()) return Status(StatusCode::kCancelled, "the query was cancelled");
    if (time_limit_ms_ > 0 && Clock::now() > deadline_) {
      return Status(StatusCode::kLimitExceeded, "the query ran longer than its time limit of " +
                                                    std::to_string(time_limit_ms_) + " ms");
    }
    return Status::Ok();
  }

  // Memory held by operators of this query. `what` names the holder for the message.
  Status Reserve(int64_t bytes, const char* what) {
    const int64_t used = used_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    if (memory_limit_ > 0 && used > memory_limit_) {
      return Status(StatusCode::kLimitExceeded,
                    std::string(what) + " needs more than the memory limit of " +
                        FormatBytes(memory_limit_) +
                        "; raise the limit, or reduce the rows it holds (a filter, take, or "
                        "fewer columns)");
    }
    return Status::Ok();
  }
  void Release(int64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  // Forgets the memory and rows of an earlier run (not the cancel).
  void Reset() {
    used_.store(0, std::memory_order_relaxed);
    rows_read_.store(0, std::memory_order_relaxed);
  }
  int64_t memory_used() const { return used_.load(std::memory_order_relaxed); }

  static std::string FormatBytes(int64_t bytes);

 private:
  std::atomic<bool> cancelled_{false};
  std::atomic<int64_t> used_{0};
  std::atomic<int64_t> rows_read_{0};
  Clock::time_point deadline_{};
  int64_t time_limit_ms_ = 0;
  int64_t row_limit_ = 0;
  int64_t memory_limit_ = 0;
};

}  // namespace tql
