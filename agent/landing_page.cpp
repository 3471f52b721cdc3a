#include "agent/landing_page.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "libportman/own_socket.hpp"
#include "libportman/summary.hpp"

namespace portman::agent {

std::string html_escape(std::string_view text) {
  constexpr std::string_view kSpecial = "&<>\"'";
  if (text.find_first_of(kSpecial) == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// One row of the ports table: everything known about one port and protocol.
struct PortRow {
  PortKey key;
  const Entry* entry = nullptr;
  std::vector<const ListeningSocket*> sockets;
  std::vector<const Finding*> findings;
};

// to_chars, not printf: the page must not depend on the process locale either.
std::string format_seconds(double seconds) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, seconds, std::chars_format::general, 4);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

std::string utc_time(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  if (!gmtime_r(&secs, &tm)) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string display_address(const ListeningSocket& s) {
  return s.family == Family::ipv6 ? "[" + s.address + "]" : s.address;
}

// Distinct values in first-seen order, joined; already escaped.
std::string joined(const std::vector<std::string>& values) {
  std::vector<std::string> seen;
  for (const auto& v : values)
    if (!v.empty() && std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
  std::string out;
  for (const auto& v : seen) {
    if (!out.empty()) out += ", ";
    out += html_escape(v);
  }
  return out;
}

std::vector<PortRow> build_rows(const Snapshot& snap, const Registry& registry) {
  std::map<PortKey, PortRow> rows;
  auto row = [&](PortKey key) -> PortRow& {
    PortRow& r = rows[key];
    r.key = key;
    return r;
  };
  for (const Entry& e : registry.entries()) {
    PortRow& r = row(e.key);
    if (!r.entry) r.entry = &e;  // a port registered twice shows its first entry (and a finding)
  }
  for (const ListeningSocket& s : snap.live.sockets) row(s.key()).sockets.push_back(&s);
  for (const Finding& f : snap.findings) row(f.key).findings.push_back(&f);
  std::vector<PortRow> out;
  out.reserve(rows.size());
  for (auto& [key, r] : rows) out.push_back(std::move(r));
  return out;
}

constexpr std::string_view kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1d1d1f;background:#fff}
h1{margin-bottom:.2em}
.meta{color:#555;margin-top:0}
nav a{margin-right:1em}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f0f0f0}
tr.finding td{background:#fff3cd}
tr.down td.up{color:#b00020;font-weight:bold}
td.up.yes{color:#0a7a20}
.warn{background:#fde2e1;border:1px solid #b00020;padding:.5em;margin:1em 0}
ul.findings{margin:0;padding-left:1.2em}
.kind{font-family:monospace;font-weight:bold}
.ok{color:#0a7a20}
.failed{color:#b00020;font-weight:bold}
)";

void render_port_table(std::string& h, const std::vector<PortRow>& rows) {
  h += "<h2>Ports</h2>\n";
  if (rows.empty()) {
    h += "<p>No registered or listening ports.</p>\n";
    return;
  }
  h += "<table>\n<thead><tr><th>port</th><th>protocol</th><th>address</th><th>process</th>"
       "<th>user</th><th>container</th><th>service</th><th>status</th><th>up</th>"
       "<th>findings</th></tr></thead>\n<tbody>\n";
  for (const PortRow& r : rows) {
    std::vector<std::string> addresses, processes, users, containers;
    for (const ListeningSocket* s : r.sockets) {
      addresses.push_back(display_address(*s));
      if (const Owner* o = s->main_owner()) {
        processes.push_back(o->process);
        users.push_back(o->user);
      }
      if (std::string c = s->container(); !c.empty()) containers.push_back(std::move(c));
    }
    bool up = !r.sockets.empty();
    std::string classes;
    if (!r.findings.empty()) classes += "finding";
    // Only an active entry is expected to listen; an idle one that does not is no alarm.
    if (r.entry && r.entry->status == "active" && !up)
      classes += classes.empty() ? "down" : " down";

    h += classes.empty() ? "<tr>" : "<tr class=\"" + classes + "\">";
    h += "<td>" + std::to_string(r.key.port) + "</td>";
    h += "<td>" + std::string(to_string(r.key.protocol)) + "</td>";
    h += "<td>" + joined(addresses) + "</td>";
    h += "<td>" + (processes.empty() && up ? std::string("<em>unknown</em>") : joined(processes)) +
         "</td>";
    h += "<td>" + joined(users) + "</td>";
    h += "<td>" + joined(containers) + "</td>";
    // An agent's own port without an entry is portman's, not unregistered (own_socket.hpp).
    bool own = !r.entry && port_held_by_portman_agent(r.sockets);
    h += "<td>" +
         (r.entry ? html_escape(r.entry->service)
          : own   ? html_escape(kAgentServiceName)
                  : std::string()) +
         "</td>";
    h += "<td>" +
         (r.entry ? html_escape(r.entry->status)
                  : std::string(own ? "<em>own port</em>" : "<em>unregistered</em>")) +
         "</td>";
    h += std::string("<td class=\"up ") + (up ? "yes\">yes" : "no\">no") + "</td>";
    h += "<td>";
    if (!r.findings.empty()) {
      h += "<ul class=\"findings\">";
      for (const Finding* f : r.findings)
        h += "<li><span class=\"kind\">" + html_escape(to_string(f->kind)) +
             "</span>: " + html_escape(f->detail) + "</li>";
      h += "</ul>";
    }
    h += "</td></tr>\n";
  }
  h += "</tbody>\n</table>\n";
}

void render_findings(std::string& h, const Snapshot& snap) {
  h += "<h2>Findings</h2>\n";
  if (snap.findings.empty()) {
    h += "<p class=\"ok\">No findings: the registry and the live state agree.</p>\n";
    return;
  }
  h += "<table>\n<thead><tr><th>kind</th><th>port</th><th>protocol</th><th>service</th>"
       "<th>process</th><th>detail</th></tr></thead>\n<tbody>\n";
  for (const Finding& f : snap.findings) {
    h += "<tr class=\"finding\"><td class=\"kind\">" + html_escape(to_string(f.kind)) + "</td>";
    h += "<td>" + std::to_string(f.key.port) + "</td>";
    h += "<td>" + std::string(to_string(f.key.protocol)) + "</td>";
    h += "<td>" + html_escape(f.service_name) + "</td>";
    h += "<td>" + html_escape(f.process) + "</td>";
    h += "<td>" + html_escape(f.detail) + "</td></tr>\n";
  }
  h += "</tbody>\n</table>\n";
}

void render_collectors(std::string& h, const Snapshot& snap) {
  h += "<h2>Collectors</h2>\n";
  if (snap.live.runs.empty()) {
    h += "<p>No collector has run yet.</p>\n";
    return;
  }
  h += "<table>\n<thead><tr><th>collector</th><th>success</th><th>duration (s)</th>"
       "<th>error</th></tr></thead>\n<tbody>\n";
  for (const CollectorRun& r : snap.live.runs) {
    h += "<tr><td>" + html_escape(r.collector) + "</td>";
    h += r.success ? "<td class=\"ok\">yes</td>" : "<td class=\"failed\">no</td>";
    h += "<td>" + format_seconds(r.duration_seconds) + "</td>";
    h += "<td>" + html_escape(r.error) + "</td></tr>\n";
  }
  h += "</tbody>\n</table>\n";
  if (snap.inventories.empty()) return;
  // What should be deployed, asked in the background: a failure keeps the last good answer.
  h += "<h2>Inventory sources</h2>\n<table>\n<thead><tr><th>source</th><th>up</th>"
       "<th>last success</th><th>services</th><th>error</th></tr></thead>\n<tbody>\n";
  const double now = std::chrono::duration<double>(snap.taken_at.time_since_epoch()).count();
  for (const InventoryState& i : snap.inventories) {
    h += "<tr><td>" + html_escape(i.source) + "</td>";
    h += i.up ? "<td class=\"ok\">yes</td>" : "<td class=\"failed\">no</td>";
    h += "<td>" +
         (i.last_success > 0 ? format_seconds(now - i.last_success) + " s ago"
                             : std::string("never")) +
         "</td>";
    h += "<td>" + (i.last_good ? std::to_string(i.last_good->services.size()) : std::string("-")) +
         "</td>";
    h += "<td>" + html_escape(i.error) + "</td></tr>\n";
  }
  h += "</tbody>\n</table>\n";
}

}  // namespace

std::string render_landing_page(const Snapshot& snap, const BuildInfo& build,
                                std::string_view telemetry_path) {
  const Registry empty;
  const Registry& registry = snap.registry ? *snap.registry : empty;
  std::vector<PortRow> rows = build_rows(snap, registry);
  const ScanSummary sum = summarize(registry, snap.live, snap.findings);

  std::string h;
  h.reserve(4096 + rows.size() * 400);
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       "<meta http-equiv=\"refresh\" content=\"10\">\n<title>portman agent</title>\n<style>";
  h += kStyle;
  h += "</style>\n</head>\n<body>\n<h1>portman agent</h1>\n";
  h += "<p class=\"meta\">version " + html_escape(build.version) + ", revision " +
       html_escape(build.revision) + "; scanned at " + utc_time(snap.taken_at);
  if (!snap.live.socket_source.empty()) {
    h += " (sockets from " + html_escape(snap.live.socket_source);
    if (!snap.live.owner_source.empty())
      h += ", owners from " + html_escape(snap.live.owner_source);
    h += ")";
  }
  h += "</p>\n";
  h += "<nav><a href=\"" + html_escape(telemetry_path) + "\">Metrics</a>" +
       "<a href=\"/api/scan\">Scan (JSON)</a><a href=\"/healthz\">Health</a></nav>\n";
  if (!snap.registry_present) {
    h += "<p class=\"warn\">No registry file at <code>" + html_escape(snap.registry_path) +
         "</code>: ";
    h += snap.registry_last_reload_success > 0
             ? "the last good registry is in use."
             : "every listening port shows as unregistered. Check <code>--registry</code>, "
               "<code>PORT_REGISTRY_PATH</code> or <code>registry:</code> in portman.yml; "
               "<code>portman allocate</code> creates the file.";
    h += "</p>\n";
  } else if (!snap.registry_valid) {
    h += "<p class=\"warn\">The registry file on disk is invalid; the last good registry is in "
         "use.</p>\n";
  }
  // Unreadable processes matter only when a socket is left without its owner because of them.
  if (sum.sockets_owner_unknown > 0) {
    std::size_t unknown = sum.sockets_owner_unknown;
    int n = sum.processes_unreadable;
    h += "<p class=\"warn\">" + std::to_string(unknown) +
         (unknown == 1 ? " socket has" : " sockets have") +
         " no known owner: " + std::to_string(n) + (n == 1 ? " process" : " processes") +
         " could not be read (permissions; see docs/security.md).</p>\n";
  }
  for (const std::string& note : snap.live.notes)
    h += "<p class=\"warn\">" + html_escape(note) + "</p>\n";
  h += "<p class=\"summary\">" + std::to_string(sum.listening) + " listening, " +
       std::to_string(sum.registered) + " registered, " +
       std::to_string(sum.of(FindingKind::unregistered)) + " unregistered, " +
       std::to_string(sum.findings) + " findings</p>\n";

  render_port_table(h, rows);
  render_findings(h, snap);
  render_collectors(h, snap);
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace portman::agent
