// portman scan: every listening socket with its owner and service, then the findings by kind.
#include <iostream>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "libportman/findings.hpp"
#include "libportman/own_socket.hpp"
#include "libportman/report.hpp"
#include "libportman/summary.hpp"

namespace portman::cli {
namespace {

struct ScanOptions {
  bool details = false, json = false, fail_on_finding = false;
};

Result<int> run_scan(const Context& ctx, const ScanOptions& o) {
  auto scanner = start_scan(ctx, ScanScope{});
  if (!scanner) return scanner.error();
  auto registry = read_registry(ctx);
  if (!registry) return registry.error();
  LiveState live = scanner->scan(ScanScope{});
  std::vector<Finding> findings = compare(*registry, live, ctx.config);
  add_inventory_view(ctx, *registry, live, findings);
  int code = o.fail_on_finding && !findings.empty() ? 1 : 0;

  if (o.json) {
    stream_scan_report(*registry, live, findings,
                       [](std::string_view piece) { std::cout << piece; });
    return code;
  }
  Style style(ctx.color);
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : live.sockets) {
    const Owner* ow = s.main_owner();
    std::string_view service = service_name_of(s, *registry);
    std::vector<std::string> row = {std::to_string(s.port),
                                    std::string(to_string(s.protocol)),
                                    s.family == Family::ipv6 ? "[" + s.address + "]" : s.address,
                                    ow || s.workload ? s.holder() : "?",
                                    ow ? std::to_string(ow->pid) : "-",
                                    ow ? ow->user : "-",
                                    service.empty() ? "-" : std::string(service)};
    if (o.details) {
      row.push_back(s.container());
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
    if (!r.success && !failure_noted(live, r.collector))
      std::cout << style.yellow("collector " + r.collector + " failed: " + r.error) << "\n";
  for (const auto& note : live.notes) std::cout << style.yellow(note) << "\n";
  const ScanSummary sum = summarize(*registry, live, findings);
  // Only when a socket is left without its owner: an unreadable process that holds none of them
  // (PID 1 of a container) changes nothing.
  if (sum.sockets_owner_unknown > 0)
    std::cout << style.yellow(std::to_string(sum.sockets_owner_unknown) +
                              (sum.sockets_owner_unknown == 1 ? " socket has" : " sockets have") +
                              " no known owner: " + std::to_string(sum.processes_unreadable) +
                              (sum.processes_unreadable == 1 ? " process" : " processes") +
                              " could not be read; run as root for every owner")
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
  std::cout << "\nSummary: " << sum.listening << " listening, " << sum.registered << " registered, "
            << sum.of(FindingKind::unregistered) << " unregistered, "
            << sum.of(FindingKind::registered_down) << " down, " << sum.findings << " findings\n";
  return code;
}

}  // namespace

void add_scan_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<ScanOptions>();
  auto* cmd = app.add_subcommand("scan", "Compare what listens with the registry");
  cmd->add_flag("-d,--details", o->details, "Add container, systemd unit and command line");
  cmd->add_flag("--json", o->json, "JSON: listening, findings, summary");
  // --fail-on-conflict: the flag's first name, kept for the scripts that use it.
  cmd->add_flag("--fail-on-finding,--fail-on-conflict", o->fail_on_finding,
                "Exit 1 when there is any finding");
  cmd->footer(
      "Examples:\n  portman scan\n  portman scan -d\n  portman scan --json | jq '.findings'\n"
      "  portman scan --fail-on-finding   # in a deploy script");
  cmd->callback([o, &action] { action = [o](const Context& ctx) { return run_scan(ctx, *o); }; });
}

}  // namespace portman::cli
