#include "agent/exposition.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "libportman/word_scan.hpp"

namespace portman::agent {

void append_sample_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "Nan";
  } else if (std::isinf(value)) {
    out += value < 0 ? "-Inf" : "+Inf";
  } else if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    // "%.16g" prints every integer below 10^16 in full; below 10^15 it fits an int64 exactly.
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(value));
    out.append(buf, end);
    if (value == 0 && std::signbit(value)) out.insert(out.size() - 1, "-");  // "%g" of -0.0
  } else {
    // "%.16g" in the C locale whatever the process locale is (printf would write 0,5 in de_DE).
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 16);
    out.append(buf, end);
  }
}

void append_label_value(std::string& out, std::string_view value) {
  // Almost no label value holds a backslash, a double quote or a line feed: whole words that
  // hold none are skipped, and only the rest is looked at byte by byte.
  using namespace word_scan;
  std::size_t start = 0;  // the words before it need no escape
  for (; start + 8 <= value.size(); start += 8) {
    const std::uint64_t w = load(value, start);
    if (has_byte(w, '\\') || has_byte(w, '"') || has_byte(w, '\n')) break;
  }
  std::size_t from = 0;
  for (std::size_t i = start; i < value.size(); ++i) {
    char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(value.substr(from, i - from));
    out += '\\';
    out += c == '\n' ? 'n' : c;
    from = i + 1;
  }
  out.append(value.substr(from));
}

void append_family_header(std::string& out, std::string_view name, std::string_view help,
                          std::string_view type) {
  ((out += "# HELP ") += name) += ' ';
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  ((((out += "\n# TYPE ") += name) += ' ') += type) += '\n';
}

void append_label_block(std::string& out, std::span<const std::string_view> names,
                        std::span<const std::string_view> values) {
  if (names.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    (out += names[i]) += "=\"";
    append_label_value(out, i < values.size() ? values[i] : std::string_view());
    out += '"';
  }
  out += '}';
}

}  // namespace portman::agent
