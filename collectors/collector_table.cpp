// The explicit table of collectors (no static self-registration: linkers drop unused statics).
#include "collectors/collector.hpp"
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
      {"owners",
       true,
       "processes owning each socket, with user, container and systemd unit",
       {},
       {},
       &from_shared<make_owners_collector>},
  };
  return kTable;
}

}  // namespace portman
