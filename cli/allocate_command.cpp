// portman allocate NAME: choose a port and write it, under one lock, so that concurrent
// allocations never hand out the same port. The port alone goes to stdout for scripts.
#include <chrono>
#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "libportman/allocation.hpp"
#include "libportman/report.hpp"

namespace portman::cli {
namespace {

struct AllocateOptions {
  std::string name, type, env = "production", owner = "unknown", description, port, url;
  std::string process, bind;
  bool udp = false, json = false;
};

// The old scripts' PORT_CONFLICT_ACTION, for `allocate -p` on a registered port. `alert` (their
// "warn and go on") cannot give one port two entries, so it refuses like `block`.
enum class ConflictAction { block, auto_reassign };

Result<ConflictAction> conflict_action_from_env() {
  const char* env = std::getenv("PORT_CONFLICT_ACTION");
  std::string_view v = env ? env : "";
  if (v.empty() || v == "block" || v == "alert") return ConflictAction::block;
  if (v == "auto-reassign") return ConflictAction::auto_reassign;
  return make_error(ErrorKind::bad_input, "PORT_CONFLICT_ACTION='" + std::string(v) +
                                              "' is not one of block (the default), "
                                              "auto-reassign, alert");
}

Result<int> run_allocate(const Context& ctx, const AllocateOptions& o) {
  AllocationRequest req;
  req.entry = {o.name, o.description, o.env, o.owner, "allocated", o.url, {}, o.process, o.bind};
  if (o.name.empty()) return make_error(ErrorKind::bad_input, "NAME must not be empty");
  auto type_opt = type_option(ctx.config, o.type);
  if (!type_opt) return type_opt.error();
  req.type = *type_opt;
  req.protocol = o.udp ? Protocol::udp : Protocol::tcp;
  if (!o.port.empty()) {
    auto key = port_key(o.port, o.udp);
    if (!key) return key.error();
    req.wanted = *key;  // "-p 5353/udp" as well as "-p 5353 --udp"
    req.protocol = key->protocol;
    if (!req.type) req.type = ctx.config.type_of_port(key->port);  // -p alone: its range's type
  }
  if (!req.type && !req.wanted) req.type = ctx.config.find_type("dynamic");
  if (req.type) req.entry.service_type = req.type->name;
  auto conflict_action = conflict_action_from_env();
  if (!conflict_action) return conflict_action.error();
  req.auto_reassign = *conflict_action == ConflictAction::auto_reassign;
  const bool created = registry_missing(ctx);

  auto done = allocate(ctx.registry, ctx.config, req, live_scan(ctx));
  if (!done) return done.error();
  print_warnings(done->warnings);
  const PortKey chosen = done->port;
  const ServiceType* type = req.type;
  const std::string& reassigned_from = done->reassigned_from;

  if (o.json) {
    auto registry = read_registry(ctx);
    if (!registry) return registry.error();
    std::cout << entry_json(*registry->find(chosen)).dump(2) << "\n";
  } else {
    std::cout << chosen.port << "\n";
  }
  if (created)
    std::cerr << "created registry " << ctx.registry.string() << " (from " << ctx.registry_origin
              << ")\n";
  if (!reassigned_from.empty())
    std::cerr << reassigned_from << "; PORT_CONFLICT_ACTION=auto-reassign: took "
              << registry_key(chosen) << ", the first free " << type->name << " port, instead\n";
  std::cerr << "allocated " << registry_key(chosen) << " to " << o.name << " (" << o.env
            << (type ? ", " + type->name : std::string()) << ") in " << ctx.registry.string()
            << "\n";
  if (type && !type->range.contains(chosen.port))
    std::cerr << "warning: port " << chosen.port << " is outside the " << type->name << " range "
              << type->range.to_string() << "\n";
  return 0;
}

}  // namespace

void add_allocate_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<AllocateOptions>();
  auto* cmd =
      app.add_subcommand("allocate", "Register a port for a service (the lowest free one, or -p)");
  cmd->add_option("name", o->name, "Service name")->required();
  cmd->add_option("-t,--type", o->type,
                  "Service type or alias (default: dynamic, or the type of -p)");
  cmd->add_option("-e,--env", o->env, "Environment (default production)");
  cmd->add_option("-o,--owner", o->owner, "Owner (default unknown)");
  cmd->add_option("-d,--desc", o->description, "Description");
  cmd->add_option("-p,--port", o->port,
                  "This port (3000, 5353/udp), also when it already listens unregistered; when it "
                  "is registered: refused, or see PORT_CONFLICT_ACTION");
  cmd->add_flag("--udp", o->udp, "A UDP port");
  cmd->add_option("--url", o->url, "URL of the service");
  cmd->add_option("--process", o->process, "Process name expected to listen (owner check)");
  cmd->add_option("--bind", o->bind,
                  "Address it should listen on, e.g. 127.0.0.1 (exposure check)");
  cmd->add_flag("--json", o->json, "Print the new entry as JSON");
  cmd->footer(
      "The port alone is printed on stdout; the summary goes to stderr.\n"
      "PORT_CONFLICT_ACTION=auto-reassign: -p on a registered port takes the type's first free "
      "port instead (default block: refused, naming it).\n"
      "Examples:\n  PORT=$(portman allocate my-api -t api -o louis)\n"
      "  portman allocate my-service -p 8085       # register a running service\n"
      "  portman allocate dns-cache -p 5353 --udp --bind 127.0.0.1");
  cmd->callback(
      [o, &action] { action = [o](const Context& ctx) { return run_allocate(ctx, *o); }; });
}

}  // namespace portman::cli
