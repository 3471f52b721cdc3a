// Which container or Swarm service is behind each socket: pure functions over the live state and
// Docker's model, so that tests build both by hand.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "collectors/docker_model.hpp"
#include "libportman/live_state.hpp"

namespace portman {

// What a docker-proxy's command line says it forwards:
// "-proto tcp -host-ip 0.0.0.0 -host-port 18080 -container-ip 172.17.0.2 -container-port 80".
struct ProxyTarget {
  Protocol protocol = Protocol::tcp;
  std::string host_ip;
  std::uint16_t host_port = 0;
  std::string container_ip;
  std::uint16_t container_port = 0;
};

// nullopt when the command line lacks the container address or a port, or names sctp.
std::optional<ProxyTarget> parse_docker_proxy_cmdline(std::string_view cmdline);

// The workload a container stands for: its Swarm service when it is a task of one, else itself.
Workload workload_of(const DockerContainer& c, std::string via);

// Sets ListeningSocket::workload where Docker explains the socket:
// - held by docker-proxy: the container its command line forwards to (by container address and
//   port, else by the published host port);
// - held by dockerd (userland proxy off, or Swarm's routing mesh): the container publishing that
//   host port and protocol on that address, else the Swarm service publishing it;
// - held by a process whose cgroup names a container (--network host, or a socket read from a
//   container's own namespace): that container, with `via` empty.
// A workload already set (the netns collector names containers by id) is completed from the
// model when the model knows its container, and kept otherwise.
void attribute_workloads(const DockerModel& model, LiveState& state);

}  // namespace portman
