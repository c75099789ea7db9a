//! Vector: one column of a batch in Arrow's memory layout. Validity is an LSB-first bitmap
//! (absent when there are no nulls); bools are bit-packed; int/timestamp/duration are int64;
//! float is float64; string/dynamic are int32 offsets + UTF-8 bytes, or int32 dictionary codes
//! into a string dictionary. Vectors are immutable and share their buffers, so copies are cheap.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "runtime/buffer.h"
#include "runtime/check.h"
#include "runtime/types.h"

namespace tql {

// Min/max of a vector's valid values, kept by the producer (readers compute them while they
// build batches) so that a scan can skip a batch that no row of which can match.
struct ColumnStats {
  int64_t min_int = 0, max_int = 0;     // int, timestamp, duration
  double min_float = 0, max_float = 0;  // float (NaN excluded)
  bool has_values = false;              // false: every value is null (or NaN)
  bool has_nan = false;                 // a NaN compares above every number
  // Identifier strings (IsIdentifierColumn): a blocked Bloom filter of the values, so that
  // `trace_id == "..."` skips the batches that cannot hold the value. Empty: none.
  std::vector<uint64_t> bloom;

  // False when the Bloom filter proves no row holds `value`.
  bool MayContain(std::string_view value) const;
};

// True for string columns that name things one at a time (`trace_id`, `span_id`,
// `parent_id`, and names ending in `_id` or `.id`): the readers keep a Bloom filter of their
// values per batch, since they are what a query isolates one request, user or span by.
bool IsIdentifierColumn(std::string_view name);

class Vector {
 public:
  Vector() = default;

  // All-null column of any type (storage is allocated so typed reads stay in bounds).
  static Vector Nulls(TypeId type, int64_t length);
  // bool (bit-packed values), int/timestamp/duration (int64) or float (double).
  // `null_count` of -1 means "unknown": it is computed from `validity`.
  static Vector Fixed(TypeId type, int64_t length, BufferPtr values, BufferPtr validity,
                      int64_t null_count = -1);
  // string or dynamic: `offsets` holds length + 1 int32 values into `data`.
  static Vector Strings(TypeId type, int64_t length, BufferPtr offsets, BufferPtr data,
                        BufferPtr validity, int64_t null_count = -1);
  // Dictionary-encoded string (or dynamic): `indices` holds `length` int32 codes into
  // `dictionary`, a plain (non-dictionary) vector of the same type without nulls in the rows
  // referenced by valid codes.
  static Vector Dictionary(int64_t length, BufferPtr indices, BufferPtr validity,
                           std::shared_ptr<const Vector> dictionary, int64_t null_count = -1);

  TypeId type() const { return type_; }
  int64_t length() const { return length_; }
  int64_t null_count() const { return null_count_; }
  bool has_nulls() const { return null_count_ > 0; }
  bool IsValid(int64_t i) const {
    TQL_DCHECK(i >= 0 && i < length_);
    return validity_ == nullptr || bits::Get(validity_->data(), i);
  }
  bool IsNull(int64_t i) const { return !IsValid(i); }

  // Raw storage (null for absent buffers).
  const uint8_t* validity_bits() const { return validity_ ? validity_->data() : nullptr; }
  const BufferPtr& validity_buffer() const { return validity_; }
  const BufferPtr& values_buffer() const { return values_; }  // values, offsets or codes
  const BufferPtr& data_buffer() const { return data_; }      // string bytes

  const int64_t* int64_values() const { return values_->as<int64_t>(); }
  const double* float_values() const { return values_->as<double>(); }
  const uint8_t* bool_bits() const { return values_->data(); }
  const int32_t* offsets() const { return values_->as<int32_t>(); }
  const char* string_bytes() const { return data_ ? data_->as<char>() : ""; }

  bool is_dictionary() const { return dictionary_ != nullptr; }
  const int32_t* dictionary_codes() const { return values_->as<int32_t>(); }
  const Vector& dictionary() const { return *dictionary_; }
  const std::shared_ptr<const Vector>& dictionary_ptr() const { return dictionary_; }

  // Typed element access; REQUIRES: the type matches and the row is valid.
  bool GetBool(int64_t i) const { return bits::Get(bool_bits(), i); }
  int64_t GetInt64(int64_t i) const { return int64_values()[i]; }
  double GetFloat(int64_t i) const { return float_values()[i]; }
  std::string_view GetString(int64_t i) const {
    if (dictionary_) return dictionary_->GetString(dictionary_codes()[i]);
    const int32_t* o = offsets();
    return {string_bytes() + o[i], static_cast<size_t>(o[i + 1] - o[i])};
  }

  // Statistics, when the producer supplied them (null otherwise; slices have none).
  const ColumnStats* stats() const { return stats_.get(); }
  void set_stats(std::shared_ptr<const ColumnStats> stats) { stats_ = std::move(stats); }

  // Rows [offset, offset + length) sharing storage; validity is copied only when `offset` is
  // not a multiple of 8 (bit-packed bools likewise).
  Vector Slice(int64_t offset, int64_t length) const;
  // The same values without dictionary encoding.
  Vector Decoded() const;

 private:
  TypeId type_ = TypeId::kNull;
  int64_t length_ = 0;
  int64_t null_count_ = 0;
  BufferPtr validity_;
  BufferPtr values_;
  BufferPtr data_;
  std::shared_ptr<const Vector> dictionary_;
  std::shared_ptr<const ColumnStats> stats_;
};

// Computes the statistics of an int64-backed or float vector, or with `identifier` the Bloom
// filter of a string vector (null for other types).
std::shared_ptr<const ColumnStats> ComputeStats(const Vector& v, bool identifier = false);

}  // namespace tql
