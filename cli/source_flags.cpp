// The sources' flags, made from their table rows: each source's on/off switch and its settings.
// Global options, so that `scan`, `check`, `sync` and `agent` all take them.
#include "cli/commands.hpp"
#include "collectors/collector.hpp"
#include "inventory/inventory_source.hpp"

namespace portman::cli {
namespace {

void add_switch(CLI::App& app, SourceFlags& flags, std::string_view source, std::string_view help) {
  std::string name(source);
  app.add_flag_callback(
         "--collector." + name, [&flags, name] { flags.enabled[name] = true; },
         "Enable " + name + ": " + std::string(help))
      ->group("Sources");
  app.add_flag_callback(
         "--no-collector." + name, [&flags, name] { flags.enabled[name] = false; },
         "Disable " + name)
      ->group("Sources");
}

void add_settings(CLI::App& app, SourceFlags& flags, std::string_view source,
                  std::span<const OptionSpec> options) {
  for (const OptionSpec& o : options) {
    if (o.secret) continue;  // from the environment only
    std::string dotted = std::string(source) + "." + std::string(o.key);
    std::string help(o.help);
    if (!o.default_value.empty()) help += " (default " + std::string(o.default_value) + ")";
    if (!o.env.empty()) help += " [$" + std::string(o.env) + "]";
    app.add_option_function<std::string>(
           "--" + dotted, [&flags, dotted](const std::string& v) { flags.settings[dotted] = v; },
           help)
        ->group("Sources");
  }
}

}  // namespace

void add_source_flags(CLI::App& app, SourceFlags& flags) {
  for (const CollectorSpec& c : collector_table()) {
    add_switch(app, flags, c.name, c.help);
    add_settings(app, flags, c.name, c.options);
  }
  for (const InventorySpec& i : inventory_table()) {
    add_switch(app, flags, i.name, i.help);
    add_settings(app, flags, i.name, i.options);
  }
}

}  // namespace portman::cli
