// One file per command; each adds its subcommand and sets the Action to run once parsing is done.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "cli/context.hpp"
#include "inventory/dokploy_model.hpp"
#include "libportman/live_state.hpp"
#include "libportman/registry.hpp"

namespace portman::cli {

void add_list_command(CLI::App& app, Action& action);
void add_check_command(CLI::App& app, Action& action);
void add_scan_command(CLI::App& app, Action& action);
void add_allocate_command(CLI::App& app, Action& action);
void add_release_command(CLI::App& app, Action& action);
void add_update_command(CLI::App& app, Action& action);
void add_suggest_command(CLI::App& app, Action& action);
void add_validate_command(CLI::App& app, Action& action);
void add_version_command(CLI::App& app, Action& action);
void add_agent_command(CLI::App& app, Action& action);
void add_sync_command(CLI::App& app, Action& action);
// --collector.NAME, --no-collector.NAME and --SECTION.KEY for every source of the tables.
void add_source_flags(CLI::App& app, SourceFlags& flags);

// Helpers the commands share.
Result<PortKey> port_key(const std::string& port, bool udp);
// A missing file reads as an empty registry, and says so on stderr: a typo in the path must
// not look like an empty registry.
Result<Registry> read_registry(const Context& ctx);
// "registry FILE (from ORIGIN) does not exist", for the commands that report it their own way.
std::string missing_registry_message(const Context& ctx);
bool registry_missing(const Context& ctx);
// "port 5353/tcp is not registered", naming the other protocol's entry when there is one (the
// seed's users type 5353 for 5353/udp), else the missing registry, else `next` (what to do).
Error not_registered(const Context& ctx, const Registry& registry, PortKey key,
                     std::string_view next);
Result<LiveState> scan_live(const Context& ctx, const ScanScope& scope);
// What Dokploy says is deployed, with the dokploy: settings of the context; an Error (one line)
// when Dokploy cannot be reached or answers something else than its API.
Result<dokploy::Inventory> fetch_inventory(const Context& ctx);
// Locks the registry, loads it and calls `change`; saves only if it returns true. A refused
// change (an Error, or false) leaves the file untouched.
Status change_registry(const Context& ctx, const std::function<Result<bool>(Registry&)>& change);
std::string now_timestamp();
// Refuses a value that must be one of `valid`, naming them.
Status one_of(std::string_view what, const std::string& value,
              const std::vector<std::string>& valid);
Status check_text(std::string_view what, const std::string& value);
// The type named by -t (name or alias); nullptr for an empty name; bad_input when unknown.
Result<const ServiceType*> type_option(const Config& config, const std::string& name);

}  // namespace portman::cli
