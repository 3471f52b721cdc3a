// What Docker's Engine API says runs on this host: containers (running and stopped) with their
// published ports and labels, and Swarm services with theirs. Parsed from the API's JSON by pure
// functions (text in, model out) so that tests feed them recorded responses; fetching lives in
// docker_collector.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libportman/port.hpp"
#include "libportman/result.hpp"

namespace portman {

// One entry of a container's "Ports": a container port, published on the host or only exposed.
struct ContainerPort {
  std::string ip;                  // host address it is published on ("0.0.0.0", "::"), or empty
  std::uint16_t private_port = 0;  // in the container
  std::uint16_t public_port = 0;   // on the host; 0 when only exposed
  Protocol protocol = Protocol::tcp;
};

struct DockerContainer {
  std::string id;            // 64 hex
  std::string name;          // without the leading '/'
  std::string image;         // as Docker shows it ("nginx:1.25", "sha256:..." when untagged)
  std::string state;         // "running", "exited", "created"...
  std::string network_mode;  // HostConfig.NetworkMode: "default", "host", "bridge"...
  std::vector<ContainerPort> ports;    // sctp entries left out: portman sees tcp and udp only
  std::vector<std::string> addresses;  // its IP addresses on its networks (docker-proxy names one)
  std::string compose_project;         // com.docker.compose.project
  std::string compose_service;         // com.docker.compose.service
  std::string swarm_service_id;        // com.docker.swarm.service.id: a task of a Swarm service
  std::string swarm_service_name;      // com.docker.swarm.service.name
};

// One published port of a Swarm service (Endpoint.Ports).
struct ServicePort {
  Protocol protocol = Protocol::tcp;
  std::uint16_t target_port = 0;
  std::uint16_t published_port = 0;
  std::string publish_mode;  // "ingress" (the routing mesh) or "host"
};

struct SwarmService {
  std::string id;
  std::string name;
  std::string image;
  std::vector<ServicePort> ports;
};

struct DockerModel {
  std::vector<DockerContainer> containers;
  bool swarm_active = false;  // this node is in a Swarm (/info Swarm.LocalNodeState "active")
  std::vector<SwarmService> services;

  const DockerContainer* container_by_id(std::string_view id) const;
};

// GET /containers/json?all=1. invalid_data when the text is not the API's array of containers.
Result<std::vector<DockerContainer>> parse_containers(std::string_view json);
// GET /info: whether Swarm.LocalNodeState is "active".
Result<bool> parse_swarm_active(std::string_view json);
// GET /services.
Result<std::vector<SwarmService>> parse_services(std::string_view json);

}  // namespace portman
