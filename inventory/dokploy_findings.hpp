// What Dokploy's inventory adds to the comparison, for the services on this agent's server:
// ports Dokploy publishes that the registry lacks (dokploy_unregistered) or gives to another
// service (dokploy_mismatch), and ports two Dokploy services publish at once (dokploy_collision).
// Pure, like compare().
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "inventory/dokploy_model.hpp"
#include "libportman/config.hpp"
#include "libportman/findings.hpp"
#include "libportman/registry.hpp"

namespace portman::dokploy {

// Whether a registry entry stands for this Dokploy service: by its `dokploy` object (id, else
// project, service, environment and kind) when it has one, else by its service name ("shop-web",
// its Docker name, "storefront/shop-web", "storefront/shop-web@staging", or a compose service's
// name). Names compare without regard to case.
bool entry_matches(const Entry& entry, const Service& service, const PublishedPort& port);

// Sorted by port, protocol, then kind. Services whose details failed are left out (their ports
// are unknown); so are Dokploy's platform ports and ports the config ignores, for
// dokploy_unregistered.
std::vector<Finding> dokploy_findings(const Inventory& inventory,
                                      const std::optional<std::string>& server_id,
                                      const Registry& registry, const Config& config);

}  // namespace portman::dokploy
