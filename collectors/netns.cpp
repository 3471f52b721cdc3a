#include "collectors/netns.hpp"

#include <algorithm>
#include <cerrno>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "collectors/proc_net.hpp"
#include "collectors/proc_process.hpp"
#include "libportman/whole_file.hpp"

namespace portman {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kProcNetMaxBytes = 256u << 20;  // as the sockets collector allows
constexpr std::size_t kCgroupMaxBytes = 64u << 10;

std::string read_link(const fs::path& p) {
  std::error_code ec;
  fs::path target = fs::read_symlink(p, ec);
  return ec ? std::string() : target.string();
}

std::vector<pid_t> list_pids(const fs::path& procfs, std::error_code& ec) {
  std::vector<pid_t> pids;
  for (fs::directory_iterator it(procfs, ec), end; !ec && it != end; it.increment(ec))
    if (auto pid = parse_pid(it->path().filename().string())) pids.push_back(*pid);
  std::sort(pids.begin(), pids.end());
  return pids;
}

struct Table {
  const char* name;
  Protocol protocol;
  Family family;
};
constexpr Table kTables[] = {{"tcp", Protocol::tcp, Family::ipv4},
                             {"tcp6", Protocol::tcp, Family::ipv6},
                             {"udp", Protocol::udp, Family::ipv4},
                             {"udp6", Protocol::udp, Family::ipv6}};

}  // namespace

Status collect_netns_sockets(const fs::path& procfs, const ScanScope& scope, LiveState& state) {
  std::vector<std::string> skip;  // the scanned namespace(s): their sockets are already there
  if (std::string own = read_link(procfs / "self" / "ns" / "net"); !own.empty())
    skip.push_back(own);
  for (const ListeningSocket& s : state.sockets)
    if (!s.netns.empty() && std::find(skip.begin(), skip.end(), s.netns) == skip.end())
      skip.push_back(s.netns);

  std::error_code ec;
  std::vector<pid_t> pids = list_pids(procfs, ec);
  if (ec)
    return make_error(ErrorKind::io, "cannot list procfs " + procfs.string() + ": " + ec.message());

  // The first process met of each namespace: pids ascend, so it is the namespace's oldest
  // process as a rule (docker-init, or the container's entry point).
  std::map<std::string, pid_t> first;
  for (pid_t pid : pids) {
    std::string ns = read_link(procfs / std::to_string(pid) / "ns" / "net");
    if (ns.empty() || std::find(skip.begin(), skip.end(), ns) != skip.end()) continue;
    first.try_emplace(std::move(ns), pid);
  }

  for (const auto& [ns, pid] : first) {
    const fs::path dir = procfs / std::to_string(pid);
    auto cgroup = read_whole_file(dir / "cgroup", kCgroupMaxBytes);
    if (!cgroup) continue;  // exited meanwhile
    std::string container = parse_cgroup(*cgroup).container;
    if (container.empty()) continue;  // not a container's namespace (ip netns, a sandbox)

    std::vector<ListeningSocket> found;
    bool read_any = false;
    for (const Table& t : kTables) {
      auto text = read_whole_file(dir / "net" / t.name, kProcNetMaxBytes);
      if (!text) continue;  // IPv6 off in that namespace, or the process exited
      read_any = true;
      // A malformed table is the kernel's, not the user's: keep what parsed and go on.
      (void)parse_proc_net(*text, t.protocol, t.family, found);
    }
    if (!read_any) continue;
    for (ListeningSocket& s : found) {
      if (scope.only && s.key() != *scope.only) continue;
      s.netns = ns;
      s.workload = std::make_shared<const Workload>(
          Workload{"container", container.substr(0, 12), container, {}, {}, {}, {}});
      state.sockets.push_back(std::move(s));
    }
  }
  return {};
}

namespace {

class NetnsCollector final : public Collector {
 public:
  explicit NetnsCollector(CollectorOptions options) : options_(std::move(options)) {}
  Status collect(const ScanScope& scope, LiveState& state) override {
    return collect_netns_sockets(options_.procfs, scope, state);
  }

 private:
  CollectorOptions options_;
};

}  // namespace

std::unique_ptr<Collector> make_netns_collector(const CollectorOptions& options) {
  return std::make_unique<NetnsCollector>(options);
}

}  // namespace portman
