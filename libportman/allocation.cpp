#include "libportman/allocation.hpp"

#include <algorithm>

namespace portman {

std::string_view to_string(PortState s) {
  switch (s) {
    case PortState::allocated:
      return "allocated";
    case PortState::unregistered:
      return "unregistered";
    case PortState::unavailable:
      return "unavailable";
    case PortState::free:
      return "free";
  }
  return "unknown";
}

PortPlanner::PortPlanner(const Config& config, const Registry& registry, const LiveState& live,
                         std::chrono::system_clock::time_point now)
    : config_(config), registry_(registry), listening_(live.listening_ports()) {
  // Any address, both families: a port busy on one address cannot be promised to a new service.
  for (const ArchivedPort& a : registry.archive()) {
    if (!a.released_at) continue;
    auto until = *a.released_at + config.quarantine;
    if (until > now) {
      auto& slot = quarantined_until_[a.key];
      slot = std::max(slot, until);
    }
  }
}

PortState PortPlanner::state(PortKey key) const {
  if (registry_.find(key)) return PortState::allocated;
  if (std::binary_search(listening_.begin(), listening_.end(), key)) return PortState::unregistered;
  if (!unavailable_reason(key).empty()) return PortState::unavailable;
  return PortState::free;
}

std::string PortPlanner::unavailable_reason(PortKey key) const {
  if (config_.is_reserved(key.port)) return "reserved in the config";
  if (config_.ignore.port_ignored(key.port)) return "ignored in the config";
  if (auto it = quarantined_until_.find(key); it != quarantined_until_.end())
    return "released recently, in quarantine until " + local_timestamp(it->second).substr(0, 19);
  return {};
}

std::vector<std::uint16_t> PortPlanner::free_ports(const PortRange& range, Protocol protocol,
                                                   size_t count) const {
  std::vector<std::uint16_t> out;
  for (int p = range.first; p <= range.last && out.size() < count; ++p) {
    auto port = static_cast<std::uint16_t>(p);
    if (state({port, protocol}) == PortState::free) out.push_back(port);
  }
  return out;
}

}  // namespace portman
