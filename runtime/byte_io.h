//! Little-endian byte encoding for partial aggregate states: a writer that appends, and a
//! reader that checks every length against what is left, so that a truncated or corrupted
//! state is an error and never a read out of bounds.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tql {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}

  void U8(uint8_t x) { out_->push_back(static_cast<char>(x)); }
  // Unsigned LEB128: small counts and indexes take one byte.
  void Varint(uint64_t x) {
    while (x >= 0x80) {
      out_->push_back(static_cast<char>((x & 0x7F) | 0x80));
      x >>= 7;
    }
    out_->push_back(static_cast<char>(x));
  }
  // Zigzag, so that small negative numbers stay small.
  void SignedVarint(int64_t x) {
    Varint((static_cast<uint64_t>(x) << 1) ^ static_cast<uint64_t>(x >> 63));
  }
  void U64(uint64_t x) { Raw(&x, sizeof x); }
  void F64(double x) { Raw(&x, sizeof x); }
  void Bytes(std::string_view s) {
    Varint(s.size());
    out_->append(s);
  }
  void Raw(const void* p, size_t n) { out_->append(static_cast<const char*>(p), n); }

 private:
  std::string* out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  // Each read returns false, and reads nothing, when the input is too short or malformed.
  bool U8(uint8_t* x) {
    if (in_.empty()) return false;
    *x = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool Varint(uint64_t* x) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return false;
      const auto byte = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) {
        *x = v;
        return true;
      }
    }
    return false;
  }
  bool SignedVarint(int64_t* x) {
    uint64_t u;
    if (!Varint(&u)) return false;
    *x = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  bool U64(uint64_t* x) { return Raw(x, sizeof *x); }
  bool F64(double* x) { return Raw(x, sizeof *x); }
  bool Bytes(std::string_view* s) {
    uint64_t n;
    if (!Varint(&n) || n > in_.size()) return false;
    *s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Raw(void* p, size_t n) {
    if (n > in_.size()) return false;
    std::memcpy(p, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  // A count of items that each take at least `min_bytes`: false when the rest of the input
  // cannot hold that many, so that a corrupted count never drives a huge allocation.
  bool Count(uint64_t* n, size_t min_bytes = 1) {
    return Varint(n) && *n <= in_.size() / (min_bytes == 0 ? 1 : min_bytes);
  }
  size_t remaining() const { return in_.size(); }

 private:
  std::string_view in_;
};

}  // namespace tql
