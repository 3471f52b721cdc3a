#include "libportman/findings.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <span>
#include <utility>

#include "libportman/own_socket.hpp"

namespace portman {

std::string_view to_string(FindingKind kind) {
  switch (kind) {
    case FindingKind::unregistered:
      return "unregistered";
    case FindingKind::registered_down:
      return "registered_down";
    case FindingKind::status_mismatch:
      return "status_mismatch";
    case FindingKind::owner_mismatch:
      return "owner_mismatch";
    case FindingKind::out_of_range:
      return "out_of_range";
    case FindingKind::duplicate:
      return "duplicate";
    case FindingKind::exposure_mismatch:
      return "exposure_mismatch";
    case FindingKind::dokploy_unregistered:
      return "dokploy_unregistered";
    case FindingKind::dokploy_mismatch:
      return "dokploy_mismatch";
    case FindingKind::dokploy_collision:
      return "dokploy_collision";
  }
  return "unknown";
}

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::ok:
      return "ok";
    case Verdict::unregistered:
      return "unregistered";
    case Verdict::down:
      return "down";
    case Verdict::idle:
      return "idle";
    case Verdict::status_mismatch:
      return "status_mismatch";
    case Verdict::conflict:
      return "conflict";
    case Verdict::free:
      return "free";
  }
  return "unknown";
}

namespace {

bool is_v4_mapped(std::string_view a) {
  return a.rfind("::ffff:", 0) == 0 && a.find('.') != a.npos;
}

// The IPv4 address an IPv6 socket's address stands for ("::ffff:1.2.3.4" → "1.2.3.4").
std::string_view v4_part(std::string_view a) {
  return is_v4_mapped(a) ? a.substr(7) : a;
}

bool is_loopback(std::string_view address) {
  std::string_view a = v4_part(address);
  return a == "::1" || a.rfind("127.", 0) == 0;
}

bool is_wildcard(std::string_view a) {
  return a == "0.0.0.0" || a == "::" || a.empty() || a == "*";
}

// Whether socket `s` accepts traffic that an entry bound to `bind` should not: it listens on
// every address while `bind` is one, or on a non-loopback address other than `bind`.
bool wider_than(const ListeningSocket& s, std::string_view bind) {
  if (is_wildcard(bind)) return false;
  if (s.wildcard()) return true;
  if (v4_part(s.address) == v4_part(bind)) return false;
  return !is_loopback(s.address);
}

// Programs are told apart by process name: SO_REUSEPORT workers of one server share it.
// A published port is the container's, not its proxy's (holder()).
std::string program_of(const ListeningSocket& s) {
  return s.holder();
}

bool owner_matches(const Owner& o, std::string_view expected) {
  if (o.process == expected) return true;
  if (expected.size() > 15 && o.process == expected.substr(0, 15)) return true;  // comm is cut
  auto base = [](std::string_view p) { return p.substr(p.rfind('/') + 1); };
  if (!o.exe.empty() && base(o.exe) == expected) return true;
  std::string_view argv0 = std::string_view(o.cmdline).substr(0, o.cmdline.find(' '));
  return !argv0.empty() && base(argv0) == expected;
}

}  // namespace

bool addresses_overlap(const ListeningSocket& a, const ListeningSocket& b) {
  if (a.protocol != b.protocol || a.port != b.port) return false;
  // Which IPv4 traffic a socket takes: a dual-stack :: takes all of it too.
  auto takes_all_v4 = [](const ListeningSocket& s) {
    return (s.family == Family::ipv4 && s.address == "0.0.0.0") ||
           (s.family == Family::ipv6 && s.address == "::" && !s.v6only);
  };
  auto v4_addr = [](const ListeningSocket& s) -> std::string_view {
    if (s.family == Family::ipv4) return s.address;
    return is_v4_mapped(s.address) ? v4_part(s.address) : std::string_view();
  };
  auto takes_v6 = [](const ListeningSocket& s) {
    return s.family == Family::ipv6 && !is_v4_mapped(s.address);
  };
  // IPv4 side.
  bool a4 = takes_all_v4(a) || !v4_addr(a).empty();
  bool b4 = takes_all_v4(b) || !v4_addr(b).empty();
  if (a4 && b4 && (takes_all_v4(a) || takes_all_v4(b) || v4_addr(a) == v4_addr(b))) return true;
  // IPv6 side.
  if (takes_v6(a) && takes_v6(b))
    return a.address == "::" || b.address == "::" || a.address == b.address;
  return false;
}

