#include "libportman/own_socket.hpp"

#include <algorithm>

namespace portman {

bool is_portman_agent(const Owner& owner) {
  if (owner.process != "portman") return false;
  // cmdline is argv joined with spaces: the command is a word after argv[0], after any global
  // options (`portman --config FILE agent`).
  std::string_view rest(owner.cmdline);
  rest.remove_prefix(std::min(rest.size(), rest.find(' ')));
  while (!rest.empty()) {
    rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(' ')));
    std::string_view word = rest.substr(0, rest.find(' '));
    if (word == "agent") return true;
    rest.remove_prefix(word.size());
  }
  return false;
}

bool held_by_portman_agent(const ListeningSocket& socket) {
  const Owner* o = socket.main_owner();
  return o && is_portman_agent(*o);
}

std::string_view service_name_of(const ListeningSocket& socket, const Registry& registry) {
  if (const Entry* e = registry.find(socket.key())) return e->service;
  if (held_by_portman_agent(socket)) return kAgentServiceName;
  return {};
}

}  // namespace portman
