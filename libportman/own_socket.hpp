// portman's own sockets: a socket held by a running `portman agent` belongs to the agent on every
// host, with or without an entry in the registry. The CLI and the agent apply this one rule, so
// that `portman scan --json` and the agent's /api/scan agree, and no agent reports itself as an
// unregistered port.
#pragma once

#include <algorithm>
#include <iterator>
#include <string_view>

#include "libportman/live_state.hpp"
#include "libportman/registry.hpp"

namespace portman {

// The service name an agent's own socket carries when the registry has no entry for it.
inline constexpr std::string_view kAgentServiceName = "portman-agent";

// A process named `portman` (its comm) with `agent` among its arguments.
bool is_portman_agent(const Owner& owner);

// The socket's main owner is a portman agent.
bool held_by_portman_agent(const ListeningSocket& socket);
inline bool held_by_portman_agent(const ListeningSocket* socket) {
  return held_by_portman_agent(*socket);
}

// A port is the agent's own when something listens on it and every socket there is the agent's
// (sockets or pointers to them, as the callers hold them).
template <class Sockets>
bool port_held_by_portman_agent(const Sockets& sockets) {
  return !std::empty(sockets) && std::all_of(std::begin(sockets), std::end(sockets),
                                             [](auto s) { return held_by_portman_agent(s); });
}

// The service a socket belongs to: its registry entry's; kAgentServiceName for an agent's own
// socket without an entry; empty otherwise. Points into `registry` or at a constant.
std::string_view service_name_of(const ListeningSocket& socket, const Registry& registry);

}  // namespace portman
