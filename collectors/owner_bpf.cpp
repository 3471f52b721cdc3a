// The BPF owner source: loads the light skeleton once, then each iterate() creates an iterator
// from the same link and reads its fixed-size records.
#include "collectors/owner_bpf.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#if PORTMAN_HAVE_BPF
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "collectors/bpf/owner_record.h"
#include "collectors/bpf/owners_loader.h"
#include "collectors/proc_io.hpp"
#include "collectors/proc_process.hpp"
#include "libportman/unique_fd.hpp"
#include "libportman/whole_file.hpp"
#endif

namespace portman {

std::optional<std::uint32_t> netns_inode(std::string_view link) {
  constexpr std::string_view prefix = "net:[";
  if (!link.starts_with(prefix) || !link.ends_with(']')) return std::nullopt;
  std::string_view digits = link.substr(prefix.size(), link.size() - prefix.size() - 1);
  std::uint32_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty())
    return std::nullopt;
  return n;
}

Result<OwnerFindings> BpfOwnerSource::find(const OwnerQuery& query) {
  if (query.inodes.empty()) return OwnerFindings{};
  auto records = iterate();
  if (!records) return records.error();
  return holders_of(*records, query);
}

OwnerFindings holders_of(const BpfRecords& records, const OwnerQuery& query) {
  std::vector<std::uint64_t> sorted;  // the query's own order when it is sorted (the collector's)
  const std::vector<std::uint64_t>* asked = &query.inodes;
  if (!std::is_sorted(asked->begin(), asked->end())) {
    sorted = query.inodes;
    std::sort(sorted.begin(), sorted.end());
    asked = &sorted;
  }
  OwnerFindings out;
  out.unreadable = records.unreadable;
  out.holders.reserve(records.held.size());
  pid_t described = 0;  // a process's records come one after another: its facts are kept once
  for (const HeldSocket& r : records.held) {
    if (!std::binary_search(asked->begin(), asked->end(), r.inode)) continue;  // not asked about
    out.holders.push_back({r.inode, r.holder});
    if (r.holder.pid == described) continue;
    described = r.holder.pid;
    if (auto [f, fresh] = out.facts.try_emplace(r.holder.pid); fresh) {
      f->second.comm.assign(r.comm.data(), ::strnlen(r.comm.data(), r.comm.size()));
      f->second.euid = r.euid;
    }
  }
  std::sort(out.holders.begin(), out.holders.end());
  out.holders.erase(std::unique(out.holders.begin(), out.holders.end(),
                                [](const HeldBy& a, const HeldBy& b) {
                                  return a.inode == b.inode && a.holder.pid == b.holder.pid;
                                }),
                    out.holders.end());
  return out;
}

#if PORTMAN_HAVE_BPF

namespace {

std::string errno_text(int err) {
  return std::system_category().message(err);
}

// Whether this process sees uids as the kernel keeps them (/proc/self/uid_map maps the whole
// range onto itself: the initial user namespace): then the euid the program reads is the one
// /proc/PID/status would show it. In another user namespace, status translates; the program
// does not, and its euid is not used.
bool kernel_uids_are_ours() {
  auto map = read_whole_file("/proc/self/uid_map", 4096);
  if (!map) return false;
  unsigned long inside = 1, outside = 1, count = 0;
  int used = 0;
  if (std::sscanf(map->c_str(), "%lu %lu %lu %n", &inside, &outside, &count, &used) != 3)
    return false;
  return inside == 0 && outside == 0 && count == 4294967295UL &&
         static_cast<std::size_t>(used) == map->size();
}

// Whether this process has the capabilities the program needs. The kernel refuses without
// them, but not always with EPERM: CAP_BPF without CAP_PERFMON gives EINVAL.
bool privileged_for_bpf() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return true;  // cannot tell: blame the kernel
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1U; };
  return has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
}

// What would make a refused program load.
std::string refusal_hint(int err) {
  if (!privileged_for_bpf()) return " (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)";
  if (err == EPERM || err == EACCES) return " (kernel lockdown, or a security module)";
  return " (needs Linux 5.17 or later with BTF, /sys/kernel/btf/vmlinux)";
}

// Whether a load that failed with `err` may work later: memory, fd and process limits pass; the
// kernel's refusals (privileges, version, BTF, lockdown) are the same every time.
bool may_pass(int err) {
  return err == ENOMEM || err == EMFILE || err == ENFILE || err == EAGAIN || err == EINTR ||
         err == EBUSY;
}

// Why the kernel refused the program, with what would make it load.
Error load_error(int err) {
  std::string why = "cannot load the BPF owners iterator: " + errno_text(err);
  if (may_pass(err)) return make_error(ErrorKind::io, why);
  return make_error(ErrorKind::refused, why + refusal_hint(err));
}

// Appends a record for every socket process `pid` holds, read from /proc/PID/fd: for a process
// with more listening sockets than one call of the program may report (PORTMAN_OWNER_OVERFLOW).
// Its other sockets come too, connected or not: records are joined to the scan's sockets by
// inode, so those match nothing. A process that exited meanwhile adds nothing; one whose fds
// this process may not read is counted in `out.unreadable`.
void append_fd_sockets(int proc_fd, pid_t pid, BpfRecords& out) {
  UniqueFd dir = open_dir_at(proc_fd, RelPath(pid).add("/fd").c_str());
  if (!dir) {
    out.unreadable += is_denied(errno);
    return;
  }
  bool denied = false;
  DirLister lister;
  int err = lister.list(dir.get(), [&](std::string_view name, unsigned char) {
    char buf[64];
    auto target = read_link_at(dir.get(), name.data(), buf);  // d_name is NUL-terminated
    if (!target) {
      denied = is_denied(errno);
      return !denied;
    }
    auto inode = parse_socket_link(*target);
    int fd = -1;
    if (inode && std::from_chars(name.data(), name.data() + name.size(), fd).ec == std::errc{})
      out.held.push_back(HeldSocket{*inode, {pid, fd}, {}, {}});
    return true;
  });
  out.unreadable += denied || is_denied(err);
}

