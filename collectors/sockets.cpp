#include "collectors/sockets.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "collectors/proc_net.hpp"
#include "collectors/sock_diag.hpp"
#include "libportman/unique_fd.hpp"

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

// Whole file, read with read(2): /proc files report size 0, so no stat-based sizing.
Result<std::string> read_file(const fs::path& path, int& err) {
  err = 0;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    err = errno;
    return make_error(ErrorKind::io, "cannot open " + path.string() + ": " + std::strerror(err));
  }
  std::string text;
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n == 0) return text;
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return make_error(ErrorKind::io, "cannot read " + path.string() + ": " + std::strerror(err));
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
}

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
    auto text = read_file(path, err);
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

class SocketsCollector final : public Collector {
 public:
  explicit SocketsCollector(CollectorOptions options) : options_(std::move(options)) {}

  Status collect(const ScanScope& scope, LiveState& state) override {
    const std::string& source = options_.socket_source;
    if (source != "auto" && source != "netlink" && source != "procfs") {
      return make_error(ErrorKind::bad_input,
                        "socket source \"" + source + "\" is not one of auto, netlink, procfs");
    }
    std::vector<ListeningSocket> found;
    std::string used;
    const bool try_netlink =
        source == "netlink" || (source == "auto" && is_real_proc(options_.procfs));
    if (try_netlink) {
      int err = 0;
      Status st = fetch_sock_diag(scope.only, found, err);
      if (st) {
        used = "netlink";
      } else if (source == "netlink" || !netlink_unavailable(err)) {
        return st;
      } else {
        found.clear();  // start over from procfs rather than mix two half views
      }
    }
    if (used.empty()) {
      if (auto st = read_proc_net(options_.procfs, scope, found); !st) return st;
      used = "procfs";
    }

    const std::string netns = read_netns(options_.procfs);
    state.sockets.reserve(state.sockets.size() + found.size());
    for (ListeningSocket& s : found) {
      s.netns = netns;
      state.sockets.push_back(std::move(s));
    }
    state.socket_source = used;
    return {};
  }

 private:
  CollectorOptions options_;
};

}  // namespace

std::unique_ptr<Collector> make_sockets_collector(const CollectorOptions& options) {
  return std::make_unique<SocketsCollector>(options);
}

}  // namespace portman
