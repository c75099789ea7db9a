#include "runtime/utf8.h"

#include <simdjson.h>

namespace tql {

size_t FindInvalidUtf8(std::string_view s) {
  if (simdjson::validate_utf8(s.data(), s.size())) return kValidUtf8;
  size_t i = 0;
  auto byte = [&s](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  while (i < s.size()) {
    const unsigned char c = byte(i);
    if (c < 0x80) {
      ++i;
    } else if (c >= 0xC2 && c <= 0xDF && cont(i + 1)) {
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF && cont(i + 1) && cont(i + 2)) {
      const unsigned char c1 = byte(i + 1);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F)) return i;  // overlong, surrogate
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
      const unsigned char c1 = byte(i + 1);
      if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) return i;
      i += 4;
    } else {
      return i;
    }
  }
  return kValidUtf8;
}

}  // namespace tql
