// portman list: the registry, filtered, as lines, groups, CSV or JSON.
#include <algorithm>
#include <iostream>
#include <map>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "libportman/registry_ranges.hpp"
#include "libportman/report.hpp"

namespace portman::cli {
namespace {

struct ListOptions {
  bool details = false, ranges = false, csv = false, json = false;
  std::string env, type, status;
};

std::string port_label(const Entry& e) {
  return e.key.protocol == Protocol::udp ? std::to_string(e.key.port) + "/udp"
                                         : std::to_string(e.key.port);
}

std::string or_unknown(const std::string& s) {
  return s.empty() ? "Unknown" : s;
}

// A filter takes any value the registry holds (the old scripts' users have their own, such as
// `-e qa`), and refuses only one that is neither configured nor present, naming both lists.
Status filter_value(std::string_view what, const std::string& value,
                    const std::vector<std::string>& configured, const Registry& registry,
                    std::string Entry::*field) {
  if (value.empty() || std::find(configured.begin(), configured.end(), value) != configured.end())
    return {};
  std::vector<std::string> present;
  for (const Entry& e : registry.entries()) {
    const std::string& v = e.*field;
    if (v == value) return {};
    if (!v.empty() && std::find(configured.begin(), configured.end(), v) == configured.end() &&
        std::find(present.begin(), present.end(), v) == present.end())
      present.push_back(v);
  }
  auto join = [](const std::vector<std::string>& list) {
    std::string out;
    for (const auto& v : list) out += (out.empty() ? "" : ", ") + v;
    return out.empty() ? std::string("none") : out;
  };
  return make_error(ErrorKind::bad_input, "unknown " + std::string(what) + " '" + value +
                                              "'; configured: " + join(configured) +
                                              "; also in the registry: " + join(present));
}

Result<int> run_list(const Context& ctx, const ListOptions& o) {
  auto registry = read_registry(ctx);
  if (!registry) return registry.error();
  // -t: a configured type (by name or alias), else a service_type that entries hold as written.
  const ServiceType* type = ctx.config.find_type(o.type);
  std::string other_type;
  if (!o.type.empty() && !type) {
    std::vector<std::string> names;
    for (const ServiceType& t : ctx.config.types) {
      names.push_back(t.name);
      names.insert(names.end(), t.aliases.begin(), t.aliases.end());
    }
    if (auto st = filter_value("type", o.type, names, *registry, &Entry::service_type); !st)
      return st.error();
    other_type = o.type;
  }
  if (auto st = filter_value("environment", o.env, ctx.config.environments, *registry,
                             &Entry::environment);
      !st)
    return st.error();
  if (auto st = filter_value("status", o.status, ctx.config.statuses, *registry, &Entry::status);
      !st)
    return st.error();

  std::vector<const Entry*> shown;
  for (const Entry& e : registry->entries()) {
    if (!o.env.empty() && e.environment != o.env) continue;
    if (!o.status.empty() && e.status != o.status) continue;
    if (type && ctx.config.find_type(e.service_type) != type) continue;
    if (!other_type.empty() && e.service_type != other_type) continue;
    shown.push_back(&e);
  }

  if (o.json) {
    Json out = Json::array();
    for (const Entry* e : shown) out.push_back(entry_json(*e));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (o.csv) {
    std::cout << "Port,Service,Status,Environment,Owner,URL\r\n";
    for (const Entry* e : shown)
      std::cout << csv_field(port_label(*e)) << ',' << csv_field(or_unknown(e->service)) << ','
                << csv_field(e->status) << ',' << csv_field(e->environment) << ','
                << csv_field(e->owner) << ',' << csv_field(e->url) << "\r\n";
    return 0;
  }

  Style style(ctx.color);
  auto line = [&](const Entry& e) {
    std::string text = port_label(e);
    text.resize(std::max<size_t>(text.size(), 9), ' ');
    std::string out = "  " + style.status(e.status, text) + or_unknown(e.service);
    if (o.details) {
      out += style.dim("  [" + (e.status.empty() ? std::string("unknown") : e.status) + "]");
      if (!e.owner.empty()) out += "  owner: " + e.owner;
      if (!e.url.empty()) out += "  " + e.url;
    }
    return out + "\n";
  };

  if (shown.empty()) {
    std::cerr << "no allocations"
              << (o.env.empty() && o.type.empty() && o.status.empty() ? "" : " match") << " in "
              << ctx.registry.string() << "\n";
    return 0;
  }
  if (o.ranges) {
    // The file's own reserved_ranges when it has them (the old scripts' grouping), else the
    // configured types.
    std::vector<NamedRange> groups = file_ranges(*registry).ranges;
    if (groups.empty())
      for (const ServiceType& t : ctx.config.types)
        groups.push_back({t.range.to_string(), t.range, t.description});
    for (const NamedRange& g : groups) {
      std::cout << style.bold(g.key + "  " + g.name) << "\n";
      for (const Entry* e : shown)
        if (g.range.contains(e->key.port)) std::cout << line(*e);
    }
    bool header = false;
    for (const Entry* e : shown) {
      if (std::any_of(groups.begin(), groups.end(),
                      [&](const NamedRange& g) { return g.range.contains(e->key.port); }))
        continue;
      if (!header) std::cout << style.bold("Unassigned") << "\n";
      header = true;
      std::cout << line(*e);
    }
    return 0;
  }
  if (o.details) {
    // Grouped by environment, the seed's order first.
    std::vector<std::string> order = ctx.config.environments;
    for (const Entry* e : shown)
      if (std::find(order.begin(), order.end(), e->environment) == order.end())
        order.push_back(e->environment);
    for (const auto& env : order) {
      bool header = false;
      for (const Entry* e : shown) {
        if (e->environment != env) continue;
        if (!header) std::cout << style.bold(env.empty() ? "other" : env) << "\n";
        header = true;
        std::cout << line(*e);
      }
    }
    return 0;
  }
  for (const Entry* e : shown) std::cout << line(*e);
  return 0;
}

}  // namespace

void add_list_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<ListOptions>();
  auto* cmd = app.add_subcommand("list", "List the registered ports");
  cmd->add_flag("-d,--details", o->details, "Group by environment, with status, owner and URL");
  cmd->add_flag("-r,--ranges", o->ranges,
                "Group by the registry's reserved_ranges (else the types' ranges); the rest under "
                "Unassigned");
  cmd->add_flag("-c,--csv", o->csv, "CSV (RFC 4180) with the header Port,Service,Status,...");
  cmd->add_option("-e,--env", o->env, "Only this environment");
  cmd->add_option("-t,--type", o->type, "Only this service type (name or alias)");
  cmd->add_option("-s,--status", o->status, "Only this status");
  cmd->add_flag("--json", o->json, "A JSON array of entries, each with port and protocol");
  cmd->footer(
      "Examples:\n  portman list\n  portman list -d -e production\n  portman list -r\n"
      "  portman list -c > ports.csv\n  portman list --json | jq '.[].port'");
  cmd->callback([o, &action] { action = [o](const Context& ctx) { return run_list(ctx, *o); }; });
}

}  // namespace portman::cli
