// Small printing helpers shared by the commands: colour, CSV quoting, aligned columns.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace portman::cli {

class Style {
 public:
  explicit Style(bool color) : color_(color) {}
  std::string green(std::string_view s) const { return wrap("32", s); }
  std::string red(std::string_view s) const { return wrap("31", s); }
  std::string yellow(std::string_view s) const { return wrap("33", s); }
  std::string bold(std::string_view s) const { return wrap("1", s); }
  std::string dim(std::string_view s) const { return wrap("2", s); }
  // The seed's colours: active green, inactive red, everything else yellow.
  std::string status(std::string_view status, std::string_view text) const;

 private:
  std::string wrap(std::string_view code, std::string_view s) const;
  bool color_;
};

// RFC 4180: quote a field holding a comma, quote or line break; double inner quotes.
std::string csv_field(std::string_view s);

// Left-aligned columns, widths from the content (colour codes must not be in `rows`).
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

// Strings from the command line must be valid UTF-8 before they go into the registry.

}  // namespace portman::cli
