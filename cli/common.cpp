#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "libportman/registry_file.hpp"
#include "libportman/sources.hpp"

namespace portman::cli {

Result<PortKey> port_key(const std::string& port, bool udp) {
  // "5353/udp" as `scan` prints it, "80/tcp", or a bare number with --udp deciding.
  std::string_view number = port;
  std::optional<Protocol> suffix;
  if (auto slash = number.find('/'); slash != std::string_view::npos) {
    std::string_view proto = number.substr(slash + 1);
    if (proto == "tcp")
      suffix = Protocol::tcp;
    else if (proto == "udp")
      suffix = Protocol::udp;
    else
      return make_error(ErrorKind::bad_input, "invalid port '" + port +
                                                  "': the protocol after / must be tcp or udp "
                                                  "(e.g. 5353/udp)");
    number = number.substr(0, slash);
  }
  auto p = parse_port(number);
  if (!p) return p.error();
  if (suffix == Protocol::tcp && udp)
    return make_error(ErrorKind::bad_input,
                      "port '" + port + "' says tcp but --udp was given; give one of them");
  Protocol protocol = suffix.value_or(udp ? Protocol::udp : Protocol::tcp);
  return PortKey{*p, protocol};
}

bool registry_missing(const Context& ctx) {
  struct stat st {};
  return ::stat(ctx.registry.c_str(), &st) != 0 && errno == ENOENT;
}

std::string missing_registry_message(const Context& ctx) {
  return "registry " + ctx.registry.string() + " (from " + ctx.registry_origin + ") does not exist";
}

Result<Registry> read_registry(const Context& ctx) {
  auto loaded = read_registry_file(ctx.registry);
  if (!loaded) return loaded.error();
  if (!loaded->found)
    std::cerr << "portman: warning: " << missing_registry_message(ctx)
              << "; reading it as empty ('portman allocate' creates it)\n";
  return std::move(loaded->registry);
}

Error not_registered(const Context& ctx, const Registry& registry, PortKey key,
                     std::string_view next) {
  PortKey other{key.port, key.protocol == Protocol::tcp ? Protocol::udp : Protocol::tcp};
  if (!registry.find(other) && registry_missing(ctx))
    return make_error(ErrorKind::refused, "port " + registry_key(key) + " is not registered: " +
                                              missing_registry_message(ctx));
  return not_registered_error(registry, key, next);
}

Result<LiveState> scan_live(const Context& ctx, const ScanScope& scope) {
  auto scanner = make_scanner(ctx.collectors, ctx.sources);
  if (!scanner) return scanner.error();
  return scanner->scan(scope);
}

Result<Scanner> start_scan(const Context& ctx, const ScanScope& scope) {
  auto scanner = make_scanner(ctx.collectors, ctx.sources);
  if (scanner) scanner->prepare(scope);
  return scanner;
}

bool failure_noted(const LiveState& live, const std::string& collector) {
  const std::string prefix = collector + ": ";
  for (const auto& note : live.notes)
    if (note.rfind(prefix, 0) == 0) return true;
  return false;
}

LiveScan live_scan(const Context& ctx) {
  return [&ctx](const std::optional<PortKey>& only) {
    return scan_live(ctx, ScanScope{only, only.has_value()});
  };
}

void add_inventory_view(const Context& ctx, const Registry& registry, LiveState& live,
                        std::vector<Finding>& findings) {
  auto inventories = fetch_inventories(ctx.sources);
  for (const InventoryState& i : inventories)
    if (!i.up) live.notes.push_back(i.source + ": " + i.error);
  add_inventory_findings(inventories, ctx.sources, registry, live, ctx.config, findings);
}

Result<dokploy::Inventory> fetch_inventory(const Context& ctx) {
  if (!ctx.sources.enabled("dokploy"))
    return make_error(ErrorKind::bad_input,
                      "Dokploy is not configured: set dokploy.url in portman.yml, --dokploy.url "
                      "or $DOKPLOY_API_URL (see docs/dokploy.md)");
  SourcePlan only = ctx.sources;
  only.inventories = {"dokploy"};
  auto got = fetch_inventories(only);
  if (got.empty() || !got.front().up)
    return make_error(ErrorKind::io,
                      "dokploy: " + (got.empty() ? std::string("not asked") : got.front().error));
  return *got.front().last_good;
}

void print_warnings(const std::vector<std::string>& warnings) {
  for (const auto& warning : warnings) std::cerr << "portman: warning: " << warning << "\n";
}

Result<const ServiceType*> type_option(const Config& config, const std::string& name) {
  if (name.empty()) return static_cast<const ServiceType*>(nullptr);
  if (const ServiceType* t = config.find_type(name)) return t;
  return make_error(ErrorKind::bad_input,
                    "unknown type '" + name + "'; valid: " + config.type_names());
}

}  // namespace portman::cli
