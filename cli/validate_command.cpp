// portman validate: the config and the registry, every problem with its location.
// Errors (exit 3) make the file unusable or unsafe to rewrite; warnings (exit 0) deserve a look.
#include <iostream>
#include <optional>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "collectors/sockets.hpp"
#include "libportman/config.hpp"
#include "libportman/limits.hpp"
#include "libportman/registry_file.hpp"
#include "libportman/registry_ranges.hpp"
#include "libportman/whole_file.hpp"

namespace portman::cli {
namespace {

struct ValidateOptions {
  bool json = false;
};

struct Problem {
  bool error;
  std::string where, message;  // where: "FILE: JSON path" or "FILE:LINE:COL"; may be empty
};

std::vector<Problem> check_entries(const Context& ctx, const Registry& registry) {
  std::vector<Problem> out;
  const std::string file = ctx.registry.string();
  const std::string of_config = " of " + ctx.config.source;
  for (const auto& dup : registry.duplicates())
    out.push_back({true, file + ": " + dup.path, dup.message});
  for (const Entry& e : registry.entries()) {
    std::string where = file + ": allocations[\"" + e.raw_key + "\"]";
    auto warn = [&](const std::string& field, const std::string& msg) {
      out.push_back({false, field.empty() ? where : where + "." + field, msg});
    };
    if (!e.status.empty() && !ctx.config.has_status(e.status))
      warn("status",
           "'" + e.status + "' is not a configured status (not in `statuses`" + of_config + ")");
    if (!e.environment.empty() && !ctx.config.has_environment(e.environment))
      warn("environment", "'" + e.environment + "' is not a configured environment (not in " +
                              "`environments`" + of_config + ")");
    if (!e.service_type.empty()) {
      const ServiceType* t = ctx.config.find_type(e.service_type);
      if (!t)
        warn("service_type",
             "'" + e.service_type + "' is not a configured type (not in `types`" + of_config + ")");
      else if (!t->range.contains(e.key.port))
        warn("service_type", "port outside the " + t->name + " range " + t->range.to_string() +
                                 " (`types." + t->name + ".range`" + of_config + ")");
    }
    auto pit = e.json.find("protocol");
    std::string proto = pit != e.json.end() && pit->is_string() ? pit->get<std::string>() : "";
    if (!proto.empty() && proto != to_string(e.key.protocol))
      warn("protocol",
           "says " + proto + " but the key means " + std::string(to_string(e.key.protocol)));
    if (!e.bind.empty()) {
      auto p = parse_address_pattern(e.bind);
      if (!p || e.bind.find('/') != std::string::npos)
        out.push_back({true, where + ".bind", "'" + e.bind + "' is not an IP address"});
    }
    if (ctx.config.is_reserved(e.key.port) && e.status != "reserved")
      warn("", "port is listed in `reserved`" + of_config + " but " +
                   (e.status.empty() ? std::string("the entry has no status")
                                     : "its status is '" + e.status + "'") +
                   ", not 'reserved'");
  }
  return out;
}

// The file's reserved_ranges group `list -r`; the config's types decide allocation.
std::vector<Problem> check_ranges(const Context& ctx, const Registry& registry) {
  std::vector<Problem> out;
  const std::string file = ctx.registry.string();
  FileRanges ranges = file_ranges(registry);
  for (auto& p : ranges.problems) out.push_back({false, file, p});
  for (auto& p : range_disagreements(ranges.ranges, ctx.config)) out.push_back({false, file, p});
  return out;
}

std::vector<Problem> check_registry(const Context& ctx) {
  if (registry_missing(ctx))  // a typo in the path must not pass for an empty file
    return {{true, ctx.registry.string(),
             "does not exist (the path came from " + ctx.registry_origin +
                 "); 'portman allocate' creates it"}};
  auto registry = read_registry(ctx);
  if (registry) {
    auto out = check_entries(ctx, *registry);
    auto more = check_ranges(ctx, *registry);
    out.insert(out.end(), more.begin(), more.end());
    return out;
  }
  const std::string file = ctx.registry.string();
  std::optional<std::string> text;
  if (registry.error().kind == ErrorKind::invalid_data)
    if (auto read = read_whole_file(ctx.registry, kRegistryMaxBytes)) text = std::move(*read);
  RegistryCheck checked = text ? Registry::check(*text) : RegistryCheck{};
  if (checked.problems.empty())  // not a content problem: the file cannot be read, or is too big
    return {{true, "", registry.error().message}};
  std::vector<Problem> out;
  for (const auto& p : checked.problems) out.push_back({true, p.where(file), p.message});
  if (checked.registry) {  // what can be said about the entries that are fine
    auto more = check_entries(ctx, *checked.registry);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

// Outgoing connections take their source ports from this range: a type range inside it can find
// its ports busy at random.
std::vector<Problem> check_ephemeral(const Context& ctx) {
  std::vector<Problem> out;
  auto path = ctx.collectors.procfs / "sys/net/ipv4/ip_local_port_range";
  auto ephemeral = read_ephemeral_ports(ctx.collectors.procfs);
  if (!ephemeral) return out;
  const int lo = ephemeral->first, hi = ephemeral->second;
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
  for (const Error& e : source_setting_errors(ctx.collectors, ctx.sources))
    problems.push_back({true, "sources", e.message});
  for (auto& w : registry_location_warnings(ctx.registry))
    problems.push_back({false, w.where, w.message});
  auto more = check_registry(ctx);
  problems.insert(problems.end(), more.begin(), more.end());
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
      std::cout << (p.error ? style.red("error") : style.yellow("warning")) << ": "
                << (p.where.empty() ? "" : p.where + ": ") << p.message << "\n";
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
