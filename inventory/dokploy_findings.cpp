#include "inventory/dokploy_findings.hpp"

#include <algorithm>
#include <map>

#include "inventory/dokploy_parse.hpp"

namespace portman::dokploy {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string json_string(const Json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct Publisher {
  const Service* service;
  const PublishedPort* port;
};

// "storefront/shop-web (application, 8080 -> 3000, ingress)".
std::string describe(const Publisher& p) {
  std::string out = display_name(*p.service);
  if (!p.port->compose_service.empty()) out += "/" + p.port->compose_service;
  out += " (" + std::string(to_string(p.service->kind)) + ", " + std::to_string(p.port->published) +
         " -> " + std::to_string(p.port->target) + ", " + p.port->publish_mode +
         (p.port->host_ip.empty() ? "" : " on " + p.port->host_ip) + ")";
  return out;
}

std::string list(const std::vector<Publisher>& ps) {
  std::string out;
  for (std::size_t i = 0; i < ps.size(); ++i)
    out += (i == 0 ? "" : i + 1 == ps.size() ? " and " : ", ") + describe(ps[i]);
  return out;
}

bool is_platform(PortKey key) {
  return std::any_of(std::begin(kPlatformPorts), std::end(kPlatformPorts),
                     [&](const PlatformPort& p) { return p.key == key; });
}

// Two bindings meet unless both name an address and the addresses differ.
bool overlap(const PublishedPort& a, const PublishedPort& b) {
  return a.host_ip.empty() || b.host_ip.empty() || a.host_ip == b.host_ip ||
         a.host_ip == "0.0.0.0" || b.host_ip == "0.0.0.0" || a.host_ip == "::" || b.host_ip == "::";
}

// The publishers that meet another one of a different service (or compose service).
std::vector<Publisher> colliding(const std::vector<Publisher>& ps) {
  std::vector<Publisher> out;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    bool hit = false;
    for (std::size_t j = 0; j < ps.size() && !hit; ++j) {
      if (i == j) continue;
      bool same_service = ps[i].service == ps[j].service &&
                          ps[i].port->compose_service == ps[j].port->compose_service;
      hit = !same_service && overlap(*ps[i].port, *ps[j].port);
    }
    if (hit) out.push_back(ps[i]);
  }
  return out;
}

}  // namespace

bool entry_matches(const Entry& entry, const Service& s, const PublishedPort& port) {
  if (auto link = entry.json.find("dokploy"); link != entry.json.end() && link->is_object()) {
    std::string kind = json_string(*link, "kind");
    if (!kind.empty() && kind != to_string(s.kind)) return false;
    std::string id = json_string(*link, "id");
    if (!id.empty()) return id == s.id;
    std::string project = json_string(*link, "project");
    std::string service = json_string(*link, "service");
    std::string environment = json_string(*link, "environment");
    if (!project.empty() && !same_name(project, s.project)) return false;
    if (!environment.empty() && !same_name(environment, s.environment)) return false;
    return same_name(service, s.name) || (!port.compose_service.empty() &&
                                          same_name(service, s.name + "/" + port.compose_service));
  }
  const std::string& name = entry.service;
  if (name.empty()) return false;
  std::vector<std::string> names = {s.name, s.app_name, s.project + "/" + s.name,
                                    s.project + "/" + s.name + "@" + s.environment};
  if (!port.compose_service.empty()) {
    names.push_back(port.compose_service);
    names.push_back(s.name + "/" + port.compose_service);
    names.push_back(s.project + "/" + s.name + "/" + port.compose_service);
  }
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return !n.empty() && same_name(n, name); });
}

std::vector<Finding> dokploy_findings(const Inventory& inventory,
                                      const std::optional<std::string>& server_id,
                                      const Registry& registry, const Config& config) {
  std::map<PortKey, std::vector<Publisher>> by_key;
  for (const Service* s : inventory.on_server(server_id)) {
    if (!s->error.empty()) continue;  // its ports are unknown, not absent
    for (const PublishedPort& p : s->ports) by_key[p.key()].push_back({s, &p});
  }
  std::vector<Finding> out;
  for (const auto& [key, publishers] : by_key) {
    const Entry* entry = registry.find(key);
    const std::string port = std::to_string(key.port) + "/" + std::string(to_string(key.protocol));
    const std::string registered = entry ? entry->service : std::string();
    if (!entry) {
      if (!is_platform(key) && !config.ignore.port_ignored(key.port))
        out.push_back({FindingKind::dokploy_unregistered, key, "", "",
                       "Dokploy publishes " + port + " for " + list(publishers) +
                           "; the registry has no entry for it"});
    } else if (std::none_of(publishers.begin(), publishers.end(), [&](const Publisher& p) {
                 return entry_matches(*entry, *p.service, *p.port);
               })) {
      std::string whose = "'" + entry->service + "'";
      if (auto link = entry->json.find("dokploy"); link != entry->json.end() && link->is_object())
        whose += " (linked to Dokploy " + json_string(*link, "project") + "/" +
                 json_string(*link, "service") +
                 (json_string(*link, "id").empty() ? "" : ", id " + json_string(*link, "id")) + ")";
      out.push_back({FindingKind::dokploy_mismatch, key, registered, "",
                     "the registry gives " + port + " to " + whose +
                         ", but Dokploy publishes it for " + list(publishers)});
    }
    if (auto hit = colliding(publishers); !hit.empty())
      out.push_back({FindingKind::dokploy_collision, key, registered, "",
                     list(hit) + (hit.size() == 2 ? " both publish " : " all publish ") + port +
                         " on this server: only one can bind it (Dokploy does not check "
                         "application ports)"});
  }
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.key, a.kind) < std::tie(b.key, b.kind);
  });
  return out;
}

}  // namespace portman::dokploy
