#include "collectors/sockets.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "collectors/proc_net.hpp"
#include "collectors/sock_diag.hpp"
#include "libportman/unique_fd.hpp"
#include "libportman/whole_file.hpp"

namespace portman {
namespace {

namespace fs = std::filesystem;

// Errors that mean "netlink is not available here" (sandbox, seccomp, old or trimmed kernel,
// missing udp_diag module) rather than "something broke": procfs can still answer.
bool netlink_unavailable(int err) {
  switch (err) {
    case EPERM:
    case EACCES:
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT:
    case ESOCKTNOSUPPORT:
    case EOPNOTSUPP:
    case ENOENT:
    case EINVAL:
      return true;
    default:
      return false;
  }
}

// /proc/net/tcp is 150 bytes a socket: room for a million.
constexpr std::size_t kProcNetMaxBytes = 256u << 20;

Status read_proc_net(const fs::path& procfs, const ScanScope& scope,
                     std::vector<ListeningSocket>& out) {
  struct Table {
    const char* name;
    Protocol proto;
    Family family;
  };
  static constexpr Table kTables[] = {
      {"tcp", Protocol::tcp, Family::ipv4},
      {"tcp6", Protocol::tcp, Family::ipv6},
      {"udp", Protocol::udp, Family::ipv4},
      {"udp6", Protocol::udp, Family::ipv6},
  };
  const std::size_t first = out.size();
  for (const Table& t : kTables) {
    if (scope.only && scope.only->protocol != t.proto) continue;
    const fs::path path = procfs / "net" / t.name;
    int err = 0;
    auto text = read_whole_file(path, kProcNetMaxBytes, &err);
    if (!text) {
      if (err == ENOENT && t.family == Family::ipv6) continue;  // IPv6 disabled
      return text.error();
    }
    if (auto st = parse_proc_net(*text, t.proto, t.family, out); !st) {
      return make_error(st.error().kind, path.string() + ": " + st.error().message);
    }
  }
  if (scope.only) {
    const auto mine = out.begin() + static_cast<std::ptrdiff_t>(first);
    out.erase(std::remove_if(mine, out.end(),
                             [&](const ListeningSocket& s) { return s.port != scope.only->port; }),
              out.end());
  }
  return {};
}

// "net:[4026531840]", or empty when the link cannot be read (fixture tree, no permission).
std::string read_netns(const fs::path& procfs) {
  std::error_code ec;
  const fs::path target = fs::read_symlink(procfs / "self" / "ns" / "net", ec);
  return ec ? std::string{} : target.string();
}

bool is_real_proc(const fs::path& procfs) {
  std::string p = procfs.string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p == "/proc";
}

}  // namespace

std::optional<std::pair<std::uint16_t, std::uint16_t>> read_ephemeral_ports(
    const fs::path& procfs) {
  auto text = read_whole_file(procfs / "sys/net/ipv4/ip_local_port_range", 4096);
  if (!text) return std::nullopt;
  unsigned first = 0, last = 0;
  if (std::sscanf(text->c_str(), "%u %u", &first, &last) != 2 || first == 0 || last > 65535 ||
      first > last)
    return std::nullopt;
  return std::pair{static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last)};
}

namespace {

class SocketsCollector final : public Collector {
  // A socket by protocol and inode (an inode is unique while its socket exists).
  using SocketId = std::pair<Protocol, std::uint64_t>;

 public:
  explicit SocketsCollector(CollectorOptions options) : options_(std::move(options)) {}

  // A second look from the same source, now that the other collectors are done: the sockets of
  // the first one that are no longer there are dropped (200 listeners a second come and go while
  // /proc is walked). Only sockets this collector added, and only when the second look worked.
  // Sockets a later source already saw listening (the BPF owner iterator) need no second look:
  // when that leaves a few, each is looked up by its port; when it leaves none, the scan's
  // sockets were last seen when that source began to look.
  void confirm(const ScanScope& scope, LiveState& state) override {
    if (added_.empty()) return;
    std::vector<SocketId> unseen;
    if (state.later_look) {
      const auto& seen = state.later_look->inodes;
      for (const SocketId& id : added_)
        if (!std::binary_search(seen.begin(), seen.end(), id.second)) unseen.push_back(id);
      // The sockets it saw were last seen then, earlier than the scan's end.
      state.sockets_seen_at_unix_ms =
          std::min(state.sockets_seen_at_unix_ms, state.later_look->at_unix_ms);
      if (unseen.empty()) {
        added_.clear();
        return;
      }
    }
    std::vector<ListeningSocket> now;
    Status st = look_again(scope, state, unseen, now);
    if (!st) return;
    std::vector<SocketId> alive;
    alive.reserve(now.size());
    for (const ListeningSocket& s : now) alive.push_back({s.protocol, s.inode});
    std::sort(alive.begin(), alive.end());
    const auto& gone_from = unseen.empty() ? added_ : unseen;
    std::erase_if(state.sockets, [&](const ListeningSocket& s) {
      SocketId id{s.protocol, s.inode};
      return s.netns == netns_ && std::binary_search(gone_from.begin(), gone_from.end(), id) &&
             !std::binary_search(alive.begin(), alive.end(), id);
    });
    added_.clear();
  }

