#include "runtime/group_table.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>

namespace tql {

uint64_t HashBytes(const void* data, size_t size) {
  return XXH3_64bits(data, size);
}

GroupTable::GroupTable(int width) : width_(width) {
  slots_.assign(16, Slot{0, -1});
  mask_ = slots_.size() - 1;
}

void GroupTable::Grow() {
  std::vector<Slot> slots(slots_.size() * 2, Slot{0, -1});
  const size_t mask = slots.size() - 1;
  for (int32_t g = 0; g < size(); ++g) {
    const uint64_t h = hashes_[static_cast<size_t>(g)];
    size_t i = h & mask;
    while (slots[i].group >= 0) i = (i + 1) & mask;
    slots[i] = Slot{static_cast<uint32_t>(h >> 32), g};
  }
  slots_.swap(slots);
  mask_ = mask;
}

uint32_t StringInterner::Intern(std::string_view s) {
  if ((hashes_.size() + 1) * 2 > slots_.size()) {
    slots_.assign(std::max<size_t>(16, slots_.size() * 2), -1);
    const size_t mask = slots_.size() - 1;
    for (size_t id = 0; id < hashes_.size(); ++id) {
      size_t i = hashes_[id] & mask;
      while (slots_[i] >= 0) i = (i + 1) & mask;
      slots_[i] = static_cast<int64_t>(id);
    }
  }
  const uint64_t h = HashBytes(s.data(), s.size());
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const int64_t id = slots_[i];
    if (id < 0) {
      slots_[i] = static_cast<int64_t>(hashes_.size());
      hashes_.push_back(h);
      arena_.append(s);
      offsets_.push_back(arena_.size());
      return static_cast<uint32_t>(hashes_.size() - 1);
    }
    if (hashes_[static_cast<size_t>(id)] == h && Get(static_cast<uint32_t>(id)) == s) {
      return static_cast<uint32_t>(id);
    }
  }
}

}  // namespace tql
