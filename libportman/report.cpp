#include "libportman/report.hpp"

#include <set>

namespace portman {

Json entry_json(const Entry& e) {
  Json j = e.json;
  j["port"] = e.key.port;
  j["protocol"] = std::string(to_string(e.key.protocol));
  return j;
}

Json owner_json(const Owner& o) {
  return Json{{"pid", o.pid},         {"process", o.process},     {"user", o.user},
              {"cmdline", o.cmdline}, {"container", o.container}, {"unit", o.unit}};
}

Json socket_json(const ListeningSocket& s, const Registry& registry) {
  const Owner* o = s.main_owner();
  const Entry* e = registry.find(s.key());
  Json j = {{"port", s.port},
            {"protocol", std::string(to_string(s.protocol))},
            {"address", s.address},
            {"family", s.family == Family::ipv4 ? "ipv4" : "ipv6"},
            {"v6only", s.v6only},
            {"pid", o ? Json(o->pid) : Json(nullptr)},
            {"process", o ? o->process : ""},
            {"user", o ? o->user : ""},
            {"cmdline", o ? o->cmdline : ""},
            {"container", o ? o->container : ""},
            {"unit", o ? o->unit : ""},
            {"service_name", e ? e->service : ""},
            {"owners", Json::array()}};
  for (const Owner& owner : s.owners) j["owners"].push_back(owner_json(owner));
  if (!s.owner_unknown.empty()) j["owner_unknown"] = s.owner_unknown;
  return j;
}

Json finding_json(const Finding& f) {
  return Json{{"kind", std::string(to_string(f.kind))},
              {"port", f.key.port},
              {"protocol", std::string(to_string(f.key.protocol))},
              {"service_name", f.service_name},
              {"process", f.process},
              {"detail", f.detail}};
}

Json scan_report(const Registry& registry, const LiveState& live,
                 std::span<const Finding> findings) {
  Json listening = Json::array();
  for (const auto& s : live.sockets) listening.push_back(socket_json(s, registry));
  Json found = Json::array();
  size_t unregistered = 0, down = 0;
  for (const auto& f : findings) {
    found.push_back(finding_json(f));
    unregistered += f.kind == FindingKind::unregistered;
    down += f.kind == FindingKind::registered_down;
  }
  Json collectors = Json::array();
  for (const auto& r : live.runs)
    collectors.push_back({{"collector", r.collector},
                          {"success", r.success},
                          {"duration_seconds", r.duration_seconds},
                          {"error", r.error}});
  return Json{{"listening", std::move(listening)},
              {"findings", std::move(found)},
              {"summary",
               {{"listening", live.sockets.size()},
                {"registered", registry.entries().size()},
                {"unregistered", unregistered},
                {"down", down},
                {"findings", findings.size()}}},
              {"collectors", std::move(collectors)},
              {"socket_source", live.socket_source},
              {"processes_unreadable", live.processes_unreadable}};
}

}  // namespace portman
