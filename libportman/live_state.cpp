#include "libportman/live_state.hpp"

#include <algorithm>
#include <chrono>

namespace portman {

const Owner* ListeningSocket::main_owner() const {
  const Owner* best = nullptr;
  for (const Owner& o : owners) {
    if (o.pid == 1 && owners.size() > 1) continue;  // socket activation: the service owns it
    if (!best || o.pid < best->pid) best = &o;
  }
  return best;
}

}  // namespace portman

namespace portman {

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string short_container_id(std::string_view id) {
  return std::string(id.substr(0, 12));
}

std::string ListeningSocket::container() const {
  if (workload) return workload->name;
  const Owner* o = main_owner();
  return o ? short_container_id(o->container) : std::string();
}

bool ListeningSocket::on_host(const LiveState& live) const {
  return netns.empty() || live.netns.empty() || netns == live.netns;
}

std::vector<PortKey> LiveState::listening_ports(bool on_host_only) const {
  std::vector<PortKey> out;
  out.reserve(sockets.size());
  for (const ListeningSocket& s : sockets)
    if (!on_host_only || s.on_host(*this)) out.push_back(s.key());
  if (!std::is_sorted(out.begin(), out.end())) std::sort(out.begin(), out.end());  // a scan's are
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string ListeningSocket::holder() const {
  if (workload) return workload->name;
  const Owner* o = main_owner();
  return o ? o->process : std::string();
}

}  // namespace portman
