// Durations as Prometheus writes them: 500ms, 5s, 2m, 1h, 7d, 1w, or sums such as 1h30m.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "libportman/result.hpp"

namespace portman {

Result<std::chrono::milliseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::milliseconds d);  // shortest exact form: "7d", "1h30m"

}  // namespace portman
