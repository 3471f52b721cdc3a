// The explicit table of inventory sources.
#include "inventory/inventory_source.hpp"

namespace portman {

std::span<const InventorySpec> inventory_table() {
  // Rows are added here; Dokploy's is the first.
  return {};
}

}  // namespace portman
