#include "libportman/live_state.hpp"

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

std::string short_container_id(std::string_view id) {
  return std::string(id.substr(0, 12));
}

std::string ListeningSocket::container() const {
  if (workload) return workload->name;
  const Owner* o = main_owner();
  return o ? short_container_id(o->container) : std::string();
}

std::string ListeningSocket::holder() const {
  if (workload) return workload->name;
  const Owner* o = main_owner();
  return o ? o->process : std::string();
}

}  // namespace portman
