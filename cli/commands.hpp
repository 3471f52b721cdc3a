// One file per command; each adds its subcommand and sets the Action to run once parsing is done.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "cli/context.hpp"
#include "libportman/live_state.hpp"
#include "libportman/registry.hpp"
#include "libportman/registry_edit.hpp"
#include "libportman/scan.hpp"

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

// What a command that needs neither the config nor the registry runs: the exit code. These work
// even where portman.yml is broken (a completion script, the man page).
using Direct = std::function<int()>;
void add_completion_command(CLI::App& app, Direct& direct);
// Hidden: the man page portman(1), in roff, made at build time for the package.
void add_man_command(CLI::App& app, Direct& direct);
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
// A scan of `scope`, prepared: what its collectors can start early (the BPF owners iterator)
// runs while the caller reads the registry; then Scanner::scan(scope).
Result<Scanner> start_scan(const Context& ctx, const ScanScope& scope);
// Whether a failed collector explained itself in a note ("docker: ..."): then the note says it,
// once, and the bare "collector docker failed" line would say it twice.
bool failure_noted(const LiveState& live, const std::string& collector);
// The registry use cases' view of the sockets: a scan of one port (with owners) or of all.
LiveScan live_scan(const Context& ctx);
// Asks the enabled inventory sources (Dokploy) now and adds their findings; one that cannot be
// asked adds a note ("dokploy: ...") and nothing else.
void add_inventory_view(const Context& ctx, const Registry& registry, LiveState& live,
                        std::vector<Finding>& findings);
// Dokploy's inventory for `sync`: refused when Dokploy is not configured or does not answer.
Result<dokploy::Inventory> fetch_inventory(const Context& ctx);
// The warnings of a save ("cannot keep the group..."), one line each on stderr.
void print_warnings(const std::vector<std::string>& warnings);
// The type named by -t (name or alias); nullptr for an empty name; bad_input when unknown.
Result<const ServiceType*> type_option(const Config& config, const std::string& name);

}  // namespace portman::cli
