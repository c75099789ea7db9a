//! The hash tables of summarize: group keys as fixed-width words in an open-addressing table,
//! and the strings of string keys interned to dense ids, so that every key of any type is a
//! few 64-bit words compared with memcmp.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace tql {

// 64-bit hash of bytes (XXH3): stable across machines and runs, as partial states need.
uint64_t HashBytes(const void* data, size_t size);
// A 64-bit mixer for one word (the finalizer of MurmurHash3).
inline uint64_t HashWord(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// The bits of a float as a key: -0.0 and 0.0 are one value, and so is every NaN.
inline uint64_t FloatKeyBits(double x) {
  if (x == 0) x = 0;
  if (std::isnan(x)) x = std::nan("");
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

// Groups numbered 0, 1, ... in the order their keys were first inserted. Linear probing over
// slots that hold a group number and 32 bits of its hash, at most half full.
class GroupTable {
 public:
  explicit GroupTable(int width);

  int width() const { return width_; }
  int32_t size() const { return static_cast<int32_t>(hashes_.size()); }
  const uint64_t* key(int32_t group) const {
    return keys_.data() + static_cast<size_t>(group) * static_cast<size_t>(width_);
  }
  // W: the width when the caller knows it at compile time (0: width()).
  template <int W = 0>
  uint64_t Hash(const uint64_t* key) const {
    const int width = W > 0 ? W : width_;
    if (width > 5) return HashBytes(key, static_cast<size_t>(width) * 8);
    // A few words: multiply-xorshift each in, then the finalizer.
    uint64_t h = key[0];
    for (int i = 1; i < width; ++i) {
      h = (h ^ (h >> 31)) * 0x9E3779B97F4A7C15ULL;
      h ^= key[i];
    }
    return HashWord(h);
  }

  // The group of `key` (width() words with hash `hash`), added as group size() when new.
  template <int W = 0>
  int32_t FindOrInsert(const uint64_t* key, uint64_t hash) {
    if (static_cast<size_t>(size() + 1) * 2 > slots_.size()) Grow();
    const auto tag = static_cast<uint32_t>(hash >> 32);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.group < 0) {
        s.group = size();
        s.tag = tag;
        keys_.insert(keys_.end(), key, key + width_);
        hashes_.push_back(hash);
        return s.group;
      }
      if (s.tag == tag && Equal<W>(this->key(s.group), key)) return s.group;
    }
  }
  size_t MemoryUsage() const {
    return slots_.capacity() * sizeof(Slot) + keys_.capacity() * 8 + hashes_.capacity() * 8;
  }

  // The layout compiled kernels probe (valid until the next insert): the slots as 64-bit
  // words (the tag, the 32 bits of the hash above bit 32, in the low half; the group, -1 for
  // an empty slot, in the high half), the slot mask, and the keys, width() words per group.
  const uint64_t* slot_words() const { return reinterpret_cast<const uint64_t*>(slots_.data()); }
  uint64_t slot_mask() const { return mask_; }
  const uint64_t* key_words() const { return keys_.data(); }

 private:
  struct Slot {
    uint32_t tag;
    int32_t group;  // -1: empty
  };
  template <int W>
  bool Equal(const uint64_t* a, const uint64_t* b) const {
    const int width = W > 0 ? W : width_;
    for (int i = 0; i < width; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  void Grow();
  static_assert(sizeof(Slot) == 8 && offsetof(Slot, tag) == 0 && offsetof(Slot, group) == 4,
                "kernels read a slot as one word");

  int width_;
  std::vector<uint64_t> keys_;    // group-major, width_ words per group
  std::vector<uint64_t> hashes_;  // per group, for growing
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// Strings to dense ids 0, 1, ... in order of first sight; the bytes live in one arena.
class StringInterner {
 public:
  uint32_t Intern(std::string_view s);
  std::string_view Get(uint32_t id) const {
    return std::string_view(arena_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  uint32_t size() const { return static_cast<uint32_t>(offsets_.size() - 1); }
  size_t MemoryUsage() const {
    return arena_.capacity() + offsets_.capacity() * 8 + slots_.capacity() * 8;
  }

 private:
  std::string arena_;
  std::vector<size_t> offsets_{0};
  std::vector<uint64_t> hashes_;
  std::vector<int64_t> slots_;  // id, or -1
};

}  // namespace tql
