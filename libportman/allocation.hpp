// Which ports can be handed out. Pure: the caller supplies the registry, the listening ports and
// the clock, and holds the registry lock so that the choice and the write are one step.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "libportman/config.hpp"
#include "libportman/live_state.hpp"
#include "libportman/registry.hpp"

namespace portman {

// The state of one port of a type's range; the four add up to the range's size.
enum class PortState {
  allocated,     // registered
  unregistered,  // listening, not registered
  unavailable,   // reserved, ignored, or released less than `quarantine` ago
  free,          // what allocate could hand out now
};

std::string_view to_string(PortState s);

class PortPlanner {
 public:
  PortPlanner(const Config& config, const Registry& registry, const LiveState& live,
              std::chrono::system_clock::time_point now);

  PortState state(PortKey key) const;
  // The lowest free ports of the range, at most `count`.
  std::vector<std::uint16_t> free_ports(const PortRange& range, Protocol protocol,
                                        size_t count) const;
  // Why a port is unavailable, for messages ("reserved", "in quarantine until ..."); empty if not.
  std::string unavailable_reason(PortKey key) const;

 private:
  const Config& config_;
  const Registry& registry_;
  std::vector<PortKey> listening_;  // sorted
  std::map<PortKey, std::chrono::system_clock::time_point> quarantined_until_;
};

}  // namespace portman
