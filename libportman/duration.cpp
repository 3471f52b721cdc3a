#include "libportman/duration.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <utility>

namespace portman {
namespace {

using std::chrono::milliseconds;

// Largest first, so that a sum must be written in decreasing units ("1h30m", not "30m1h").
constexpr std::array<std::pair<std::string_view, long long>, 6> kUnits{{
    {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
}};

}  // namespace

Result<milliseconds> parse_duration(std::string_view text) {
  auto bad = [&] {
    return make_error(ErrorKind::bad_input,
                      "invalid duration '" + std::string(text) +
                          "': write a number and a unit (ms, s, m, h, d, w), e.g. 500ms, 5s, "
                          "2m, 1h, 7d or 1h30m");
  };
  if (text.empty()) return bad();
  long long total = 0;
  size_t last_unit = 0;  // index into kUnits + 1 of the previous unit
  std::string_view rest = text;
  while (!rest.empty()) {
    long long n = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
    if (ec != std::errc() || n < 0) return bad();
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    size_t len = 0;
    while (len < rest.size() && std::isalpha(static_cast<unsigned char>(rest[len]))) ++len;
    std::string_view unit = rest.substr(0, len);
    rest.remove_prefix(len);
    size_t idx = 0;
    while (idx < kUnits.size() && kUnits[idx].first != unit) ++idx;
    if (idx == kUnits.size() || idx + 1 <= last_unit) return bad();
    last_unit = idx + 1;
    if (n > (1LL << 53) / kUnits[idx].second) return bad();  // overflow
    total += n * kUnits[idx].second;
  }
  return milliseconds(total);
}

std::string format_duration(milliseconds d) {
  long long left = d.count();
  if (left == 0) return "0s";
  std::string out;
  for (const auto& [unit, ms] : kUnits) {
    if (left >= ms) {
      out += std::to_string(left / ms);
      out += unit;
      left %= ms;
    }
  }
  return out;
}

}  // namespace portman
