#include "libportman/scan.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <tuple>

namespace portman {

bool Scanner::has(std::string_view name) const {
  return std::any_of(collectors_.begin(), collectors_.end(),
                     [&](const Entry& e) { return e.name == name; });
}

void Scanner::prepare(const ScanScope& scope) {
  for (Entry& e : collectors_) e.collector->prepare(scope);
  prepared_ = scope;
}

LiveState Scanner::scan(const ScanScope& scope) {
  if (prepared_ != scope) prepare(scope);
  prepared_.reset();
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
  // One order for every consumer: port, protocol, family, address. Indices are sorted and each
  // socket moved once: sorting the sockets themselves moved each of them a dozen times.
  std::vector<std::size_t> order(state.sockets.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto& in = state.sockets;
  std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) {
    const ListeningSocket& a = in[i];
    const ListeningSocket& b = in[j];
    return std::tie(a.port, a.protocol, a.family, a.address, a.inode) <
           std::tie(b.port, b.protocol, b.family, b.address, b.inode);
  });
  std::vector<ListeningSocket> sorted;
  sorted.reserve(order.size());
  for (std::size_t i : order) sorted.push_back(std::move(state.sockets[i]));
  state.sockets = std::move(sorted);
  return state;
}

}  // namespace portman
