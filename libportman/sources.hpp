// Which sources run, and with which settings: decided here once, for every command and the agent
// alike. A source is a live collector (collectors/) or an inventory source (inventory/); each
// is on or off by its row's default, then `agent.collectors` in portman.yml, then
// --[no-]collector.NAME; its settings come from its section of portman.yml, the environment and
// --SECTION.KEY flags.
#pragma once

#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libportman/config.hpp"
#include "libportman/scan.hpp"
#include "libportman/source_settings.hpp"

namespace portman {

// What the command line said about sources.
struct SourceFlags {
  std::map<std::string, bool> enabled;          // --collector.NAME / --no-collector.NAME
  std::map<std::string, std::string> settings;  // "docker.host" -> value, from --docker.host
};

struct SourcePlan {
  std::vector<std::string> collectors;   // enabled live collectors, in table order
  std::vector<std::string> inventories;  // enabled inventory sources, in table order
  std::map<std::string, SourceSettings, std::less<>> settings;  // every source's, by name

  bool enabled(std::string_view name) const;
  const SourceSettings& settings_of(std::string_view name) const;
};

using Getenv = std::function<const char*(const char*)>;

// Refused when a flag names an unknown source or setting.
Result<SourcePlan> plan_sources(
    const Config& config, const SourceFlags& flags,
    const Getenv& getenv = [](const char* n) { return std::getenv(n); });

// The enabled collectors, built; refused when one of them refuses its settings.
Result<Scanner> make_scanner(const CollectorOptions& options, const SourcePlan& plan);

// Every source's section of portman.yml with its options, for the config reader and the docs.
struct SourceSection {
  std::string_view name;
  std::string_view help;
  std::span<const OptionSpec> options;
};
std::vector<SourceSection> source_sections();

}  // namespace portman

#include "inventory/inventory_source.hpp"

namespace portman {

// Asks every enabled inventory source once, now (the CLI; the agent polls in the background).
// A source that fails has up = false and its error; the others are unaffected.
std::vector<InventoryState> fetch_inventories(const SourcePlan& plan);

// Adds each inventory's findings (from its last good answer) to `findings`, kept sorted.
void add_inventory_findings(std::span<const InventoryState> inventories, const SourcePlan& plan,
                            const Registry& registry, const LiveState& live, const Config& config,
                            std::vector<Finding>& findings);

// Each inventory's own series (up, last success, ports) for the metrics.
std::vector<Sample> inventory_samples(std::span<const InventoryState> inventories,
                                      const SourcePlan& plan);

}  // namespace portman

namespace portman {

// Builds every enabled source without running it: what each refuses in its settings (a tcp://
// docker.host, a key file others can read), for `validate`.
std::vector<Error> source_setting_errors(const CollectorOptions& options, const SourcePlan& plan);

}  // namespace portman
