// The `docker` collector: asks Docker's Engine API over its unix socket which containers and
// Swarm services publish which ports, and names them on the sockets that docker-proxy, dockerd
// or a --network host container hold. Runs after `owners`, whose holders it explains.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "collectors/collector.hpp"

namespace portman {

// portman_docker_up: 1 when the Engine API answered the last scan.
extern const MetricSpec kDockerUpMetric;

std::span<const OptionSpec> docker_options();
std::span<const MetricSpec* const> docker_metrics();

// The socket path of a docker.host value ("unix:///var/run/docker.sock" -> its path). Only
// unix:// is accepted: a tcp:// daemon would need TLS settings portman does not take, and the
// attribution reads this host's /proc anyway. `where` names the setting for the message.
Result<std::string> docker_socket_path(std::string_view host, std::string_view where);

Result<std::unique_ptr<Collector>> make_docker_collector(const CollectorContext& context);

}  // namespace portman
