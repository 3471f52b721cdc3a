// One file per command; each adds its subcommand and sets the Action to run once parsing is done.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "cli/context.hpp"
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

// Helpers the commands share.
Result<PortKey> port_key(const std::string& port, bool udp);
Result<Registry> read_registry(const Context& ctx);
LiveState scan_live(const Context& ctx, const ScanScope& scope);
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
