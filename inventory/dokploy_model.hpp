// What Dokploy says is deployed: services with the host ports they publish and their domains.
// Filled by the Dokploy client from any of the three project.all layouts; read by the findings,
// the metrics, `sync` and the nginx generator. Plain data, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libportman/port.hpp"

namespace portman::dokploy {

enum class ServiceKind : std::uint8_t {
  application,
  compose,
  postgres,
  mysql,
  mariadb,
  mongo,
  redis,
  libsql
};
std::string_view to_string(ServiceKind kind);
bool is_database(ServiceKind kind);

struct PublishedPort {
  std::uint16_t published = 0;  // host side
  std::uint16_t target = 0;     // container side
  Protocol protocol = Protocol::tcp;
  std::string publish_mode = "host";  // "host" or "ingress"
  std::string host_ip;                // compose "127.0.0.1:8080:80": the address; else empty
  std::string compose_service;        // compose: the service of the YAML that publishes it
  PortKey key() const { return {published, protocol}; }
};

struct Domain {
  std::string host;
  std::string path = "/";
  bool https = false;
  std::optional<std::uint16_t> port;  // container port the domain is routed to
  std::string compose_service;        // compose: the service it targets
  bool strip_path = false;
  std::string internal_path;  // prepended upstream when not "/"
};

struct Service {
  ServiceKind kind = ServiceKind::application;
  std::string id;        // applicationId, composeId, postgresId...
  std::string name;      // display name
  std::string app_name;  // Docker service name
  std::string project;
  std::string project_id;
  std::string environment;  // "production" when the layout has no environments (v1)
  bool environment_is_default = true;
  std::optional<std::string> server_id;  // nullopt: the Dokploy host itself
  std::string status;                    // applicationStatus / composeStatus
  std::string created_at;                // ISO-8601, as Dokploy wrote it
  std::vector<PublishedPort> ports;
  std::vector<Domain> domains;
  std::string error;  // why its details could not be fetched; ports are then unknown
};

// Dokploy's own ports, which no listing names: the UI and Traefik.
struct PlatformPort {
  PortKey key;
  std::string_view what;
};
inline constexpr PlatformPort kPlatformPorts[] = {
    {{3000, Protocol::tcp}, "Dokploy UI"},
    {{80, Protocol::tcp}, "Traefik HTTP"},
    {{443, Protocol::tcp}, "Traefik HTTPS"},
    {{443, Protocol::udp}, "Traefik HTTP/3"},
};

struct Inventory {
  int layout = 0;                     // 1, 2 or 3: how project.all answered (dokploy-api.md §3)
  std::vector<Service> services;      // every service of the organisation, any server
  std::vector<std::string> warnings;  // e.g. a compose port that is not predictable

  // The services that run where this agent runs (`server_id` of the config; nullopt = Dokploy
  // host).
  std::vector<const Service*> on_server(const std::optional<std::string>& server_id) const;
};

}  // namespace portman::dokploy
