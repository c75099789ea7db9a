#include "runtime/vector.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace tql {

namespace {

int64_t CountNulls(const BufferPtr& validity, int64_t length, int64_t null_count) {
  if (null_count >= 0) return null_count;
  if (!validity) return 0;
  return length - bits::CountSet(validity->data(), 0, length);
}

size_t ValueWidth(TypeId type) {
  switch (type) {
    case TypeId::kInt:
    case TypeId::kTimestamp:
    case TypeId::kDuration:
    case TypeId::kFloat:
      return 8;
    default:
      return 0;
  }
}

}  // namespace

Vector Vector::Nulls(TypeId type, int64_t length) {
  Vector v;
  v.type_ = type;
  v.length_ = length;
  v.null_count_ = length;
  v.validity_ = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(length)));
  if (type == TypeId::kBool) {
    v.values_ = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(length)));
  } else if (IsStringBacked(type)) {
    v.values_ = Buffer::Allocate(static_cast<size_t>(length + 1) * sizeof(int32_t));
    v.data_ = Buffer::Allocate(0);
  } else if (type != TypeId::kNull) {
    v.values_ = Buffer::Allocate(static_cast<size_t>(length) * ValueWidth(type));
  }
  return v;
}

Vector Vector::Fixed(TypeId type, int64_t length, BufferPtr values, BufferPtr validity,
                     int64_t null_count) {
  TQL_CHECK(type == TypeId::kBool || IsInt64Backed(type) || type == TypeId::kFloat);
  Vector v;
  v.type_ = type;
  v.length_ = length;
  v.values_ = std::move(values);
  v.null_count_ = CountNulls(validity, length, null_count);
  if (v.null_count_ > 0) v.validity_ = std::move(validity);
  return v;
}

Vector Vector::Strings(TypeId type, int64_t length, BufferPtr offsets, BufferPtr data,
                       BufferPtr validity, int64_t null_count) {
  TQL_CHECK(IsStringBacked(type));
  Vector v;
  v.type_ = type;
  v.length_ = length;
  v.values_ = std::move(offsets);
  v.data_ = std::move(data);
  v.null_count_ = CountNulls(validity, length, null_count);
  if (v.null_count_ > 0) v.validity_ = std::move(validity);
  return v;
}

Vector Vector::Dictionary(int64_t length, BufferPtr indices, BufferPtr validity,
                          std::shared_ptr<const Vector> dictionary, int64_t null_count) {
  TQL_CHECK(dictionary && IsStringBacked(dictionary->type()) && !dictionary->is_dictionary());
  Vector v;
  v.type_ = dictionary->type();
  v.length_ = length;
  v.values_ = std::move(indices);
  v.dictionary_ = std::move(dictionary);
  v.null_count_ = CountNulls(validity, length, null_count);
  if (v.null_count_ > 0) v.validity_ = std::move(validity);
  return v;
}

Vector Vector::Slice(int64_t offset, int64_t length) const {
  TQL_CHECK(offset >= 0 && length >= 0 && offset + length <= length_);
  Vector v = *this;
  v.length_ = length;
  v.stats_ = nullptr;
  // A sliced view keeps the whole parent buffer alive.
  auto sub = [](const BufferPtr& b, size_t byte_offset, size_t size) -> BufferPtr {
    if (!b) return nullptr;
    return Buffer::Wrap(b->data() + byte_offset, size, b);
  };
  if (validity_) {
    if (offset % 8 == 0) {
      v.validity_ = sub(validity_, static_cast<size_t>(offset / 8),
                        static_cast<size_t>(bits::BytesFor(length)));
    } else {
      v.validity_ = bits::CopyRange(validity_->data(), offset, length);
    }
    v.null_count_ = length - bits::CountSet(v.validity_->data(), 0, length);
    if (v.null_count_ == 0) v.validity_ = nullptr;
  }
  switch (type_) {
    case TypeId::kNull:
      break;
    case TypeId::kBool:
      v.values_ = offset % 8 == 0 ? sub(values_, static_cast<size_t>(offset / 8),
                                        static_cast<size_t>(bits::BytesFor(length)))
                                  : bits::CopyRange(values_->data(), offset, length);
      break;
    case TypeId::kString:
    case TypeId::kDynamic:
      if (dictionary_) {
        v.values_ = sub(values_, static_cast<size_t>(offset) * 4, static_cast<size_t>(length) * 4);
      } else {
        // Offsets stay absolute into the shared data buffer.
        v.values_ =
            sub(values_, static_cast<size_t>(offset) * 4, static_cast<size_t>(length + 1) * 4);
      }
      break;
    default:
      v.values_ = sub(values_, static_cast<size_t>(offset) * 8, static_cast<size_t>(length) * 8);
      break;
  }
  return v;
}

