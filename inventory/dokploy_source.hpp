// The Dokploy inventory source: its row of inventory_table() (options of `dokploy:`, metrics,
// findings, factory).
#pragma once

#include <memory>

#include "inventory/dokploy_client.hpp"
#include "inventory/inventory_source.hpp"

namespace portman::dokploy {

InventorySpec inventory_spec();

// The source over a transport of the caller's (tests); the row's factory uses HTTP.
std::unique_ptr<InventorySource> make_source(ClientOptions options, Transport transport);

// dokploy.server_id: nullopt (unset or empty) is the Dokploy host.
std::optional<std::string> configured_server(const SourceSettings& settings);

}  // namespace portman::dokploy
