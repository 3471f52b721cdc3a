// /metrics: the Snapshot in the Prometheus text format (the metric contract in docs/metrics.md).
#pragma once

#include <string>

#include "agent/snapshot.hpp"

namespace portman::agent {

struct BuildInfo {
  std::string version;
  std::string revision;
};

// Text exposition format 0.0.4 (agent/exposition.hpp), byte for byte what prometheus-cpp's
// TextSerializer writes for the same families (tests/unit/agent/test_exposition.cpp).
std::string render_metrics(const Snapshot& snap, const BuildInfo& build);

}  // namespace portman::agent
