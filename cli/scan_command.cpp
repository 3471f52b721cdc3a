// portman scan: every listening socket with its owner and service, then the findings by kind.
#include <iostream>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "libportman/findings.hpp"
#include "libportman/report.hpp"

namespace portman::cli {
namespace {

struct ScanOptions {
  bool details = false, json = false, fail_on_conflict = false;
};

Result<int> run_scan(const Context& ctx, const ScanOptions& o) {
  auto registry = read_registry(ctx);
  if (!registry) return registry.error();
  LiveState live = scan_live(ctx, ScanScope{});
  std::vector<Finding> findings = compare(*registry, live, ctx.config);
  int code = o.fail_on_conflict && !findings.empty() ? 1 : 0;

  if (o.json) {
    std::cout << scan_report_text(*registry, live, findings);
    return code;
  }
  Style style(ctx.color);
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : live.sockets) {
    const Owner* ow = s.main_owner();
    const Entry* e = registry->find(s.key());
    std::vector<std::string> row = {std::to_string(s.port),
                                    std::string(to_string(s.protocol)),
                                    s.family == Family::ipv6 ? "[" + s.address + "]" : s.address,
                                    ow ? ow->process : "?",
                                    ow ? std::to_string(ow->pid) : "-",
                                    ow ? ow->user : "-",
                                    e ? e->service : "-"};
    if (o.details) {
      row.push_back(ow ? ow->container.substr(0, 12) : "");
      row.push_back(ow ? ow->unit : "");
      row.push_back(ow ? ow->cmdline : s.owner_unknown);
    }
    rows.push_back(std::move(row));
  }
  std::vector<std::string> header = {"PORT", "PROTO", "ADDRESS", "PROCESS",
                                     "PID",  "USER",  "SERVICE"};
  if (o.details) header.insert(header.end(), {"CONTAINER", "UNIT", "COMMAND"});
  std::cout << style.bold("Listening (" + std::to_string(live.sockets.size()) + " sockets, from " +
                          live.socket_source + ")")
            << "\n"
            << format_table(header, rows);
  for (const auto& r : live.runs)
    if (!r.success)
      std::cout << style.yellow("collector " + r.collector + " failed: " + r.error) << "\n";
  if (live.processes_unreadable > 0)
    std::cout << style.yellow(std::to_string(live.processes_unreadable) +
                              " processes could not be read; run as root for every owner")
              << "\n";

  std::cout << "\n";
  if (findings.empty()) {
    std::cout << style.green("No findings: the registry matches what listens.") << "\n";
  } else {
    for (FindingKind kind : kAllFindingKinds) {
      bool header_done = false;
      for (const auto& f : findings) {
        if (f.kind != kind) continue;
        if (!header_done) std::cout << style.red(std::string(to_string(kind))) << "\n";
        header_done = true;
        std::string port =
            std::to_string(f.key.port) + "/" + std::string(to_string(f.key.protocol));
        std::cout << "  " << port;
        if (!f.service_name.empty()) std::cout << "  " << f.service_name;
        std::cout << "  " << f.detail;
        std::cout << "\n";
      }
    }
  }
  size_t unregistered = 0, down = 0;
  for (const auto& f : findings) {
    unregistered += f.kind == FindingKind::unregistered;
    down += f.kind == FindingKind::registered_down;
  }
  std::cout << "\nSummary: " << live.sockets.size() << " listening, " << registry->entries().size()
            << " registered, " << unregistered << " unregistered, " << down << " down, "
            << findings.size() << " findings\n";
  return code;
}

}  // namespace

void add_scan_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<ScanOptions>();
  auto* cmd = app.add_subcommand("scan", "Compare what listens with the registry");
  cmd->add_flag("-d,--details", o->details, "Add container, systemd unit and command line");
  cmd->add_flag("--json", o->json, "JSON: listening, findings, summary");
  cmd->add_flag("--fail-on-conflict", o->fail_on_conflict, "Exit 1 when there is any finding");
  cmd->footer(
      "Examples:\n  portman scan\n  portman scan -d\n  portman scan --json | jq '.findings'\n"
      "  portman scan --fail-on-conflict   # in a deploy script");
  cmd->callback([o, &action] { action = [o](const Context& ctx) { return run_scan(ctx, *o); }; });
}

}  // namespace portman::cli
