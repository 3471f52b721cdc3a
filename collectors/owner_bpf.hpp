// The BPF owner source: a task iterator (collectors/bpf/owners.bpf.c) that the kernel runs over
// every process, reading its file table, writing one record per fd that holds a listening socket.
// It costs about what a netlink dump costs, instead of a readlink per fd of every process. Needs
// CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), Linux 5.17 or later with BTF, no lockdown, and a
// portman built with clang and bpftool (PORTMAN_HAVE_BPF); owners.cpp falls back to the /proc
// walk otherwise. Nothing is pinned in bpffs: the program lives as long as its process.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "collectors/owner_source.hpp"

namespace portman {

// The program's read-only constants, fixed when it loads; 0 (false) means "any".
struct BpfOwnerFilter {
  std::uint32_t netns = 0;  // report only sockets of this network namespace (its inode)
  std::uint16_t port = 0;   // report only sockets on this port
  bool first_only = false;  // stop at the first record: "is anything holding it", not "who all"
  // A program loaded with this filter reports everything one loaded with `need` would.
  bool covers(const BpfOwnerFilter& need) const {
    return (netns == 0 || netns == need.netns) && (port == 0 || port == need.port) &&
           (!first_only || need.first_only);
  }
  bool operator==(const BpfOwnerFilter&) const = default;
};

// One record of an iteration: a socket, a process holding it by that fd, and that process's
// name and effective uid (holders_of makes them ProcessFacts). Fixed size: an iteration yields
// thousands.
struct HeldSocket {
  std::uint64_t inode = 0;
  Holding holder;
  std::array<char, 16> comm{};  // NUL-padded, as the kernel keeps it; all NUL: not seen
  std::optional<uid_t> euid;    // unset where status would show another (user namespace)
};

// What one iteration reports: its records, and how many processes it could not report whole.
struct BpfRecords {
  std::vector<HeldSocket> held;
  // Processes with more listening sockets than the program writes per process, whose
  // /proc/PID/fd could not be read either: some of their sockets may lack them as holders.
  int unreadable = 0;
};

class BpfOwnerSource : public OwnerSource {
 public:
  std::string_view name() const override { return "bpf"; }
  virtual const BpfOwnerFilter& filter() const = 0;
  // Runs the iterator once: every listening socket its filter lets through, whoever asked. It
  // needs no list of sockets, so it can run while they are dumped (owners.cpp, prepare).
  virtual Result<BpfRecords> iterate() = 0;
  Result<OwnerFindings> find(const OwnerQuery& query) override;
};

// What `query` asks of one iteration's records: the holders of its sockets, one per process (by
// its lowest fd), in pid order, as the /proc walk reports them.
OwnerFindings holders_of(const BpfRecords& records, const OwnerQuery& query);

// Whether this portman was built with the BPF program.
bool bpf_owner_source_built();

// Loads the program and its iterator link. Refused with one line saying why: not built in, no
// privilege, a kernel without the iterator, BTF or kernel-side CO-RE, lockdown (ErrorKind::refused:
// the same next time); or failed for want of memory or fds (ErrorKind::io: may pass).
Result<std::unique_ptr<BpfOwnerSource>> load_bpf_owner_source(const BpfOwnerFilter& filter);

// "net:[4026531840]" -> 4026531840; nullopt for anything else.
std::optional<std::uint32_t> netns_inode(std::string_view link);

}  // namespace portman
