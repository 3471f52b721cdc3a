// What every fuzz target shares: the input as text, and an input cut into parts (a project.all
// answer and the answers after it, a compose file and its .env) at a separator line that the
// targets' dictionaries hold, so that the fuzzer can add and remove parts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace portman::fuzz {

inline constexpr std::string_view kPartSeparator = "\n--8<--\n";

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline std::vector<std::string_view> split_parts(std::string_view text) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto at = text.find(kPartSeparator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + kPartSeparator.size());
  }
}

}  // namespace portman::fuzz
