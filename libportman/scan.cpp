#include "libportman/scan.hpp"

#include <algorithm>
#include <chrono>
#include <tuple>

namespace portman {

bool Scanner::has(std::string_view name) const {
  return std::any_of(collectors_.begin(), collectors_.end(),
                     [&](const Entry& e) { return e.name == name; });
}

LiveState Scanner::scan(const ScanScope& scope) {
  LiveState state;
  for (Entry& e : collectors_) {
    auto start = std::chrono::steady_clock::now();
    Status st = e.collector->collect(scope, state);
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    state.runs.push_back({e.name, st.ok(), took.count(), st.ok() ? "" : st.error().message});
  }
  // The walk of /proc and Docker take a while; a socket closed meanwhile must not be reported.
  state.sockets_seen_at_unix_ms = unix_ms_now();
  for (Entry& e : collectors_) e.collector->confirm(scope, state);
  // One order for every consumer: port, protocol, family, address.
  std::sort(state.sockets.begin(), state.sockets.end(),
            [](const ListeningSocket& a, const ListeningSocket& b) {
              return std::tie(a.port, a.protocol, a.family, a.address, a.inode) <
                     std::tie(b.port, b.protocol, b.family, b.address, b.inode);
            });
  return state;
}

}  // namespace portman
