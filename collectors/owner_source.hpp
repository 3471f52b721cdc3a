// Where the owners collector learns which processes hold which sockets: the /proc walk
// (owner_walk.cpp) or the BPF iterator (owner_bpf.cpp), chosen at run time by owners.method.
// Both answer the same question the same way; the collector reads each holder's details (comm,
// cmdline, user, container) from procfs afterwards, whichever source found it.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "libportman/result.hpp"

namespace portman {

// A process holding a socket, and the fd it holds it by: enough to verify it later with one
// readlink instead of looking again.
struct Holding {
  pid_t pid = 0;
  int fd = -1;
  bool operator<(const Holding& o) const { return pid < o.pid; }
  bool operator==(const Holding&) const = default;
};

struct OwnerQuery {
  std::vector<std::uint64_t> inodes;  // the sockets to attribute, each once
  std::vector<std::string> netns;     // their network namespaces ("net:[N]"); empty: unknown
  std::optional<std::uint16_t> port;  // set when every one of them is on this port
};

// What a source saw of a holder process itself, as procfs would show it: the collector then
// reads only the rest. The /proc walk sees nothing of the kind.
struct ProcessFacts {
  std::string comm;           // /proc/PID/comm, without its newline; empty: not seen
  std::optional<uid_t> euid;  // /proc/PID/status's effective uid, as this process would read it
};

// One process holding one socket.
struct HeldBy {
  std::uint64_t inode = 0;
  Holding holder;
  bool operator==(const HeldBy&) const = default;
  // By inode, then pid, then fd: a process's lowest fd on a socket comes first.
  bool operator<(const HeldBy& o) const {
    return std::tie(inode, holder.pid, holder.fd) < std::tie(o.inode, o.holder.pid, o.holder.fd);
  }
};

struct OwnerFindings {
  // The holders of the sockets asked about, by socket inode, then pid; one per process (the
  // lowest fd of a dup'ed socket). A socket nobody holds (or only processes that could not be
  // read) has none. One flat list: a vector per socket cost thousands of allocations a scan.
  std::vector<HeldBy> holders;
  std::unordered_map<pid_t, ProcessFacts> facts;  // holder pid -> what the source saw of it
  int unreadable = 0;                             // processes whose fds could not be read

  // The holders of one socket, in pid order.
  std::vector<Holding> of(std::uint64_t inode) const {
    auto first = std::lower_bound(holders.begin(), holders.end(), inode,
                                  [](const HeldBy& h, std::uint64_t i) { return h.inode < i; });
    std::vector<Holding> out;
    for (; first != holders.end() && first->inode == inode; ++first) out.push_back(first->holder);
    return out;
  }
};

class OwnerSource {
 public:
  virtual ~OwnerSource() = default;
  virtual std::string_view name() const = 0;  // "procfs" or "bpf", as scan --json says
  virtual Result<OwnerFindings> find(const OwnerQuery& query) = 0;
};

}  // namespace portman
