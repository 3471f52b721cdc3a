#include "collectors/docker_model.hpp"

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

namespace portman {
namespace {

using nlohmann::json;

// The value of `key` when it is a string, else empty: the API leaves out or nulls what is unset.
std::string str(const json& obj, std::string_view key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::uint16_t> port_number(const json& obj, std::string_view key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_unsigned()) return std::nullopt;
  auto n = it->get<std::uint64_t>();
  if (n > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(n);
}

std::optional<Protocol> protocol_of(std::string_view text) {
  if (text == "tcp" || text.empty()) return Protocol::tcp;  // the API's default
  if (text == "udp") return Protocol::udp;
  return std::nullopt;  // sctp
}

// Parses `text` as JSON without letting nlohmann's exceptions out. `what` names the endpoint.
Result<json> parse_json(std::string_view text, std::string_view what) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return make_error(ErrorKind::invalid_data,
                      "Docker Engine API " + std::string(what) + ": the answer is not valid JSON");
  return doc;
}

Error not_shaped(std::string_view what, std::string_view expected) {
  return make_error(ErrorKind::invalid_data, "Docker Engine API " + std::string(what) +
                                                 ": expected " + std::string(expected));
}

DockerContainer container_from(const json& c) {
  DockerContainer out;
  out.id = str(c, "Id");
  if (auto names = c.find("Names");
      names != c.end() && names->is_array() && !names->empty() && names->front().is_string()) {
    std::string name = names->front().get<std::string>();
    out.name = name.starts_with('/') ? name.substr(1) : name;
  }
  out.image = str(c, "Image");
  out.state = str(c, "State");
  if (auto hc = c.find("HostConfig"); hc != c.end()) out.network_mode = str(*hc, "NetworkMode");
  if (auto ports = c.find("Ports"); ports != c.end() && ports->is_array()) {
    for (const json& p : *ports) {
      auto proto = protocol_of(str(p, "Type"));
      auto priv = port_number(p, "PrivatePort");
      if (!proto || !priv) continue;
      out.ports.push_back({str(p, "IP"), *priv, port_number(p, "PublicPort").value_or(0), *proto});
    }
  }
  if (auto ns = c.find("NetworkSettings"); ns != c.end() && ns->is_object()) {
    if (auto nets = ns->find("Networks"); nets != ns->end() && nets->is_object()) {
      for (const auto& [name, net] : nets->items()) {
        for (const char* key : {"IPAddress", "GlobalIPv6Address"}) {
          std::string ip = str(net, key);
          if (!ip.empty()) out.addresses.push_back(std::move(ip));
        }
      }
    }
  }
  if (auto labels = c.find("Labels"); labels != c.end()) {
    out.compose_project = str(*labels, "com.docker.compose.project");
    out.compose_service = str(*labels, "com.docker.compose.service");
    out.swarm_service_id = str(*labels, "com.docker.swarm.service.id");
    out.swarm_service_name = str(*labels, "com.docker.swarm.service.name");
  }
  return out;
}

SwarmService service_from(const json& s) {
  SwarmService out;
  out.id = str(s, "ID");
  const json* spec = nullptr;
  if (auto it = s.find("Spec"); it != s.end() && it->is_object()) spec = &*it;
  if (spec) {
    out.name = str(*spec, "Name");
    if (auto tt = spec->find("TaskTemplate"); tt != spec->end() && tt->is_object())
      if (auto cs = tt->find("ContainerSpec"); cs != tt->end()) out.image = str(*cs, "Image");
  }
  // Endpoint.Ports is what is in effect; Spec.EndpointSpec.Ports what was asked (published
  // ports chosen by Swarm appear only in the former).
  if (auto ep = s.find("Endpoint"); ep != s.end() && ep->is_object()) {
    if (auto ports = ep->find("Ports"); ports != ep->end() && ports->is_array()) {
      for (const json& p : *ports) {
        auto proto = protocol_of(str(p, "Protocol"));
        auto target = port_number(p, "TargetPort");
        auto published = port_number(p, "PublishedPort");
        if (!proto || !target || !published) continue;
        std::string mode = str(p, "PublishMode");
        out.ports.push_back({*proto, *target, *published, mode.empty() ? "ingress" : mode});
      }
    }
  }
  return out;
}

}  // namespace

const DockerContainer* DockerModel::container_by_id(std::string_view id) const {
  auto it = std::find_if(containers.begin(), containers.end(),
                         [&](const DockerContainer& c) { return c.id == id; });
  return it == containers.end() ? nullptr : &*it;
}

Result<std::vector<DockerContainer>> parse_containers(std::string_view text) {
  constexpr std::string_view what = "/containers/json";
  auto doc = parse_json(text, what);
  if (!doc) return doc.error();
  if (!doc->is_array()) return not_shaped(what, "an array of containers");
  std::vector<DockerContainer> out;
  out.reserve(doc->size());
  for (const json& c : *doc) {
    if (!c.is_object() || str(c, "Id").empty())
      return not_shaped(what, "each container to be an object with an \"Id\"");
    out.push_back(container_from(c));
  }
  return out;
}

Result<bool> parse_swarm_active(std::string_view text) {
  constexpr std::string_view what = "/info";
  auto doc = parse_json(text, what);
  if (!doc) return doc.error();
  if (!doc->is_object()) return not_shaped(what, "an object");
  auto swarm = doc->find("Swarm");
  return swarm != doc->end() && str(*swarm, "LocalNodeState") == "active";
}

Result<std::vector<SwarmService>> parse_services(std::string_view text) {
  constexpr std::string_view what = "/services";
  auto doc = parse_json(text, what);
  if (!doc) return doc.error();
  if (!doc->is_array()) return not_shaped(what, "an array of services");
  std::vector<SwarmService> out;
  out.reserve(doc->size());
  for (const json& s : *doc) {
    if (!s.is_object() || str(s, "ID").empty())
      return not_shaped(what, "each service to be an object with an \"ID\"");
    out.push_back(service_from(s));
  }
  return out;
}

}  // namespace portman
