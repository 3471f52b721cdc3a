// Docker Engine API answers: /containers/json, /info and /services, then the attribution of
// sockets to the containers and services they describe.
#include <string>

#include "collectors/docker_attribution.hpp"
#include "collectors/docker_model.hpp"
#include "fuzz/fuzz_input.hpp"
#include "libportman/live_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = portman::fuzz::split_parts(portman::fuzz::as_text(data, size));
  portman::DockerModel model;
  auto containers = portman::parse_containers(parts[0]);
  if (containers) model.containers = std::move(*containers);
  if (parts.size() > 1) {
    auto swarm = portman::parse_swarm_active(parts[1]);
    model.swarm_active = swarm && *swarm;
  }
  if (parts.size() > 2) {
    auto services = portman::parse_services(parts[2]);
    if (services) model.services = std::move(*services);
  }
  // Sockets on every published port, held by docker-proxy or by a process in the container, so
  // that attribution looks each one up.
  portman::LiveState state;
  for (const auto& c : model.containers)
    for (const auto& p : c.ports) {
      portman::ListeningSocket s;
      s.protocol = p.protocol;
      s.address = p.ip.empty() ? "0.0.0.0" : p.ip;
      s.port = p.public_port;
      portman::Owner proxy{.pid = 100, .process = "docker-proxy", .exe = "/usr/bin/docker-proxy"};
      proxy.cmdline = "/usr/bin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port " +
                      std::to_string(p.public_port) + " -container-ip " +
                      (c.addresses.empty() ? std::string("172.17.0.2") : c.addresses[0]) +
                      " -container-port " + std::to_string(p.private_port);
      s.owners.push_back(proxy);
      state.sockets.push_back(s);
      portman::ListeningSocket inside = s;
      inside.owners = {portman::Owner{.pid = 200, .process = "nginx", .container = c.id}};
      state.sockets.push_back(inside);
    }
  for (const auto& svc : model.services)
    for (const auto& p : svc.ports) {
      portman::ListeningSocket s;
      s.protocol = p.protocol;
      s.address = "::";
      s.port = p.published_port;
      state.sockets.push_back(s);
    }
  portman::attribute_workloads(model, state);
  for (const auto& s : state.sockets) (void)s.holder();
  return 0;
}
