#include "libportman/summary.hpp"

namespace portman {

// by_kind is indexed by the enum's value: kAllFindingKinds must list the kinds in that order.
static_assert([] {
  for (std::size_t i = 0; i < std::size(kAllFindingKinds); ++i)
    if (static_cast<std::size_t>(kAllFindingKinds[i]) != i) return false;
  return true;
}());

bool owner_unreadable(const ListeningSocket& socket, const LiveState& live) {
  return socket.owners.empty() && live.processes_unreadable > 0;
}

ScanSummary summarize(const Registry& registry, const LiveState& live,
                      std::span<const Finding> findings) {
  ScanSummary s;
  s.listening = live.sockets.size();
  s.registered = registry.entries().size();
  s.findings = findings.size();
  for (const Finding& f : findings) ++s.by_kind[static_cast<std::size_t>(f.kind)];
  for (const ListeningSocket& sock : live.sockets)
    s.sockets_owner_unknown += owner_unreadable(sock, live);
  s.processes_unreadable = live.processes_unreadable;
  return s;
}

}  // namespace portman
