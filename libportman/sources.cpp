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
                             [&](const OptionSpec& o) { return o.key == key; });
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