std::vector<Finding> compare(const Registry& registry, const LiveState& live,
                             const Config& config) {
  std::vector<Finding> out;
  // The sockets on this host by port: runs of one sorted list (a scan's sockets are sorted so
  // already), not a map of vectors.
  std::vector<const ListeningSocket*> on_host;
  on_host.reserve(live.sockets.size());
  for (const auto& s : live.sockets)
    if (s.on_host(live)) on_host.push_back(&s);
  auto by_key = [](const ListeningSocket* a, const ListeningSocket* b) {
    return a->key() < b->key();
  };
  if (!std::is_sorted(on_host.begin(), on_host.end(), by_key))
    std::stable_sort(on_host.begin(), on_host.end(), by_key);
  using Sockets = std::span<const ListeningSocket* const>;
  std::vector<std::pair<PortKey, Sockets>> by_port;
  for (std::size_t i = 0; i < on_host.size();) {
    std::size_t j = i + 1;
    while (j < on_host.size() && on_host[j]->key() == on_host[i]->key()) ++j;
    by_port.emplace_back(on_host[i]->key(), Sockets(on_host).subspan(i, j - i));
    i = j;
  }
  auto listening_on = [&](PortKey key) -> Sockets {
    auto it = std::lower_bound(by_port.begin(), by_port.end(), key,
                               [](const auto& p, PortKey k) { return p.first < k; });
    return it != by_port.end() && it->first == key ? it->second : Sockets();
  };

  auto add = [&](FindingKind kind, PortKey key, const Entry* e, const ListeningSocket* s,
                 std::string detail) {
    out.push_back({kind, key, e ? e->service : std::string(), s ? s->holder() : std::string(),
                   std::move(detail)});
  };
  // "nginx (pid 12) on 0.0.0.0", appended to `out`: thousands of findings are described a scan.
  auto append_who = [](std::string& out, const ListeningSocket* s) {
    if (s->workload) {
      out += s->workload->kind;
      out += ' ';
      out += s->workload->name;
      if (!s->workload->image.empty()) ((out += " (") += s->workload->image) += ')';
    } else if (const Owner* o = s->main_owner()) {
      out += o->process;
      ((out += " (pid ") += std::to_string(o->pid)) += ')';  // short: no allocation
    } else {
      out += "an unknown process";
    }
    out += " on ";
    if (s->family == Family::ipv6)
      ((out += '[') += s->address) += ']';
    else
      out += s->address;
  };
  auto who = [&](const ListeningSocket* s) {
    std::string name;
    append_who(name, s);
    return name;
  };

  // Registry side: one pass over the entries.
  const Entry* prev = nullptr;
  for (const Entry& e : registry.entries()) {
    const Sockets listening = listening_on(e.key);
    const ListeningSocket* first = listening.empty() ? nullptr : listening.front();
    if (prev && prev->key == e.key)
      add(FindingKind::duplicate, e.key, &e, first,
          "registered twice: as \"" + prev->raw_key + "\" (" + prev->service + ") and \"" +
              e.raw_key + "\" (" + e.service + ")");
    prev = &e;
    if (!first) {
      if (e.status == "active")
        add(FindingKind::registered_down, e.key, &e, nullptr,
            "status active but nothing listens on " + std::to_string(e.key.port) + "/" +
                std::string(to_string(e.key.protocol)));
    } else {
      if (e.status != "active")
        add(FindingKind::status_mismatch, e.key, &e, first,
            "listening (" + who(first) + ") but status is " +
                (e.status.empty() ? std::string("unset") : e.status) + "; run: portman update " +
                std::to_string(e.key.port) + " active");
      for (const ListeningSocket* s : listening) {
        const Owner* o = s->main_owner();
        if (!e.process.empty() && o && !owner_matches(*o, e.process)) {
          add(FindingKind::owner_mismatch, e.key, &e, s,
              "expected process " + e.process + ", found " + who(s));
          break;
        }
      }
      if (!e.bind.empty()) {
        for (const ListeningSocket* s : listening) {
          if (wider_than(*s, e.bind)) {
            add(FindingKind::exposure_mismatch, e.key, &e, s,
                "should listen on " + e.bind + " only, but " + who(s) + " is reachable wider");
            break;
          }
        }
      }
    }
    // A port chosen elsewhere (an entry `sync` made for a Dokploy service) was never taken
    // from the type's range: its type describes the service, not where the port came from.
    const bool chosen_elsewhere = e.json.contains("dokploy") && e.json["dokploy"].is_object();
    if (!e.service_type.empty() && !chosen_elsewhere) {
      if (const ServiceType* t = config.find_type(e.service_type);
          t && !t->range.contains(e.key.port))
        add(FindingKind::out_of_range, e.key, &e, first,
            "type " + t->name + " uses " + t->range.to_string() + ", port " +
                std::to_string(e.key.port) + " is outside it");
    }
  }

  // Live side: one pass over the ports that listen.
  for (const auto& [key, sockets] : by_port) {
    const Entry* e = registry.find(key);
    if (!e) {
      // A portman agent's own socket is portman's, not an unregistered port (own_socket.hpp).
      bool all_ignored = std::all_of(sockets.begin(), sockets.end(), [&](const ListeningSocket* s) {
        return config.ignore.ignores(*s) || config.ignore.ephemeral_client(*s, live) ||
               held_by_portman_agent(*s);
      });
      if (!all_ignored) {
        std::string detail;
        detail.reserve(128);
        append_who(detail, sockets.front());
        detail += " listens but the port is not registered; run: portman allocate NAME -p ";
        detail += std::to_string(key.port);
        if (key.protocol == Protocol::udp) detail += " --udp";
        add(FindingKind::unregistered, key, nullptr, sockets.front(), std::move(detail));
      }
    }
    // Two different programs where traffic can reach either. One report per port is enough.
    bool reported = false;
    for (size_t i = 0; i < sockets.size() && !reported; ++i) {
      for (size_t j = i + 1; j < sockets.size() && !reported; ++j) {
        const ListeningSocket* a = sockets[i];
        const ListeningSocket* b = sockets[j];
        if (a->inode == b->inode || !addresses_overlap(*a, *b)) continue;
        std::string pa = program_of(*a), pb = program_of(*b);
        if (pa.empty() || pb.empty() || pa == pb) continue;
        add(FindingKind::duplicate, key, e, a,
            "two programs share the port: " + who(a) + " and " + who(b));
        reported = true;
      }
    }
  }

  sort_findings(out);
  return out;
}

void sort_findings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.key != b.key) return a.key < b.key;
    return a.kind < b.kind;
  });
}

Verdict verdict_for(const Entry* entry, bool listening, std::span<const Finding> findings) {
  auto has = [&](FindingKind k) {
    return std::any_of(findings.begin(), findings.end(),
                       [&](const Finding& f) { return f.kind == k; });
  };
  if (!entry) return listening ? Verdict::unregistered : Verdict::free;
  if (!listening) {
    if (has(FindingKind::registered_down)) return Verdict::down;
    return findings.empty() ? Verdict::idle : Verdict::conflict;
  }
  if (findings.empty()) return Verdict::ok;
  if (findings.size() == 1 && has(FindingKind::status_mismatch)) return Verdict::status_mismatch;
  return Verdict::conflict;
}

}  // namespace portman
