// One scan's worth of truth, shared read-only by everything a request can ask for: the metrics,
// the landing page and /api/scan all render the same Snapshot, so they never disagree.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "inventory/inventory_source.hpp"
#include "libportman/config.hpp"
#include "libportman/findings.hpp"
#include "libportman/live_state.hpp"
#include "libportman/registry.hpp"

namespace portman::agent {

struct Snapshot {
  LiveState live;                            // sockets, owners, collector runs
  std::shared_ptr<const Registry> registry;  // the registry in use (last good one)
  std::shared_ptr<const Config> config;      // the config in use (last good one)
  std::vector<Finding> findings;             // compare(*registry, live, *config)
  std::string registry_path;                 // the file the agent reads
  bool registry_present = true;              // false: no file at registry_path
  bool registry_valid = true;  // false: the file is missing or invalid; the last good one in use
  double registry_last_reload_success = 0;   // unix seconds of the last good (re)load
  std::uint64_t listener_changes_total = 0;  // sockets that appeared or went away since start
  std::chrono::system_clock::time_point taken_at{};
  // The inventory sources (Dokploy) as last fetched in the background: the last good inventory,
  // whether the last fetch worked, and their series; never fetched by a scrape.
  std::vector<InventoryState> inventories;
  std::vector<Sample> inventory_samples;
};

}  // namespace portman::agent
