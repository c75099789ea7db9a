//! UTF-8 validation: a SIMD check (simdjson) with a scalar pass that locates the first bad byte.
#pragma once

#include <cstddef>
#include <string_view>

namespace tql {

inline constexpr size_t kValidUtf8 = static_cast<size_t>(-1);

// Byte offset of the first byte that does not begin a well-formed UTF-8 sequence
// (overlongs, surrogates and values above U+10FFFF are ill-formed), or kValidUtf8.
size_t FindInvalidUtf8(std::string_view text);

}  // namespace tql
