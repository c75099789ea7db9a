//! VectorWriter: builds a vector of a given length row by row, in increasing row order, with
//! every row it is not told about left null. The interpreter's kernels write their results at
//! the selected rows of a batch with it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/buffer.h"
#include "runtime/status.h"
#include "runtime/value.h"
#include "runtime/vector.h"

namespace tql {

class VectorWriter {
 public:
  VectorWriter(TypeId type, int64_t length);

  TypeId type() const { return type_; }
  void SetBool(int64_t row, bool v) {
    MarkValid(row);
    if (v) bits::Set(values_->mutable_data(), row);
  }
  void SetInt64(int64_t row, int64_t v) {
    MarkValid(row);
    values_->mutable_as<int64_t>()[row] = v;
  }
  void SetFloat(int64_t row, double v) {
    MarkValid(row);
    values_->mutable_as<double>()[row] = v;
  }
  // string and dynamic; rows must come in increasing order.
  void SetString(int64_t row, std::string_view v) {
    // int32 offsets: a batch's strings are at most 2 GiB; past that the writer fails.
    if (data_.size() + v.size() > kMaxStringBytes) {
      overflowed_ = true;
      return;
    }
    FillOffsetsTo(row);
    MarkValid(row);
    data_.append(v);
    offsets_[static_cast<size_t>(row) + 1] = static_cast<int32_t>(data_.size());
    next_string_row_ = row + 1;
  }
  // Any value, converted to the writer's type (null when it does not convert).
  void Set(int64_t row, const Value& v);

  // The vector; all nulls (never a crash) if the strings overflowed, which
  // FinishChecked reports as an error.
  Vector Finish();
  Result<Vector> FinishChecked();

  static constexpr size_t kMaxStringBytes = 0x7fffffff;

 private:
  void MarkValid(int64_t row) {
    bits::Set(validity_->mutable_data(), row);
    ++valid_count_;
  }
  void FillOffsetsTo(int64_t row) {
    for (int64_t r = next_string_row_; r < row; ++r) {
      offsets_[static_cast<size_t>(r) + 1] = static_cast<int32_t>(data_.size());
    }
    next_string_row_ = row;
  }

  TypeId type_;
  int64_t length_;
  int64_t valid_count_ = 0;
  std::shared_ptr<Buffer> validity_;
  std::shared_ptr<Buffer> values_;  // fixed-width types
  std::vector<int32_t> offsets_;    // string types
  std::string data_;
  int64_t next_string_row_ = 0;
  bool overflowed_ = false;
};

}  // namespace tql
