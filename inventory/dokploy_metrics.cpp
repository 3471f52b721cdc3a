#include "inventory/dokploy_metrics.hpp"

#include <set>

#include "inventory/dokploy_parse.hpp"

namespace portman::dokploy {
namespace {

constexpr std::string_view kPortLabels[] = {
    "port", "protocol", "dokploy_project", "dokploy_service", "dokploy_kind", "publish_mode"};

}  // namespace

const MetricSpec kUpMetric{"portman_dokploy_up",
                           MetricType::gauge,
                           "1 if the last fetch from Dokploy's API succeeded, 0 if it failed.",
                           {}};
const MetricSpec kLastSuccessMetric{
    "portman_dokploy_last_success_timestamp_seconds",
    MetricType::gauge,
    "Unix time of the last successful fetch from Dokploy's API; 0 while none has succeeded.",
    {}};
const MetricSpec kPortInfoMetric{
    "portman_dokploy_port_info", MetricType::gauge,
    "1 per host port that Dokploy publishes on this server (dokploy.server_id), from the last "
    "successful fetch.",
    kPortLabels};
const MetricSpec* const kMetrics[3] = {&kUpMetric, &kLastSuccessMetric, &kPortInfoMetric};

void write_samples(const InventoryState& state, const std::optional<std::string>& server_id,
                   std::vector<Sample>& out) {
  out.push_back({&kUpMetric, {}, state.up ? 1.0 : 0.0});
  out.push_back({&kLastSuccessMetric, {}, state.last_success});
  if (!state.last_good) return;
  // Two services may publish one port (a collision): one series each, never the same twice.
  std::set<std::vector<std::string>> seen;
  for (const Service* s : state.last_good->on_server(server_id)) {
    for (const PublishedPort& p : s->ports) {
      std::string service = s->name;
      if (!s->environment_is_default && !s->environment.empty()) service += "@" + s->environment;
      if (!p.compose_service.empty()) service += "/" + p.compose_service;
      std::vector<std::string> labels = {std::to_string(p.published),
                                         std::string(to_string(p.protocol)),
                                         s->project,
                                         service,
                                         std::string(to_string(s->kind)),
                                         p.publish_mode};
      if (seen.insert(labels).second) out.push_back({&kPortInfoMetric, std::move(labels), 1});
    }
  }
}

}  // namespace portman::dokploy
