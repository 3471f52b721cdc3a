#include "libportman/sources.hpp"

#include <algorithm>

#include "collectors/collector.hpp"
#include "inventory/inventory_source.hpp"

namespace portman {

bool SourcePlan::enabled(std::string_view name) const {
  return std::find(collectors.begin(), collectors.end(), name) != collectors.end() ||
         std::find(inventories.begin(), inventories.end(), name) != inventories.end();
}

const SourceSettings& SourcePlan::settings_of(std::string_view name) const {
  static const SourceSettings kNone;
  auto it = settings.find(name);
  return it == settings.end() ? kNone : it->second;
}

std::vector<SourceSection> source_sections() {
  std::vector<SourceSection> out;
  for (const CollectorSpec& c : collector_table())
    if (!c.options.empty()) out.push_back({c.name, c.help, c.options});
  for (const InventorySpec& i : inventory_table()) out.push_back({i.name, i.help, i.options});
  return out;
}

namespace {

std::string known_sources() {
  std::string out;
  for (const CollectorSpec& c : collector_table())
    out += (out.empty() ? "" : ", ") + std::string(c.name);
  for (const InventorySpec& i : inventory_table()) out += ", " + std::string(i.name);
  return out;
}

// Defaults, then the environment, then portman.yml, then the flags.
SourceSettings settings_for(std::string_view name, std::span<const OptionSpec> options,
                            const Config& config, const Getenv& getenv) {
  SourceSettings s{std::string(name), options};
  s.apply_environment(getenv);
  if (auto it = config.source_sections.find(std::string(name)); it != config.source_sections.end())
    for (const auto& [key, value] : it->second) s.set(key, value.text, value.origin);
  return s;
}

bool switched(const Config& config, const SourceFlags& flags, std::string_view name, bool dflt) {
  bool on = dflt;
  if (auto it = config.agent.collectors.find(std::string(name));
      it != config.agent.collectors.end())
    on = it->second;
  if (auto it = flags.enabled.find(std::string(name)); it != flags.enabled.end()) on = it->second;
  return on;
}

}  // namespace

Result<SourcePlan> plan_sources(const Config& config, const SourceFlags& flags,
                                const Getenv& getenv) {
  SourcePlan plan;
  for (const CollectorSpec& c : collector_table()) {
    plan.settings.emplace(std::string(c.name), settings_for(c.name, c.options, config, getenv));
  }
  for (const InventorySpec& i : inventory_table())
    plan.settings.emplace(std::string(i.name), settings_for(i.name, i.options, config, getenv));

  for (const auto& [name, on] : flags.enabled)
    if (!plan.settings.count(name))
      return make_error(ErrorKind::bad_input, "--" + std::string(on ? "" : "no-") + "collector." +
                                                  name +
                                                  ": no such source; valid: " + known_sources());
  for (const auto& [dotted, value] : flags.settings) {
    auto dot = dotted.find('.');
    auto it = dot == std::string::npos
                  ? plan.settings.end()
                  : plan.settings.find(std::string_view(dotted).substr(0, dot));
    std::string key = dot == std::string::npos ? dotted : dotted.substr(dot + 1);
    bool known = it != plan.settings.end() &&
                 std::any_of(it->second.options().begin(), it->second.options().end(),
                             [&](const OptionSpec& o) { return o.key == key && !o.secret; });
    if (!known) return make_error(ErrorKind::bad_input, "--" + dotted + ": no such setting");
    it->second.set(key, value, "--" + dotted);
  }

  for (const CollectorSpec& c : collector_table())
    if (switched(config, flags, c.name, c.enabled_by_default)) plan.collectors.emplace_back(c.name);
  for (const InventorySpec& i : inventory_table()) {
    bool configured = plan.settings_of(i.name).has(i.enabled_when_set);
    if (switched(config, flags, i.name, configured)) plan.inventories.emplace_back(i.name);
  }
  return plan;
}

Result<Scanner> make_scanner(const CollectorOptions& options, const SourcePlan& plan) {
  std::vector<Scanner::Entry> entries;
  for (const CollectorSpec& c : collector_table()) {
    if (!plan.enabled(c.name)) continue;
    auto made = c.make(CollectorContext{options, plan.settings_of(c.name)});
    if (!made) return made.error();
    entries.push_back({std::string(c.name), std::move(*made)});
  }
  return Scanner(std::move(entries));
}

}  // namespace portman

namespace portman {
namespace {

const InventorySpec* inventory_spec(std::string_view name) {
  for (const InventorySpec& i : inventory_table())
    if (i.name == name) return &i;
  return nullptr;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::vector<InventoryState> fetch_inventories(const SourcePlan& plan) {
  std::vector<InventoryState> out;
  for (const std::string& name : plan.inventories) {
    const InventorySpec* spec = inventory_spec(name);
    InventoryState state;
    state.source = name;
    auto source = spec->make(plan.settings_of(name));
    if (!source) {
      state.error = source.error().message;
    } else if (auto got = (*source)->fetch(); !got) {
      state.error = got.error().message;
    } else {
      state.last_good = std::make_shared<const dokploy::Inventory>(std::move(*got));
      state.up = true;
      state.last_success = unix_now();
    }
    out.push_back(std::move(state));
  }
  return out;
}

void add_inventory_findings(std::span<const InventoryState> inventories, const SourcePlan& plan,
                            const Registry& registry, const LiveState& live, const Config& config,
                            std::vector<Finding>& findings) {
  bool added = false;
  for (const InventoryState& state : inventories) {
    const InventorySpec* spec = inventory_spec(state.source);
    if (!spec || !state.last_good || !spec->findings) continue;
    spec->findings(*state.last_good, plan.settings_of(state.source), registry, live, config,
                   findings);
    added = true;
  }
  if (added) sort_findings(findings);
}

std::vector<Sample> inventory_samples(std::span<const InventoryState> inventories,
                                      const SourcePlan& plan) {
  std::vector<Sample> out;
  for (const InventoryState& state : inventories)
    if (const InventorySpec* spec = inventory_spec(state.source); spec && spec->samples)
      spec->samples(state, plan.settings_of(state.source), out);
  return out;
}

}  // namespace portman

namespace portman {

std::vector<Error> source_setting_errors(const CollectorOptions& options, const SourcePlan& plan) {
  std::vector<Error> out;
  for (const CollectorSpec& c : collector_table())
    if (plan.enabled(c.name))
      if (auto made = c.make(CollectorContext{options, plan.settings_of(c.name)}); !made)
        out.push_back(made.error());
  for (const InventorySpec& i : inventory_table())
    if (plan.enabled(i.name))
      if (auto made = i.make(plan.settings_of(i.name)); !made) out.push_back(made.error());
  return out;
}

}  // namespace portman
