// The explicit table of collectors (no static self-registration: linkers drop unused statics).
#include "collectors/collector.hpp"
#include "collectors/owners.hpp"
#include "collectors/sockets.hpp"

namespace portman {

std::span<const CollectorSpec> collector_table() {
  static constexpr CollectorSpec kTable[] = {
      {"sockets", true,
       "listening TCP and bound UDP sockets (netlink sock_diag, /proc/net fallback)",
       &make_sockets_collector},
      {"owners", true, "processes owning each socket, with user, container and systemd unit",
       &make_owners_collector},
  };
  return kTable;
}

}  // namespace portman
