// Eight bytes at a time: the tests the text writers (JSON strings, Prometheus label values) use
// to skip words that need no escaping. Each says "some byte of the word is ...": exact for the
// word as a whole, which is all a caller needs before it looks at the bytes of a flagged word.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace portman::word_scan {

inline constexpr std::uint64_t kOnes = 0x0101010101010101, kHighs = 0x8080808080808080;

// The 8 bytes of `s` at `at` (which the caller keeps in range), as one word.
inline std::uint64_t load(std::string_view s, std::size_t at) {
  std::uint64_t w;
  std::memcpy(&w, s.data() + at, sizeof w);
  return w;
}

// Some byte of `w` is `c`.
constexpr bool has_byte(std::uint64_t w, unsigned char c) {
  const std::uint64_t x = w ^ (kOnes * c);
  return ((x - kOnes) & ~x & kHighs) != 0;
}

// Some byte of `w` is below 0x20 or at least 0x80 (a control byte, or one outside ASCII).
constexpr bool has_control_or_high(std::uint64_t w) {
  return ((w | ((w - kOnes * 0x20) & ~w)) & kHighs) != 0;
}

}  // namespace portman::word_scan