Vector Vector::Decoded() const {
  if (!dictionary_) return *this;
  std::vector<int32_t> offsets(static_cast<size_t>(length_) + 1, 0);
  std::string data;
  for (int64_t i = 0; i < length_; ++i) {
    if (IsValid(i)) data.append(GetString(i));
    offsets[static_cast<size_t>(i) + 1] = static_cast<int32_t>(data.size());
  }
  return Strings(type_, length_, Buffer::CopyOf(offsets), Buffer::CopyOf(data.data(), data.size()),
                 validity_, null_count_);
}

namespace {

// Blocked Bloom filter: one 64-bit word per value, three bits in it, about 8 bits per row.
uint64_t BloomHash(std::string_view value) {
  return std::hash<std::string_view>{}(value);
}
uint64_t BloomBits(uint64_t h) {
  return (uint64_t{1} << (h & 63)) | (uint64_t{1} << ((h >> 6) & 63)) |
         (uint64_t{1} << ((h >> 12) & 63));
}
size_t BloomWord(uint64_t h, size_t words) {
  return static_cast<size_t>(h >> 32) & (words - 1);
}

}  // namespace

bool ColumnStats::MayContain(std::string_view value) const {
  if (bloom.empty()) return true;
  const uint64_t h = BloomHash(value);
  const uint64_t b = BloomBits(h);
  return (bloom[BloomWord(h, bloom.size())] & b) == b;
}

bool IsIdentifierColumn(std::string_view name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  return ends_with("_id") || ends_with(".id");
}

std::shared_ptr<const ColumnStats> ComputeStats(const Vector& v, bool identifier) {
  auto stats = std::make_shared<ColumnStats>();
  if (identifier && v.type() == TypeId::kString) {
    size_t words = 1;
    while (words * 8 < static_cast<size_t>(v.length())) words <<= 1;  // 8 bits per row
    stats->bloom.assign(words, 0);
    for (int64_t i = 0; i < v.length(); ++i) {
      if (!v.IsValid(i)) continue;
      stats->has_values = true;
      const uint64_t h = BloomHash(v.GetString(i));
      stats->bloom[BloomWord(h, words)] |= BloomBits(h);
    }
    return stats;
  }
  if (IsInt64Backed(v.type())) {
    const int64_t* x = v.int64_values();
    for (int64_t i = 0; i < v.length(); ++i) {
      if (!v.IsValid(i)) continue;
      if (!stats->has_values) {
        stats->min_int = stats->max_int = x[i];
        stats->has_values = true;
      } else {
        stats->min_int = std::min(stats->min_int, x[i]);
        stats->max_int = std::max(stats->max_int, x[i]);
      }
    }
    return stats;
  }
  if (v.type() == TypeId::kFloat) {
    const double* x = v.float_values();
    for (int64_t i = 0; i < v.length(); ++i) {
      if (!v.IsValid(i)) continue;
      if (x[i] != x[i]) {
        stats->has_nan = true;
        continue;
      }
      if (!stats->has_values) {
        stats->min_float = stats->max_float = x[i];
        stats->has_values = true;
      } else {
        stats->min_float = std::min(stats->min_float, x[i]);
        stats->max_float = std::max(stats->max_float, x[i]);
      }
    }
    return stats;
  }
  return nullptr;
}

}  // namespace tql
