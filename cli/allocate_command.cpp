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
  if (o.name.empty()) return make_error(ErrorKind::bad_input, "NAME must not be empty");
  for (auto [what, value] : {std::pair{"NAME", &o.name},
                             {"--owner", &o.owner},
                             {"--desc", &o.description},
                             {"--url", &o.url},
                             {"--process", &o.process}})
    if (auto st = check_text(what, *value); !st) return st.error();
  if (auto st = one_of("environment", o.env, ctx.config.environments); !st) return st.error();
  auto type_opt = type_option(ctx.config, o.type);
  if (!type_opt) return type_opt.error();
  const ServiceType* type = *type_opt;
  if (!o.bind.empty())
    if (auto p = parse_address_pattern(o.bind); !p || o.bind.find('/') != std::string::npos)
      return make_error(ErrorKind::bad_input,
                        "invalid --bind '" + o.bind + "': give one IPv4 or IPv6 address");
  Protocol proto = o.udp ? Protocol::udp : Protocol::tcp;
  std::optional<PortKey> wanted;
  if (!o.port.empty()) {
    auto key = port_key(o.port, o.udp);
    if (!key) return key.error();
    wanted = *key;
    proto = key->protocol;  // "-p 5353/udp" as well as "-p 5353 --udp"
    if (!type)
      type = ctx.config.type_of_port(key->port);  // -p alone: the type whose range holds it
  }
  if (!type && !wanted) type = ctx.config.find_type("dynamic");
  if (!type && !wanted)
    return make_error(ErrorKind::bad_input,
                      "give -t TYPE or -p PORT; types: " + ctx.config.type_names());

  auto conflict_action = conflict_action_from_env();
  if (!conflict_action) return conflict_action.error();
  const bool created = registry_missing(ctx);

  PortKey chosen{};
  std::string reassigned_from;
  Status st = change_registry(ctx, [&](Registry& registry) -> Result<bool> {
    // The socket scan happens under the lock: the choice and the write are one step.
    auto first_free = [&]() -> Result<PortKey> {
      auto scanned = scan_live(ctx, ScanScope{std::nullopt, false});
      if (!scanned) return scanned.error();
      const LiveState& live = *scanned;
      for (const auto& r : live.runs)
        if (!r.success)
          return make_error(ErrorKind::io, "cannot see which ports listen (" + r.collector + ": " +
                                               r.error + "); nothing allocated");
      PortPlanner planner(ctx.config, registry, live, std::chrono::system_clock::now());
      auto ports = planner.free_ports(type->range, proto, 1);
      if (ports.empty())
        return make_error(ErrorKind::refused, "no free " + std::string(to_string(proto)) +
                                                  " port in " + type->name + " range " +
                                                  type->range.to_string() +
                                                  " (registered, listening, reserved or in "
                                                  "quarantine); see: portman suggest -t " +
                                                  type->name);
      return PortKey{ports.front(), proto};
    };
    if (wanted) {
      if (const Entry* e = registry.find(*wanted)) {
        std::string taken = "port " + registry_key(*wanted) + " is already registered to '" +
                            e->service + "' (owner " + (e->owner.empty() ? "unknown" : e->owner) +
                            ", status " + e->status + ")";
        if (!type)
          return make_error(ErrorKind::refused,
                            taken +
                                "; no type's range holds it, so give -t TYPE to be offered "
                                "a free port; see: portman check " +
                                registry_key(*wanted));
        auto next = first_free();
        if (!next) {
          if (next.error().kind != ErrorKind::refused) return next.error();
          return make_error(ErrorKind::refused, taken + "; " + next.error().message);
        }
        if (*conflict_action != ConflictAction::auto_reassign)
          return make_error(ErrorKind::refused,
                            taken + "; the next free " + type->name + " port is " +
                                registry_key(*next) + " (portman allocate " + o.name + " -p " +
                                registry_key(*next) +
                                ", or PORT_CONFLICT_ACTION=auto-reassign to take it)");
        reassigned_from = taken;
        chosen = *next;
      } else {
        chosen = *wanted;
      }
    } else {
      auto next = first_free();
      if (!next) return next.error();
      chosen = *next;
    }
    Json entry = Json::object();
    entry["service"] = o.name;
    entry["description"] = o.description.empty() ? o.name + " service" : o.description;
    entry["environment"] = o.env;
    entry["protocol"] = std::string(to_string(proto));
    entry["owner"] = o.owner;
    entry["status"] = "allocated";
    if (!o.url.empty()) entry["url"] = o.url;
    if (type) entry["service_type"] = type->name;
    if (!o.process.empty()) entry["process"] = o.process;
    if (!o.bind.empty()) entry["bind"] = o.bind;
    entry["allocated_at"] = now_timestamp();
    registry.add(chosen, std::move(entry));
    return true;
  });
  if (!st) return st.error();

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
