#include "libportman/registry_ranges.hpp"

#include <algorithm>
#include <cctype>

namespace portman {
namespace {

// "10000+" means from 10000 to the last port, as the seed wrote the dynamic range.
Result<PortRange> parse_open_range(std::string_view key) {
  if (!key.empty() && key.back() == '+') {
    auto first = parse_port(key.substr(0, key.size() - 1));
    if (!first) return first.error();
    return PortRange{*first, 65535};
  }
  return parse_port_range(key);
}

bool same_words(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace

FileRanges file_ranges(const Registry& registry) {
  FileRanges out;
  const Json& doc = registry.document();
  auto it = doc.find("reserved_ranges");
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_object()) {
    out.problems.push_back(std::string("reserved_ranges: expected an object of \"FIRST-LAST\": "
                                       "\"name\", got ") +
                           it->type_name());
    return out;
  }
  for (const auto& [key, value] : it->items()) {
    std::string where = "reserved_ranges[\"" + key + "\"]";
    auto range = parse_open_range(key);
    if (!range) {
      out.problems.push_back(where + ": not FIRST-LAST, FIRST+ or PORT with ports 1-65535");
      continue;
    }
    if (!value.is_string()) {
      out.problems.push_back(where + std::string(": expected a name, got ") + value.type_name());
      continue;
    }
    out.ranges.push_back({key, *range, value.get<std::string>()});
  }
  return out;
}

std::vector<std::string> range_disagreements(const std::vector<NamedRange>& ranges,
                                             const Config& config) {
  std::vector<std::string> out;
  for (const NamedRange& r : ranges) {
    std::string what = "reserved_ranges[\"" + r.key + "\"] (" + r.name + ")";
    auto named = std::find_if(config.types.begin(), config.types.end(), [&](const ServiceType& t) {
      return same_words(t.description, r.name) || same_words(t.name, r.name);
    });
    if (named != config.types.end()) {
      if (named->range.first != r.range.first || named->range.last != r.range.last)
        out.push_back(what + " is " + r.range.to_string() + " in the registry, but type " +
                      named->name + " is " + named->range.to_string() + " in the config");
      continue;
    }
    auto same = std::find_if(config.types.begin(), config.types.end(), [&](const ServiceType& t) {
      return t.range.first == r.range.first && t.range.last == r.range.last;
    });
    if (same == config.types.end())
      out.push_back(what +
                    " is no configured type's range: list -r groups by it, but allocate "
                    "-t cannot hand out from it (types: " +
                    config.type_names() + ")");
  }
  return out;
}

}  // namespace portman
