#include "collectors/docker_attribution.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

#include "libportman/words.hpp"

namespace portman {
namespace {

constexpr std::string_view kProxyProcess = "docker-proxy";
constexpr std::string_view kDaemonProcess = "dockerd";

std::optional<std::uint16_t> to_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// The container's Ports entry published on `port`/`protocol` at `address`; an exact address
// first, then any address (a wildcard published on both families is held once per family).
const DockerContainer* container_publishing(const DockerModel& model, std::uint16_t port,
                                            Protocol protocol, std::string_view address) {
  const DockerContainer* loose = nullptr;
  for (const DockerContainer& c : model.containers) {
    for (const ContainerPort& p : c.ports) {
      if (p.public_port != port || p.protocol != protocol) continue;
      if (p.ip == address) return &c;
      if (!loose) loose = &c;
    }
  }
  return loose;
}

const DockerContainer* container_behind_proxy(const DockerModel& model, const ProxyTarget& t) {
  for (const DockerContainer& c : model.containers) {
    if (std::find(c.addresses.begin(), c.addresses.end(), t.container_ip) == c.addresses.end())
      continue;
    bool forwards = std::any_of(c.ports.begin(), c.ports.end(), [&](const ContainerPort& p) {
      return p.private_port == t.container_port && p.protocol == t.protocol;
    });
    if (forwards) return &c;
  }
  return container_publishing(model, t.host_port, t.protocol, t.host_ip);
}

const SwarmService* service_publishing(const DockerModel& model, std::uint16_t port,
                                       Protocol protocol) {
  for (const SwarmService& s : model.services)
    for (const ServicePort& p : s.ports)
      if (p.published_port == port && p.protocol == protocol) return &s;
  return nullptr;
}

std::optional<Workload> explain(const DockerModel& model, const ListeningSocket& s) {
  for (const Owner& o : s.owners) {
    if (o.process == kProxyProcess) {
      if (auto target = parse_docker_proxy_cmdline(o.cmdline))
        if (const DockerContainer* c = container_behind_proxy(model, *target))
          return workload_of(*c, std::string(kProxyProcess));
    } else if (o.process == kDaemonProcess) {
      if (const DockerContainer* c = container_publishing(model, s.port, s.protocol, s.address))
        return workload_of(*c, std::string(kDaemonProcess));
      if (const SwarmService* svc = service_publishing(model, s.port, s.protocol))
        return Workload{"service", svc->name, svc->id, svc->image, std::string(kDaemonProcess),
                        {},        {}};
    }
  }
  for (const Owner& o : s.owners)
    if (!o.container.empty())
      if (const DockerContainer* c = model.container_by_id(o.container)) return workload_of(*c, "");
  if (s.workload && !s.workload->id.empty())
    if (const DockerContainer* c = model.container_by_id(s.workload->id))
      return workload_of(*c, s.workload->via);
  return std::nullopt;
}

}  // namespace

std::optional<ProxyTarget> parse_docker_proxy_cmdline(std::string_view cmdline) {
  ProxyTarget t;
  std::optional<std::uint16_t> host_port, container_port;
  bool known_protocol = true;
  auto w = words(cmdline);
  for (std::size_t i = 0; i + 1 < w.size(); ++i) {
    std::string_view flag = w[i], value = w[i + 1];
    if (flag.starts_with("--")) flag.remove_prefix(1);  // Go's flag package takes both
    if (flag == "-proto") {
      known_protocol = value == "tcp" || value == "udp";
      t.protocol = value == "udp" ? Protocol::udp : Protocol::tcp;
    } else if (flag == "-host-ip") {
      t.host_ip = value;
    } else if (flag == "-host-port") {
      host_port = to_port(value);
    } else if (flag == "-container-ip") {
      t.container_ip = value;
    } else if (flag == "-container-port") {
      container_port = to_port(value);
    } else {
      continue;
    }
    ++i;
  }
  if (!known_protocol || !host_port || !container_port || t.container_ip.empty())
    return std::nullopt;
  t.host_port = *host_port;
  t.container_port = *container_port;
  return t;
}

Workload workload_of(const DockerContainer& c, std::string via) {
  Workload w;
  if (!c.swarm_service_name.empty()) {
    w.kind = "service";
    w.name = c.swarm_service_name;
    w.id = c.swarm_service_id;
  } else {
    w.kind = "container";
    w.name = c.name;
    w.id = c.id;
  }
  w.image = c.image;
  w.via = std::move(via);
  w.compose_project = c.compose_project;
  w.compose_service = c.compose_service;
  return w;
}

void attribute_workloads(const DockerModel& model, LiveState& state) {
  for (ListeningSocket& s : state.sockets)
    if (auto w = explain(model, s)) s.workload = std::make_shared<const Workload>(std::move(*w));
}

}  // namespace portman
