#include "runtime/buffer.h"

#include <bit>
#include <cstdlib>
#include <new>

namespace tql {

namespace {
constexpr size_t kAlignment = 64;
size_t RoundUp(size_t n) {
  return (n + kAlignment - 1) / kAlignment * kAlignment;
}

// A buffer whose first `initialized` bytes the caller fills; the rest is zeroed.
std::shared_ptr<Buffer> AllocateFilledFrom(size_t size, const void* data) {
  const size_t capacity = RoundUp(size == 0 ? 1 : size);
  void* p = std::aligned_alloc(kAlignment, capacity);
  if (p == nullptr) throw std::bad_alloc();
  const size_t copied = data != nullptr ? size : 0;
  if (copied > 0) std::memcpy(p, data, copied);
  std::memset(static_cast<uint8_t*>(p) + copied, 0, capacity - copied);
  return Buffer::Adopt(static_cast<uint8_t*>(p), size);
}

}  // namespace

std::shared_ptr<Buffer> Buffer::Adopt(uint8_t* data, size_t size) {
  std::shared_ptr<Buffer> b(new Buffer());
  b->data_ = data;
  b->size_ = size;
  b->owned_ = true;
  return b;
}

std::shared_ptr<Buffer> Buffer::Allocate(size_t size) {
  return AllocateFilledFrom(size, nullptr);
}

std::shared_ptr<Buffer> Buffer::CopyOf(const void* data, size_t size) {
  return AllocateFilledFrom(size, data);
}

BufferPtr Buffer::Wrap(const void* data, size_t size, std::shared_ptr<const void> owner) {
  std::shared_ptr<Buffer> b(new Buffer());
  b->data_ = static_cast<uint8_t*>(const_cast<void*>(data));
  b->size_ = size;
  b->owner_ = std::move(owner);
  return b;
}

Buffer::~Buffer() {
  if (owned_) std::free(data_);
}

namespace bits {

int64_t CountSet(const uint8_t* bits, int64_t offset, int64_t length) {
  int64_t count = 0;
  int64_t i = offset;
  const int64_t end = offset + length;
  for (; i < end && (i & 63) != 0; ++i) count += Get(bits, i);
  for (; i + 64 <= end; i += 64) {
    uint64_t word;
    std::memcpy(&word, bits + (i >> 3), sizeof(word));
    count += std::popcount(word);
  }
  for (; i < end; ++i) count += Get(bits, i);
  return count;
}

std::shared_ptr<Buffer> CopyRange(const uint8_t* src, int64_t offset, int64_t length) {
  auto out = Buffer::Allocate(static_cast<size_t>(BytesFor(length)));
  uint8_t* dst = out->mutable_data();
  if ((offset & 7) == 0) {
    std::memcpy(dst, src + (offset >> 3), static_cast<size_t>(BytesFor(length)));
    if (length & 7) dst[length >> 3] &= static_cast<uint8_t>((1u << (length & 7)) - 1);
    return out;
  }
  for (int64_t i = 0; i < length; ++i) {
    if (Get(src, offset + i)) Set(dst, i);
  }
  return out;
}

}  // namespace bits

}  // namespace tql
