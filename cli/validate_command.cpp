// portman validate: the config and the registry, every problem with its location.
// Errors (exit 3) make the file unusable or unsafe to rewrite; warnings (exit 0) deserve a look.
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "libportman/config.hpp"
#include "libportman/registry_file.hpp"
#include "libportman/registry_ranges.hpp"

namespace portman::cli {
namespace {

struct ValidateOptions {
  bool json = false;
};

struct Problem {
  bool error;
  std::string where, message;
};

std::vector<Problem> check_entries(const Context& ctx, const Registry& registry) {
  std::vector<Problem> out;
  const std::string file = ctx.registry.string();
  for (const auto& dup : registry.duplicate_keys())
    out.push_back({true, file + ": " + dup, "key written twice; only the last one is read"});
  const Entry* prev = nullptr;
  for (const Entry& e : registry.entries()) {
    std::string where = file + ": allocations[\"" + e.raw_key + "\"]";
    auto warn = [&](const std::string& field, const std::string& msg) {
      out.push_back({false, where + "." + field, msg});
    };
    if (prev && prev->key == e.key)
      out.push_back({true, where, "same port and protocol as \"" + prev->raw_key + "\""});
    prev = &e;
    if (!e.status.empty() && !ctx.config.has_status(e.status))
      warn("status", "'" + e.status + "' is not a configured status");
    if (!e.environment.empty() && !ctx.config.has_environment(e.environment))
      warn("environment", "'" + e.environment + "' is not a configured environment");
    if (!e.service_type.empty()) {
      const ServiceType* t = ctx.config.find_type(e.service_type);
      if (!t)
        warn("service_type", "'" + e.service_type + "' is not a configured type");
      else if (!t->range.contains(e.key.port))
        warn("service_type", "port outside the " + t->name + " range " + t->range.to_string());
    }
    std::string proto = e.json.value("protocol", "");
    if (!proto.empty() && proto != to_string(e.key.protocol))
      warn("protocol",
           "says " + proto + " but the key means " + std::string(to_string(e.key.protocol)));
    if (!e.bind.empty()) {
      auto p = parse_address_pattern(e.bind);
      if (!p || e.bind.find('/') != std::string::npos)
        out.push_back({true, where + ".bind", "'" + e.bind + "' is not an IP address"});
    }
    if (ctx.config.is_reserved(e.key.port) && e.status != "reserved")
      warn("", "port is reserved in the config");
  }
  return out;
}

// Outgoing connections take their source ports from this range: a type range inside it can find
// its ports busy at random.
std::vector<Problem> check_ephemeral(const Context& ctx) {
  std::vector<Problem> out;
  auto path = ctx.collectors.procfs / "sys/net/ipv4/ip_local_port_range";
  std::ifstream in(path);
  int lo = 0, hi = 0;
  if (!(in >> lo >> hi)) return out;
  for (const auto& t : ctx.config.types)
    if (t.range.first <= hi && t.range.last >= lo)
      out.push_back({false, ctx.config.source + ": types." + t.name,
                     "range " + t.range.to_string() + " overlaps the kernel's ephemeral ports " +
                         std::to_string(lo) + "-" + std::to_string(hi) + " (" + path.string() +
                         "): outgoing connections can take its ports"});
  return out;
}

Result<int> run_validate(const Context& ctx, const ValidateOptions& o) {
  std::vector<Problem> problems = check_ephemeral(ctx);
  for (auto& w : registry_location_warnings(ctx.registry))
    problems.push_back({false, w.where, w.message});
  auto registry = read_registry(ctx);
  if (registry && registry_missing(ctx)) {
    // A typo in the path must not pass for an empty registry.
    problems.push_back({true, ctx.registry.string(),
                        "does not exist (the path came from " + ctx.registry_origin +
                            "); 'portman allocate' creates it"});
  } else if (!registry) {
    problems.push_back({true, ctx.registry.string(), registry.error().message});
  } else {
    auto more = check_entries(ctx, *registry);
    problems.insert(problems.end(), more.begin(), more.end());
    // The file's reserved_ranges group `list -r`; the config's types decide allocation.
    FileRanges ranges = file_ranges(*registry);
    for (auto& p : ranges.problems) problems.push_back({false, ctx.registry.string(), p});
    for (auto& p : range_disagreements(ranges.ranges, ctx.config))
      problems.push_back({false, ctx.registry.string(), p});
  }
  size_t errors = 0;
  for (const auto& p : problems) errors += p.error;
  if (o.json) {
    Json list = Json::array();
    for (const auto& p : problems)
      list.push_back({{"severity", p.error ? "error" : "warning"},
                      {"where", p.where},
                      {"message", p.message}});
    std::cout << Json{{"config", ctx.config.source},
                      {"registry", ctx.registry.string()},
                      {"problems", list},
                      {"errors", errors},
                      {"warnings", problems.size() - errors}}
                     .dump(2)
              << "\n";
  } else {
    Style style(ctx.color);
    for (const auto& p : problems)
      std::cout << (p.error ? style.red("error") : style.yellow("warning")) << ": " << p.where
                << ": " << p.message << "\n";
    std::cout << "config " << ctx.config.source << ", registry " << ctx.registry.string() << ": "
              << errors << " errors, " << problems.size() - errors << " warnings\n";
  }
  return errors > 0 ? 3 : 0;
}

}  // namespace

void add_validate_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<ValidateOptions>();
  auto* cmd = app.add_subcommand("validate", "Check the config and the registry");
  cmd->add_flag("--json", o->json, "Problems as JSON");
  cmd->footer(
      "Exit status: 3 when there is an error, 0 with warnings only.\n"
      "Examples:\n  portman validate\n  portman --config ./portman.yml validate");
  cmd->callback(
      [o, &action] { action = [o](const Context& ctx) { return run_validate(ctx, *o); }; });
}

}  // namespace portman::cli
