#include "libportman/source_settings.hpp"

#include <charconv>

#include "libportman/duration.hpp"

namespace portman {

SourceSettings::SourceSettings(std::string section, std::span<const OptionSpec> options)
    : section_(std::move(section)), options_(options) {
  for (const OptionSpec& o : options_)
    if (!o.default_value.empty())
      values_[std::string(o.key)] = {std::string(o.default_value), "default"};
}

void SourceSettings::set(std::string_view key, std::string text, std::string origin) {
  values_[std::string(key)] = {std::move(text), std::move(origin)};
}

void SourceSettings::apply_environment(const std::function<const char*(const char*)>& getenv) {
  for (const OptionSpec& o : options_) {
    if (o.env.empty()) continue;
    const char* v = getenv(std::string(o.env).c_str());
    if (v && *v) set(o.key, v, "$" + std::string(o.env));
  }
}

const std::string& SourceSettings::text(std::string_view key) const {
  static const std::string kEmpty;
  auto it = values_.find(key);
  return it == values_.end() ? kEmpty : it->second.text;
}

bool SourceSettings::has(std::string_view key) const {
  auto it = values_.find(key);
  return it != values_.end() && !it->second.text.empty();
}

std::string SourceSettings::describe(std::string_view key) const {
  std::string name = section_ + "." + std::string(key);
  auto it = values_.find(key);
  if (it == values_.end()) return name;
  return name + " (from " + it->second.origin + ")";
}

Result<std::chrono::milliseconds> SourceSettings::duration(std::string_view key) const {
  auto d = parse_duration(text(key));
  if (!d) return make_error(ErrorKind::bad_input, describe(key) + ": " + d.error().message);
  if (d->count() <= 0)
    return make_error(ErrorKind::bad_input, describe(key) + ": must be longer than 0, e.g. 5s");
  return *d;
}

Result<long> SourceSettings::integer(std::string_view key, long min, long max) const {
  const std::string& t = text(key);
  long v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size() || v < min || v > max)
    return make_error(ErrorKind::bad_input, describe(key) + ": '" + t + "' is not a number from " +
                                                std::to_string(min) + " to " + std::to_string(max));
  return v;
}

}  // namespace portman
