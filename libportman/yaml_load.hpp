// YAML that portman reads (portman.yml, the agent's web config), within the limits of limits.hpp.
#pragma once

#include <string_view>

#include <yaml-cpp/yaml.h>

#include "libportman/result.hpp"

namespace portman {

// The first document of `text`. Refused (invalid_data, "SOURCE:LINE:COL: ...") when the text is
// larger than kConfigMaxBytes, nests deeper than kMaxNestingDepth, or would be more than
// kMaxYamlNodes nodes with its aliases expanded: yaml-cpp shares an aliased node, but every walk
// over the document visits it once per alias, so a few hundred bytes of nested aliases ("billion
// laughs") can stand for 10^9 nodes. Anchors and aliases within the limit are fine.
Result<YAML::Node> load_yaml(std::string_view text, std::string_view source);

}  // namespace portman
