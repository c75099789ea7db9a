//! Buffer: an immutable, shared block of memory, either owned (64-byte aligned) or borrowed
//! from a producer (an imported Arrow array) and kept alive by an owner handle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace tql {

class Buffer;
using BufferPtr = std::shared_ptr<const Buffer>;

class Buffer {
 public:
  // A new zero-filled buffer of `size` bytes; the allocation is rounded up to 64 bytes so SIMD
  // kernels may read whole registers past the end.
  static std::shared_ptr<Buffer> Allocate(size_t size);
  // Copies `size` bytes.
  static std::shared_ptr<Buffer> CopyOf(const void* data, size_t size);
  template <typename T>
  static std::shared_ptr<Buffer> CopyOf(const std::vector<T>& v) {
    return CopyOf(v.data(), v.size() * sizeof(T));
  }
  // Borrows memory owned by someone else; `owner` is kept alive as long as the buffer is.
  static BufferPtr Wrap(const void* data, size_t size, std::shared_ptr<const void> owner);
  // Takes ownership of memory from std::aligned_alloc (freed with std::free).
  static std::shared_ptr<Buffer> Adopt(uint8_t* data, size_t size);

  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() { return data_; }
  size_t size() const { return size_; }
  template <typename T>
  const T* as() const {
    return reinterpret_cast<const T*>(data_);
  }
  template <typename T>
  T* mutable_as() {
    return reinterpret_cast<T*>(data_);
  }

 private:
  Buffer() = default;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool owned_ = false;
  std::shared_ptr<const void> owner_;
};

namespace bits {

inline bool Get(const uint8_t* bits, int64_t i) {
  return (bits[i >> 3] >> (i & 7)) & 1;
}
inline void Set(uint8_t* bits, int64_t i) {
  bits[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
}
inline void Clear(uint8_t* bits, int64_t i) {
  bits[i >> 3] &= static_cast<uint8_t>(~(1u << (i & 7)));
}
inline int64_t BytesFor(int64_t n) {
  return (n + 7) / 8;
}
// Number of set bits in [offset, offset + length).
int64_t CountSet(const uint8_t* bits, int64_t offset, int64_t length);
// Copies `length` bits starting at bit `offset` of `src` to a new buffer starting at bit 0.
std::shared_ptr<Buffer> CopyRange(const uint8_t* src, int64_t offset, int64_t length);

}  // namespace bits

}  // namespace tql
