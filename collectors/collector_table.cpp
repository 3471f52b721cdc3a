// The explicit table of collectors (no static self-registration: linkers drop unused statics).
#include "collectors/collector.hpp"
#include "collectors/docker_collector.hpp"
#include "collectors/netns.hpp"
#include "collectors/owners.hpp"
#include "collectors/sockets.hpp"

namespace portman {
namespace {

// Collectors without settings of their own build from the shared options alone.
template <std::unique_ptr<Collector> (*Make)(const CollectorOptions&)>
Result<std::unique_ptr<Collector>> from_shared(const CollectorContext& c) {
  return Make(c.shared);
}

}  // namespace

std::span<const CollectorSpec> collector_table() {
  static const CollectorSpec kTable[] = {
      {"sockets",
       true,
       "listening TCP and bound UDP sockets (netlink sock_diag, /proc/net fallback)",
       {},
       {},
       &from_shared<make_sockets_collector>},
      // Before owners, so that the owners collector finds who holds the sockets it adds.
      {"netns",
       false,
       "listeners inside containers' own network namespaces (opt-in: one series per container "
       "socket)",
       {},
       {},
       &from_shared<make_netns_collector>},
      {"owners", true,
       "processes owning each socket, with user, container and systemd unit (BPF iterator or "
       "/proc walk)",
       owners_options(), owners_metrics(), &make_owners_from_settings},
      {"docker", true, "containers and Swarm services behind published ports (Docker's Engine API)",
       docker_options(), docker_metrics(), &make_docker_collector},
  };
  return kTable;
}

}  // namespace portman
