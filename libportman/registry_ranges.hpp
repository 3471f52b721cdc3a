// The registry file's own `reserved_ranges` ("3000-3099": "Web Applications", "10000+": ...), the
// old scripts' grouping for `list -r`. portman.yml's types decide allocation; these only group.
#pragma once

#include <string>
#include <vector>

#include "libportman/config.hpp"
#include "libportman/registry.hpp"

namespace portman {

struct NamedRange {
  std::string key;  // as written: "3000-3099", "10000+", "22"
  PortRange range;
  std::string name;
};

struct FileRanges {
  std::vector<NamedRange> ranges;     // in file order, the ones that could be read
  std::vector<std::string> problems;  // one line each for keys or values that could not
};

// Empty when the file has no `reserved_ranges`.
FileRanges file_ranges(const Registry& registry);

// Where the file's ranges and the configured types disagree: a range whose name is a type's
// description but whose bounds differ, or a range no type covers. One line each.
std::vector<std::string> range_disagreements(const std::vector<NamedRange>& ranges,
                                             const Config& config);

}  // namespace portman