  Status collect(const ScanScope& scope, LiveState& state) override {
    const std::string& source = options_.socket_source;
    if (source != "auto" && source != "netlink" && source != "procfs") {
      return make_error(ErrorKind::bad_input,
                        "socket source \"" + source + "\" is not one of auto, netlink, procfs");
    }
    // Parsed straight into the state, with room reserved: a ListeningSocket is large, and
    // moving 2,200 of them while the vector grows cost more than parsing them.
    std::vector<ListeningSocket>& out = state.sockets;
    const std::size_t first = out.size();
    out.reserve(first + (scope.only ? kSlack : std::max(last_found_, kInitial) + kSlack));
    const auto drop_new = [&] {
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
    };
    std::string used;
    const bool try_netlink =
        source == "netlink" || (source == "auto" && is_real_proc(options_.procfs));
    if (try_netlink) {
      int err = 0;
      Status st = fetch_sock_diag(scope.only, out, err);
      if (st) {
        used = "netlink";
      } else {
        drop_new();  // start over from procfs rather than mix two half views
        if (source == "netlink" || !netlink_unavailable(err)) return st;
      }
    }
    if (used.empty()) {
      if (auto st = read_proc_net(options_.procfs, scope, out); !st) {
        drop_new();
        return st;
      }
      used = "procfs";
    }

    const std::string netns = read_netns(options_.procfs);
    added_.clear();
    for (auto it = out.begin() + static_cast<std::ptrdiff_t>(first); it != out.end(); ++it) {
      it->netns = netns;
      if (it->inode != 0) added_.push_back({it->protocol, it->inode});
    }
    std::sort(added_.begin(), added_.end());
    last_found_ = out.size() - first;
    used_ = used;
    netns_ = netns;
    state.socket_source = used;
    state.netns = netns;
    state.ephemeral_ports = read_ephemeral_ports(options_.procfs);
    return {};
  }

 private:
  // The confirming look: everything again, or only the ports of `unseen` when they are few
  // (a kernel socket nobody holds, such as WireGuard's or lockd's, is never seen by a holder).
  Status look_again(const ScanScope& scope, const LiveState& state,
                    const std::vector<SocketId>& unseen, std::vector<ListeningSocket>& now) {
    int err = 0;
    if (used_ != "netlink") return read_proc_net(options_.procfs, scope, now);
    if (unseen.empty() || unseen.size() > kFewUnseen || scope.only) {
      now.reserve(added_.size() + kSlack);
      return fetch_sock_diag(scope.only, now, err);
    }
    std::vector<PortKey> ports;
    for (const ListeningSocket& s : state.sockets) {
      if (s.netns != netns_ ||
          !std::binary_search(unseen.begin(), unseen.end(), SocketId{s.protocol, s.inode}))
        continue;
      if (std::find(ports.begin(), ports.end(), s.key()) == ports.end()) ports.push_back(s.key());
    }
    for (const PortKey& key : ports)
      if (Status st = fetch_sock_diag(key, now, err); !st) return st;
    return {};
  }

  CollectorOptions options_;
  // What the last collect() added, for confirm(): the source it used, its namespace, the
  // sockets by SocketId. Sorted vectors, not sets: 2,200 tree nodes a scan cost more than the
  // dump's parsing.
  static constexpr std::size_t kSlack = 64;
  // Up to this many sockets left unconfirmed are looked up one port at a time (a filtered dump
  // each), more by one whole dump.
  static constexpr std::size_t kFewUnseen = 4;
  // Before the first scan (every one-shot command): 1.5 MB of address space, touched only as far
  // as sockets are found.
  static constexpr std::size_t kInitial = 4096;
  std::string used_, netns_;
  std::vector<SocketId> added_;  // sorted
  std::size_t last_found_ = 0;   // sockets the last collect() found: this one's reserve
};

}  // namespace

std::unique_ptr<Collector> make_sockets_collector(const CollectorOptions& options) {
  return std::make_unique<SocketsCollector>(options);
}

}  // namespace portman
