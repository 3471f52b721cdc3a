// The host ports a compose file publishes: `services.<name>.ports` in the short syntax
// ("[IP:][HOST:]CONTAINER[/PROTO]", ranges "8080-8081:80-81") and the long one ({target,
// published, protocol, mode, host_ip}), with ${VAR} interpolation from the compose's env text.
// Dokploy has no port column for compose, so this is the only way to know them. Pure: no I/O.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/dokploy_model.hpp"
#include "libportman/result.hpp"

namespace portman::dokploy {

using EnvVars = std::map<std::string, std::string, std::less<>>;

// KEY=VALUE lines, as Dokploy writes them to the compose's .env: blank lines and # comments
// skipped, `export ` accepted, one pair of surrounding quotes removed.
EnvVars parse_env_text(std::string_view text);

// Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:+alt},
// ${VAR+alt}, ${VAR:?message} and ${VAR?message} (refused when unset). An unset variable reads as
// empty, as Compose does; its name is added to `unset` when given.
Result<std::string> interpolate(std::string_view text, const EnvVars& env,
                                std::vector<std::string>* unset = nullptr);

struct ComposePorts {
  std::vector<PublishedPort> ports;   // compose_service set on each
  std::vector<std::string> warnings;  // entries left out: no predictable host port, or malformed
};

// `stack`: deployed with `docker stack deploy` (composeType "stack"), where a port is published
// through Swarm (mode ingress unless the long syntax says host); otherwise Compose binds every
// published port on the host ("host"). `source` names the text in errors. A document that is not
// YAML, or whose `services` is not a mapping, is an error; a bad port entry is a warning.
Result<ComposePorts> parse_compose_ports(std::string_view yaml, std::string_view env_text,
                                         bool stack, std::string_view source);

}  // namespace portman::dokploy
