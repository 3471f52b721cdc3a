// /metrics: the Snapshot in the Prometheus text format (the metric contract in docs/metrics.md).
#pragma once

#include <string>

#include "agent/snapshot.hpp"

namespace portman::agent {

struct BuildInfo {
  std::string version;
  std::string revision;
};

// Text exposition format 0.0.4, built with prometheus-cpp's metric model and serializer.
std::string render_metrics(const Snapshot& snap, const BuildInfo& build);

}  // namespace portman::agent
