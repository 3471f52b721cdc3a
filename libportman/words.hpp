// Space-separated words of a line (a joined cmdline, a /proc/PID/stat line), as views into it.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

namespace portman {

inline std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    auto end = std::min(text.find(' '), text.size());
    out.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
  return out;
}

}  // namespace portman
