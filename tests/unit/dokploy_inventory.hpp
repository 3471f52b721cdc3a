// The Dokploy inventory that the fixtures in ../shared/fixtures/dokploy stand for (their README's
// "Expected host ports" table), built by hand: what the planner and the nginx generator are tested
// on, independent of the client that parses the responses.
#pragma once

#include <optional>
#include <string>

#include "inventory/dokploy_model.hpp"

namespace portman::test {

inline constexpr const char* kEdge01 = "srvEdge01_Lm4Qw9Zt2Xa";

inline dokploy::PublishedPort published(std::uint16_t host, std::uint16_t target,
                                        Protocol protocol = Protocol::tcp,
                                        std::string mode = "host", std::string compose = {},
                                        std::string host_ip = {}) {
  dokploy::PublishedPort p;
  p.published = host;
  p.target = target;
  p.protocol = protocol;
  p.publish_mode = std::move(mode);
  p.compose_service = std::move(compose);
  p.host_ip = std::move(host_ip);
  return p;
}

inline dokploy::Domain domain(std::string host, std::string path, bool https, std::uint16_t port,
                              std::string compose = {}) {
  dokploy::Domain d;
  d.host = std::move(host);
  d.path = std::move(path);
  d.https = https;
  d.port = port;
  d.compose_service = std::move(compose);
  d.internal_path = "/";
  return d;
}

inline dokploy::Service service(dokploy::ServiceKind kind, std::string id, std::string name,
                                std::string project, std::string environment,
                                std::string created_at,
                                std::optional<std::string> server_id = std::nullopt) {
  dokploy::Service s;
  s.kind = kind;
  s.id = std::move(id);
  s.name = std::move(name);
  s.project = std::move(project);
  s.app_name = s.project + "-" + s.name;
  s.environment = std::move(environment);
  s.environment_is_default = s.environment == "production";
  s.server_id = std::move(server_id);
  s.status = "done";
  s.created_at = std::move(created_at);
  return s;
}

// Three projects, ten services, two servers: the fixtures' data.
inline dokploy::Inventory fixture_inventory() {
  using K = dokploy::ServiceKind;
  dokploy::Inventory inv;
  inv.layout = 3;
  auto shop_web = service(K::application, "appShopWeb_7Hq2LxN0aK", "shop-web", "storefront",
                          "production", "2025-02-10T10:20:03.004Z");
  shop_web.ports = {published(8080, 3000, Protocol::tcp, "ingress")};
  shop_web.domains = {domain("shop.example.com", "/", true, 3000)};
  auto shop_db = service(K::postgres, "pgShopDb_E5vN2kQx8Lmk", "shop-db", "storefront",
                         "production", "2025-02-11T14:03:27.310Z");
  shop_db.ports = {published(5433, 5432)};
  auto shop_cache = service(K::redis, "rdsShopCache_H1pZ7tWk", "shop-cache", "storefront",
                            "production", "2025-02-11T14:03:27.310Z");
  auto staging = service(K::application, "appShopWebStg_Ye5rJ0b", "shop-web-staging", "storefront",
                         "staging", "2025-03-02T12:04:18.333Z");
  staging.status = "error";
  staging.ports = {published(8080, 3000, Protocol::tcp, "ingress")};
  staging.domains = {domain("staging.shop.example.com", "/", false, 3000)};
  auto collector = service(K::application, "appCollector_Mv6tQ9sL", "metrics-collector",
                           "analytics", "production", "2025-04-22T16:52:30.410Z", kEdge01);
  collector.ports = {published(8125, 8125, Protocol::udp), published(4318, 4318)};
  collector.domains = {domain("otel.example.com", "/v1", true, 4318)};
  auto observ = service(K::compose, "cmpObserv_Ut4hL8pZq2N", "observability", "analytics",
                        "production", "2025-04-23T11:31:09.655Z");
  observ.ports = {published(3001, 3000, Protocol::tcp, "host", "grafana"),
                  published(9091, 9090, Protocol::tcp, "host", "prometheus", "127.0.0.1"),
                  published(9125, 9125, Protocol::udp, "host", "statsd-exporter"),
                  published(9102, 9102, Protocol::tcp, "host", "statsd-exporter")};
  observ.domains = {domain("grafana.example.com", "/", true, 3000, "grafana"),
                    domain("metrics.example.com", "/prometheus", false, 9090, "prometheus")};
  auto events = service(K::mysql, "myEventsDb_Ga8sK3rV0k", "events-db", "analytics", "production",
                        "2025-04-23T14:03:27.310Z");
  events.ports = {published(3307, 3306)};
  auto raw = service(K::mongo, "mgRawEvents_Zb2fQ7nWk", "raw-events", "analytics", "production",
                     "2025-04-23T14:03:27.310Z");
  raw.ports = {published(27018, 27017)};
  auto wiki = service(K::mariadb, "mdbWikiDb_Rk6tV1yPsk9", "wiki-db", "internal-tools",
                      "production", "2025-06-06T14:03:27.310Z", kEdge01);
  wiki.ports = {published(3308, 3306)};
  auto legacy = service(K::postgres, "pgLegacy_Wm0xB4kNe7k9", "legacy-pg", "internal-tools",
                        "production", "2025-06-06T14:03:27.310Z");
  // project.all sorts newest first; the planner must not depend on the order.
  inv.services = {wiki, legacy,   collector, observ,     events,
                  raw,  shop_web, shop_db,   shop_cache, staging};
  return inv;
}

inline dokploy::Service* find_service(dokploy::Inventory& inv, const std::string& name) {
  for (auto& s : inv.services)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace portman::test
