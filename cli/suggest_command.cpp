// portman suggest: the next free ports of a type's range, without writing anything.
#include <chrono>
#include <iostream>

#include "cli/commands.hpp"
#include "libportman/allocation.hpp"

namespace portman::cli {
namespace {

struct SuggestOptions {
  std::string type = "dynamic";
  int count = 5;
  bool udp = false, json = false;
};

Result<int> run_suggest(const Context& ctx, const SuggestOptions& o) {
  auto type_opt = type_option(ctx.config, o.type);
  if (!type_opt) return type_opt.error();
  const ServiceType* type = *type_opt;
  if (!type) return make_error(ErrorKind::bad_input, "-t needs a type: " + ctx.config.type_names());
  if (o.count < 1 || o.count > 65535)
    return make_error(ErrorKind::bad_input,
                      "invalid count " + std::to_string(o.count) + "; valid: 1 to 65535");
  auto registry = read_registry(ctx);
  if (!registry) return registry.error();
  auto scanned = scan_live(ctx, ScanScope{std::nullopt, false});
  if (!scanned) return scanned.error();
  const LiveState& live = *scanned;
  PortPlanner planner(ctx.config, *registry, live, std::chrono::system_clock::now());
  Protocol proto = o.udp ? Protocol::udp : Protocol::tcp;
  auto ports = planner.free_ports(type->range, proto, static_cast<size_t>(o.count));
  if (o.json) {
    std::cout << Json(ports).dump() << "\n";
  } else {
    std::cerr << "free " << to_string(proto) << " ports in " << type->name << " ("
              << type->range.to_string() << "):\n";
    for (auto p : ports) std::cout << p << "\n";
  }
  if (ports.empty()) {
    std::cerr << "no free port in " << type->name << " range " << type->range.to_string() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

void add_suggest_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<SuggestOptions>();
  auto* cmd = app.add_subcommand("suggest", "Show the next free ports of a type's range");
  cmd->add_option("-t,--type", o->type, "Service type or alias (default dynamic)");
  cmd->add_option("-c,--count", o->count, "How many (default 5)");
  cmd->add_flag("--udp", o->udp, "UDP ports");
  cmd->add_flag("--json", o->json, "A JSON array of port numbers");
  cmd->footer("Examples:\n  portman suggest -t api\n  portman suggest -t web -c 3 --json");
  cmd->callback(
      [o, &action] { action = [o](const Context& ctx) { return run_suggest(ctx, *o); }; });
}

}  // namespace portman::cli