class LoadedBpfOwnerSource final : public BpfOwnerSource {
 public:
  LoadedBpfOwnerSource(portman_owners* skel, BpfOwnerFilter filter, UniqueFd probe)
      : skel_(skel), filter_(filter), probe_(std::move(probe)), own_uids_(kernel_uids_are_ours()) {}
  ~LoadedBpfOwnerSource() override { portman_owners_close(skel_); }
  LoadedBpfOwnerSource(const LoadedBpfOwnerSource&) = delete;
  LoadedBpfOwnerSource& operator=(const LoadedBpfOwnerSource&) = delete;

  const BpfOwnerFilter& filter() const override { return filter_; }

  Result<BpfRecords> iterate() override {
    BpfRecords records;
    std::vector<HeldSocket>& out = records.held;
    out.reserve(last_count_);  // about as many as last time: no regrowing
    // .bss outlives an iteration of the link: the first-only flag must start clear each time.
    portman_owners_reset(skel_);
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.iter_create.link_fd = static_cast<__u32>(portman_owners_link(skel_));
    UniqueFd iter(static_cast<int>(::syscall(__NR_bpf, BPF_ITER_CREATE, &attr, sizeof attr)));
    if (!iter)
      return make_error(ErrorKind::io,
                        "cannot start the BPF owners iterator: " + errno_text(errno));
    // A first-only read asks for one socket record and its process record: the kernel stops
    // iterating once it has them.
    static_assert(sizeof(portman_owner_process) == sizeof(portman_owner_record));
    const std::size_t want = filter_.first_only ? 2 : records_.size();
    std::optional<portman_owner_process> process;  // the last process record read
    std::vector<pid_t> overflowed;                 // processes to read from /proc instead
    for (;;) {
      ssize_t n = ::read(iter.get(), records_.data(), want * sizeof(portman_owner_record));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        return make_error(ErrorKind::io,
                          "cannot read the BPF owners iterator: " + errno_text(errno));
      std::size_t count = static_cast<std::size_t>(n) / sizeof(portman_owner_record);
      for (std::size_t i = 0; i < count; ++i) {
        const portman_owner_record& r = records_[i];
        if (r.protocol == PORTMAN_OWNER_PROCESS) {
          std::memcpy(&process.emplace(), &r, sizeof r);
          continue;
        }
        if (r.protocol == PORTMAN_OWNER_OVERFLOW) {  // laid out as a process record
          portman_owner_process over;
          std::memcpy(&over, &r, sizeof r);
          overflowed.push_back(static_cast<pid_t>(over.pid));
          continue;
        }
        HeldSocket& held = out.emplace_back(
            HeldSocket{r.inode, {static_cast<pid_t>(r.pid), static_cast<int>(r.fd)}, {}, {}});
        if (process && process->pid == r.pid) {
          std::memcpy(held.comm.data(), process->comm, sizeof process->comm);
          if (own_uids_) held.euid = static_cast<uid_t>(process->euid);
        }
      }
      if (n == 0 || filter_.first_only) break;
    }
    // After the records of the program: holders_of keeps a process's facts from its first
    // record, which came with them, and drops the sockets found twice.
    std::sort(overflowed.begin(), overflowed.end());
    overflowed.erase(std::unique(overflowed.begin(), overflowed.end()), overflowed.end());
    if (!overflowed.empty()) {
      UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      for (pid_t pid : overflowed) {
        if (proc)
          append_fd_sockets(proc.get(), pid, records);
        else
          ++records.unreadable;
      }
    }
    last_count_ = out.size();
    if (!portman_owners_knew_sockets(skel_))
      return make_error(ErrorKind::io,
                        "the BPF owners iterator could not read its probe socket's file");
    return records;
  }

 private:
  portman_owners* skel_;
  BpfOwnerFilter filter_;
  UniqueFd probe_;  // the socket the program learns socket files' f_op from, on each iteration
  bool own_uids_;   // the program's euids are what /proc/PID/status shows here
  std::size_t last_count_ = 0;  // records of the last iteration
  std::vector<portman_owner_record> records_ = std::vector<portman_owner_record>(512);
};

}  // namespace

bool bpf_owner_source_built() {
  return true;
}

Result<std::unique_ptr<BpfOwnerSource>> load_bpf_owner_source(const BpfOwnerFilter& filter) {
  portman_owners_filter f{};
  f.netns = filter.netns;
  f.port = filter.port;
  f.first_only = filter.first_only ? 1 : 0;
  // Any socket will do: all share one f_op. A unix one is never reported.
  UniqueFd probe(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!probe)
    return make_error(ErrorKind::io,
                      "cannot open the BPF owners iterator's probe socket: " + errno_text(errno));
  f.probe_fd = static_cast<unsigned>(probe.get());
  portman_owners* skel = nullptr;
  if (int err = portman_owners_open(&f, &skel); err != 0) return load_error(-err);
  return std::unique_ptr<BpfOwnerSource>(
      std::make_unique<LoadedBpfOwnerSource>(skel, filter, std::move(probe)));
}

#else

bool bpf_owner_source_built() {
  return false;
}

Result<std::unique_ptr<BpfOwnerSource>> load_bpf_owner_source(const BpfOwnerFilter&) {
  return make_error(ErrorKind::refused,
                    "this portman was built without the BPF owners iterator (clang, bpftool or "
                    "libbpf-dev were missing at build time)");
}

#endif

}  // namespace portman
