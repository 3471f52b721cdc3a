// portman check PORT: the registry entry, every socket on the port with its owner, the findings,
// and a verdict with advice. Only the sockets of that port are attributed: a fraction of a scan.
#include <algorithm>
#include <iostream>
#include <optional>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "libportman/findings.hpp"
#include "libportman/own_socket.hpp"
#include "libportman/report.hpp"

namespace portman::cli {
namespace {

struct CheckOptions {
  std::string port;
  bool udp = false, json = false;
};

std::string advice(Verdict v, PortKey key) {
  std::string p = std::to_string(key.port) + (key.protocol == Protocol::udp ? " --udp" : "");
  switch (v) {
    case Verdict::ok:
      return "registered and listening";
    case Verdict::unregistered:
      return "listening but not registered; register it: portman allocate NAME -p " + p;
    case Verdict::down:
      return "registered as active but nothing listens: the service is down";
    case Verdict::idle:
      return "registered, not active and not listening (e.g. allocated, not started yet)";
    case Verdict::status_mismatch:
      return "listening but status is not active; run: portman update " + std::to_string(key.port) +
             " active";
    case Verdict::conflict:
      return "there is a conflict; see the findings above";
    case Verdict::free:
      return "free: not registered and nothing listens";
  }
  return {};
}

bool explicit_protocol(const CheckOptions& o) {
  return o.udp || o.port.find('/') != std::string::npos;
}

struct OtherProtocol {
  PortKey key;
  bool registered = false, listening = false;
};

std::optional<OtherProtocol> look_at_other_protocol(const Context& ctx, const Registry& registry,
                                                    PortKey key) {
  OtherProtocol other{{key.port, Protocol::udp}};
  other.registered = registry.find(other.key) != nullptr;
  auto scanned = scan_live(ctx, ScanScope{other.key, false});
  other.listening = scanned && !scanned->sockets.empty();
  if (!other.registered && !other.listening) return std::nullopt;
  return other;
}

std::string other_protocol_note(const OtherProtocol& o) {
  std::string k = registry_key(o.key);
  std::string what = o.registered && o.listening ? "is registered and listening"
                     : o.registered              ? "is registered"
                                                 : "is listening";
  return "note: nothing on " + std::to_string(o.key.port) + "/tcp, but " + k + " " + what +
         "; ask with: portman check " + k;
}

Result<int> run_check(const Context& ctx, const CheckOptions& o) {
  auto key = port_key(o.port, o.udp);
  if (!key) return key.error();
  const ScanScope scope{*key, true};
  auto scanner = start_scan(ctx, scope);
  if (!scanner) return scanner.error();
  auto registry = read_registry(ctx);
  if (!registry) return registry.error();
  LiveState live = scanner->scan(scope);
  std::vector<Finding> all = compare(*registry, live, ctx.config);
  add_inventory_view(ctx, *registry, live, all);
  std::vector<Finding> findings;
  for (Finding& f : all)
    if (f.key == *key) findings.push_back(std::move(f));
  const Entry* entry = registry->find(*key);
  bool listening = std::any_of(live.sockets.begin(), live.sockets.end(),
                               [&](const ListeningSocket& s) { return s.on_host(live); });
  Verdict verdict = verdict_for(entry, listening, findings);
  // A portman agent's own port needs no entry (libportman/own_socket.hpp): all is well.
  const bool agents_own = !entry && findings.empty() && port_held_by_portman_agent(live.sockets);
  if (agents_own) verdict = Verdict::ok;
  int code = verdict == Verdict::ok ? 0 : 1;
  // `check 5353` on a host where only 5353/udp exists: the seed had no protocols, so say where
  // the port is in use rather than call it free.
  std::optional<OtherProtocol> other;
  if (verdict == Verdict::free && !explicit_protocol(o))
    other = look_at_other_protocol(ctx, *registry, *key);

  if (o.json) {
    Json sockets = Json::array();
    for (const auto& s : live.sockets) {
      Json j = socket_json(s, *registry);
      sockets.push_back({{"address", j["address"]},
                         {"pid", j["pid"]},
                         {"process", j["process"]},
                         {"user", j["user"]},
                         {"cmdline", j["cmdline"]},
                         {"container", j["container"]},
                         {"unit", j["unit"]},
                         {"v6only", j["v6only"]},
                         {"owners", j["owners"]}});
      if (!s.owner_unknown.empty()) sockets.back()["owner_unknown"] = s.owner_unknown;
      if (j.contains("workload")) sockets.back()["workload"] = j["workload"];
    }
    Json found = Json::array();
    for (const auto& f : findings) found.push_back(finding_json(f));
    // `open` is the seed's name for `listening`; scripts doing `jq .open` keep working.
    Json out = {{"port", key->port},
                {"protocol", std::string(to_string(key->protocol))},
                {"registered", entry != nullptr},
                {"open", listening},
                {"listening", listening},
                {"allocation", entry ? entry->json : Json(nullptr)},
                {"sockets", std::move(sockets)},
                {"findings", std::move(found)},
                {"verdict", std::string(to_string(verdict))}};
    out["socket_source"] = live.socket_source;
    out["owner_source"] = live.owner_source;
    for (const auto& r : live.runs)
      if (!r.success) out["collector_errors"][r.collector] = r.error;
    if (!live.notes.empty()) out["notes"] = live.notes;
    if (other) {
      out["other_protocol"] = {{"protocol", std::string(to_string(other->key.protocol))},
                               {"registered", other->registered},
                               {"listening", other->listening}};
      std::cerr << other_protocol_note(*other) << "\n";
    }
    std::cout << out.dump(2) << "\n";
    return code;
  }

  Style style(ctx.color);
  std::string label = std::to_string(key->port) + "/" + std::string(to_string(key->protocol));
  std::cout << style.bold("Port " + label) << "\n\n";
  if (entry) {
    std::cout << "Registry: " << style.green("registered") << "\n";
    auto row = [](const char* name, const std::string& v) {
      if (!v.empty()) std::cout << "  " << name << ": " << v << "\n";
    };
    row("service", entry->service);
    row("status", entry->status);
    row("environment", entry->environment);
    row("owner", entry->owner);
    row("type", entry->service_type);
    row("url", entry->url);
    row("description", entry->description);
    row("process", entry->process);
    row("bind", entry->bind);
    row("notes", entry->notes);
  } else {
    std::cout << "Registry: " << style.yellow("not registered") << "\n";
  }
  std::cout << "\nListening: " << (listening ? style.green("yes") : style.yellow("no")) << "\n";
  for (const auto& s : live.sockets) {
    std::string addr = s.family == Family::ipv6 ? "[" + s.address + "]" : s.address;
    if (s.family == Family::ipv6 && s.address == "::")
      addr += s.v6only ? " (IPv6 only)" : " (IPv4 and IPv6)";
    std::cout << "  " << addr << "\n";
    if (const auto& wl = s.workload) {
      std::cout << "    " << wl->kind << " " << style.bold(wl->name);
      if (!wl->image.empty()) std::cout << "  image " << wl->image;
      if (!wl->compose_project.empty())
        std::cout << "  compose " << wl->compose_project << "/" << wl->compose_service;
      if (!wl->via.empty()) std::cout << "  (published through " << wl->via << ")";
      std::cout << "\n";
    }
    for (const Owner& ow : s.owners) {
      std::cout << "    pid " << ow.pid << "  " << ow.process << "  user " << ow.user;
      if (!ow.container.empty()) std::cout << "  container " << ow.container.substr(0, 12);
      if (!ow.unit.empty()) std::cout << "  unit " << ow.unit;
      std::cout << "\n      " << style.dim(ow.cmdline) << "\n";
    }
    if (s.owners.empty() && !s.owner_unknown.empty())
      std::cout << "    " << style.yellow(s.owner_unknown) << "\n";
  }
  for (const auto& r : live.runs)
    if (!r.success && !failure_noted(live, r.collector))
      std::cout << style.yellow("  collector " + r.collector + " failed: " + r.error) << "\n";
  for (const auto& note : live.notes) std::cout << style.yellow("  " + note) << "\n";
  if (!findings.empty()) {
    std::cout << "\nFindings:\n";
    for (const auto& f : findings)
      std::cout << "  " << style.red(std::string(to_string(f.kind))) << ": " << f.detail << "\n";
  }
  std::string v(to_string(verdict));
  std::cout << "\nVerdict: " << (code == 0 ? style.green(v) : style.red(v)) << " — "
            << (agents_own ? "the portman agent's own port (no entry needed)"
                           : advice(verdict, *key))
            << "\n";
  if (other) std::cout << style.yellow(other_protocol_note(*other)) << "\n";
  return code;
}

}  // namespace

void add_check_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<CheckOptions>();
  auto* cmd = app.add_subcommand("check", "Check one port: registry, sockets, owners, verdict");
  cmd->add_option("port", o->port, "The port: 3000, 3000/tcp or 5353/udp")->required();
  cmd->add_flag("--udp", o->udp, "The UDP port rather than TCP");
  cmd->add_flag("--json,-j", o->json,
                "JSON: port, registered, open (= listening), sockets, findings, verdict");
  cmd->footer(
      "Exit status: 0 when registered, listening and without findings; 1 otherwise.\n"
      "Examples:\n  portman check 3000\n  portman check 53/udp\n  portman check 8080 --json");
  cmd->callback([o, &action] { action = [o](const Context& ctx) { return run_check(ctx, *o); }; });
}

}  // namespace portman::cli
