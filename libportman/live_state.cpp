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
