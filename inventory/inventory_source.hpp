// Inventory sources: what should be deployed (Dokploy), as opposed to the live collectors (what
// is). Each is its own files and one row of inventory_table(): its options (a section of
// portman.yml and --SECTION.KEY flags), the metrics it reports, the findings it adds, and a
// factory that can refuse bad settings.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/dokploy_model.hpp"
#include "libportman/config.hpp"
#include "libportman/findings.hpp"
#include "libportman/live_state.hpp"
#include "libportman/metric_spec.hpp"
#include "libportman/registry.hpp"
#include "libportman/result.hpp"
#include "libportman/source_settings.hpp"

namespace portman {

class InventorySource {
 public:
  virtual ~InventorySource() = default;
  // Asks now; blocking (bounded by the source's timeouts). The agent calls it from a thread of
  // its own, never from a scrape.
  virtual Result<dokploy::Inventory> fetch() = 0;
};

// The last fetch and the last good one, as the agent keeps them and the CLI gets them.
struct InventoryState {
  std::string source;                                   // its row's name
  std::shared_ptr<const dokploy::Inventory> last_good;  // nullptr until a fetch succeeds
  bool up = false;                                      // the last fetch succeeded
  double last_success = 0;  // unix time of the last good fetch, 0 if none
  std::string error;        // why the last fetch failed
};

struct InventorySpec {
  std::string_view name;  // its section of portman.yml, --collector.NAME
  std::string_view help;
  std::span<const OptionSpec> options;
  // Enabled unless turned off when this option is set (dokploy.url), off otherwise.
  std::string_view enabled_when_set;
  std::span<const MetricSpec* const> metrics;
  Result<std::unique_ptr<InventorySource>> (*make)(const SourceSettings&);
  // Its series for the agent (up, last success, one per published port).
  void (*samples)(const InventoryState&, const SourceSettings&, std::vector<Sample>&);
  // What it adds to the comparison, from the last good inventory.
  void (*findings)(const dokploy::Inventory&, const SourceSettings&, const Registry&,
                   const LiveState&, const Config&, std::vector<Finding>&);
};

std::span<const InventorySpec> inventory_table();

}  // namespace portman
