// A metric's contract: name, type, help and label names. The agent's catalog lists them all (core
// metrics and each source's own), the renderer writes series for them, and the tests check the
// output and docs/metrics.md against the same list.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace portman {

enum class MetricType : std::uint8_t { gauge, counter };

struct MetricSpec {
  std::string_view name;
  MetricType type;
  std::string_view help;
  std::span<const std::string_view> labels;  // in the order they are written
};

// One series a source reports about itself (portman_docker_up, portman_dokploy_port_info...):
// the renderer writes it under its spec without knowing the source.
struct Sample {
  const MetricSpec* spec = nullptr;
  std::vector<std::string> labels;  // values, in the order of spec->labels
  double value = 0;
};

}  // namespace portman
