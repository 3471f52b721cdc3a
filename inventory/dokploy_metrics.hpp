// The Dokploy source's metrics: whether the last fetch worked, when one last did, and one series
// per host port that Dokploy publishes on this agent's server.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory_source.hpp"
#include "libportman/metric_spec.hpp"

namespace portman::dokploy {

extern const MetricSpec kUpMetric;
extern const MetricSpec kLastSuccessMetric;
extern const MetricSpec kPortInfoMetric;
extern const MetricSpec* const kMetrics[3];

// From the last good inventory (kept when a fetch fails), for `server_id` only.
void write_samples(const InventoryState& state, const std::optional<std::string>& server_id,
                   std::vector<Sample>& out);

}  // namespace portman::dokploy
