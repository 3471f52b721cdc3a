#include "libportman/report.hpp"

#include "libportman/json_writer.hpp"
#include "libportman/own_socket.hpp"
#include "libportman/summary.hpp"

namespace portman {
namespace {

// Each shape is written in one place; the Json forms below parse what these write.
void write_owner(JsonWriter& w, const Owner& o) {
  w.begin_object()
      .field("pid", static_cast<std::int64_t>(o.pid))
      .field("process", o.process)
      .field("user", o.user)
      .field("cmdline", o.cmdline)
      .field("container", o.container)
      .field("unit", o.unit)
      .end_object();
}

void write_socket(JsonWriter& w, const ListeningSocket& s, const Registry& registry) {
  const Owner* o = s.main_owner();
  static const std::string kNone;
  w.begin_object()
      .field("port", static_cast<std::int64_t>(s.port))
      .field("protocol", to_string(s.protocol))
      .field("address", s.address)
      .field("family", s.family == Family::ipv4 ? "ipv4" : "ipv6")
      .field("v6only", s.v6only);
  w.key("pid");
  if (o) {
    w.value(static_cast<std::int64_t>(o->pid));
  } else {
    w.null();
  }
  w.field("process", o ? o->process : kNone)
      .field("user", o ? o->user : kNone)
      .field("cmdline", o ? o->cmdline : kNone)
      .field("container", o ? o->container : kNone)
      .field("unit", o ? o->unit : kNone)
      .field("service_name", service_name_of(s, registry));
  w.key("owners").begin_array();
  for (const Owner& owner : s.owners) write_owner(w, owner);
  w.end_array();
  if (!s.owner_unknown.empty()) w.field("owner_unknown", s.owner_unknown);
  if (const auto& wl = s.workload) {
    w.key("workload")
        .begin_object()
        .field("kind", wl->kind)
        .field("name", wl->name)
        .field("id", wl->id)
        .field("image", wl->image)
        .field("via", wl->via)
        .field("compose_project", wl->compose_project)
        .field("compose_service", wl->compose_service)
        .end_object();
  }
  w.end_object();
}

void write_finding(JsonWriter& w, const Finding& f) {
  w.begin_object()
      .field("kind", to_string(f.kind))
      .field("port", static_cast<std::int64_t>(f.key.port))
      .field("protocol", to_string(f.key.protocol))
      .field("service_name", f.service_name)
      .field("process", f.process)
      .field("detail", f.detail)
      .end_object();
}

template <class Write>
Json as_json(Write write) {
  std::string text;
  JsonWriter w(text);
  write(w);
  return Json::parse(text);
}

}  // namespace

Json entry_json(const Entry& e) {
  Json j = e.json;
  j["port"] = e.key.port;
  j["protocol"] = std::string(to_string(e.key.protocol));
  return j;
}

Json owner_json(const Owner& o) {
  return as_json([&](JsonWriter& w) { write_owner(w, o); });
}

Json socket_json(const ListeningSocket& s, const Registry& registry) {
  return as_json([&](JsonWriter& w) { write_socket(w, s, registry); });
}

Json finding_json(const Finding& f) {
  return as_json([&](JsonWriter& w) { write_finding(w, f); });
}

namespace {

// The report into `out`; `spill` is called after each socket and finding, so that a caller
// streaming it can hand on what is written so far.
template <class Spill>
void write_scan_report(std::string& out, const Registry& registry, const LiveState& live,
                       std::span<const Finding> findings, Spill spill) {
  JsonWriter w(out);
  w.begin_object();
  w.key("listening").begin_array();
  for (const auto& s : live.sockets) {
    write_socket(w, s, registry);
    spill();
  }
  w.end_array();
  w.key("findings").begin_array();
  for (const auto& f : findings) {
    write_finding(w, f);
    spill();
  }
  w.end_array();
  const ScanSummary sum = summarize(registry, live, findings);
  auto count = [](std::size_t n) { return static_cast<std::uint64_t>(n); };
  w.key("summary")
      .begin_object()
      .field("listening", count(sum.listening))
      .field("registered", count(sum.registered))
      .field("unregistered", count(sum.of(FindingKind::unregistered)))
      .field("down", count(sum.of(FindingKind::registered_down)))
      .field("findings", count(sum.findings))
      .end_object();
  w.key("collectors").begin_array();
  for (const auto& r : live.runs)
    w.begin_object()
        .field("collector", r.collector)
        .field("success", r.success)
        .field("duration_seconds", r.duration_seconds)
        .field("error", r.error)
        .end_object();
  w.end_array();
  w.key("notes").begin_array();
  for (const auto& n : live.notes) w.value(n);
  w.end_array();
  w.field("socket_source", live.socket_source)
      .field("owner_source", live.owner_source)
      .field("sockets_owner_unknown", count(sum.sockets_owner_unknown))
      .field("processes_unreadable", static_cast<std::int64_t>(sum.processes_unreadable))
      .field("sockets_seen_at_unix_ms", live.sockets_seen_at_unix_ms)
      .end_object();
  out += '\n';
}

}  // namespace

std::string scan_report_text(const Registry& registry, const LiveState& live,
                             std::span<const Finding> findings) {
  std::string out;
  out.reserve(512 + live.sockets.size() * 800 + findings.size() * 300);
  write_scan_report(out, registry, live, findings, [] {});
  return out;
}

void stream_scan_report(const Registry& registry, const LiveState& live,
                        std::span<const Finding> findings,
                        const std::function<void(std::string_view)>& sink) {
  // 64 KiB pieces: a report of thousands of sockets is megabytes, and building it whole costs
  // a short-lived process more in fresh pages than in writing it.
  constexpr std::size_t kPiece = 64 * 1024;
  std::string out;
  out.reserve(kPiece + 4096);
  write_scan_report(out, registry, live, findings, [&] {
    if (out.size() < kPiece) return;
    sink(out);
    out.clear();
  });
  sink(out);
}

Json scan_report(const Registry& registry, const LiveState& live,
                 std::span<const Finding> findings) {
  return Json::parse(scan_report_text(registry, live, findings));
}

}  // namespace portman
