// The explicit table of inventory sources.
#include "inventory/dokploy_source.hpp"
#include "inventory/inventory_source.hpp"

namespace portman {

std::span<const InventorySpec> inventory_table() {
  static const InventorySpec kTable[] = {dokploy::inventory_spec()};
  return kTable;
}

}  // namespace portman
