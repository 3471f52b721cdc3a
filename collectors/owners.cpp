// The owners collector. The costly part is reading /proc/PID/fd: one readlink per open file of
// every process. So it reads only until each socket has a real owner, in the sockets' network
// namespace first, and then follows the owners' children instead of the rest of /proc.
#include "collectors/owners.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "collectors/proc_process.hpp"
#include "libportman/accounts.hpp"
#include "libportman/unique_fd.hpp"

namespace portman {

namespace {

constexpr pid_t kInitPid = 1;

// A path relative to a directory fd ("1234/fd"), built on the stack: no allocation per process.
class RelPath {
 public:
  explicit RelPath(pid_t pid) { add(pid); }
  RelPath& add(pid_t n) {
    auto [end, ec] = std::to_chars(buf_ + len_, buf_ + kMax, n);
    if (ec == std::errc{}) len_ = static_cast<std::size_t>(end - buf_);
    buf_[len_] = '\0';
    return *this;
  }
  RelPath& add(std::string_view s) {
    std::size_t n = std::min(s.size(), kMax - len_);
    std::memcpy(buf_ + len_, s.data(), n);
    len_ += n;
    buf_[len_] = '\0';
    return *this;
  }
  const char* c_str() const { return buf_; }

 private:
  static constexpr std::size_t kMax = 95;
  char buf_[kMax + 1] = {};
  std::size_t len_ = 0;
};

UniqueFd open_dir_at(int dir_fd, const char* rel) {
  return UniqueFd(::openat(dir_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

// Lists directories with getdents64 into one buffer reused for every directory of a run.
class DirLister {
 public:
  // Calls fn(name, d_type) for each entry but "." and ".." until fn returns false.
  // Returns 0 or the errno of the failed read.
  template <class Fn>
  int list(int dir_fd, Fn&& fn) {
    for (;;) {
      ssize_t n = ::getdents64(dir_fd, buf_.data(), buf_.size());
      if (n == 0) return 0;
      if (n < 0) return errno;
      for (ssize_t off = 0; off < n;) {
        const auto* d = reinterpret_cast<const struct dirent64*>(buf_.data() + off);
        off += d->d_reclen;
        std::string_view name(d->d_name);
        if (name == "." || name == "..") continue;
        if (!fn(name, d->d_type)) return 0;
      }
    }
  }

 private:
  std::vector<char> buf_ = std::vector<char>(32 * 1024);  // operator new: aligned for dirent64
};

// Reads a whole (small) procfs file into `out`, whose capacity is reused. Returns 0 or errno.
int read_file_at(int dir_fd, const char* rel, std::string& out) {
  constexpr std::size_t kLimit = 1 << 20;  // a cmdline beyond this is cut, not a reason to fail
  out.clear();
  UniqueFd fd(::openat(dir_fd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return errno;
  std::size_t used = 0;
  while (used < kLimit) {
    if (out.size() < used + 4096) out.resize(std::max(out.capacity(), used + 4096));
    ssize_t n = ::read(fd.get(), out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      out.clear();
      return err;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out.resize(used);
  return 0;
}

// readlinkat into `buf`; nullopt when it fails (errno set). A target longer than `buf` comes
// back cut, which is harmless where we use it: "socket:[N]" and "net:[N]" are short.
std::optional<std::string_view> read_link_at(int dir_fd, const char* rel, std::span<char> buf) {
  ssize_t n = ::readlinkat(dir_fd, rel, buf.data(), buf.size());
  if (n < 0) return std::nullopt;
  return std::string_view(buf.data(), static_cast<std::size_t>(n));
}

bool is_denied(int err) {
  return err == EACCES || err == EPERM;
}

// A process holding a socket, and the fd it holds it by: enough to verify it later with one
// readlink instead of walking /proc again.
struct Holding {
  pid_t pid = 0;
  int fd = -1;
  bool operator<(const Holding& o) const { return pid < o.pid; }
};

// One socket inode to attribute.
struct InodeSlot {
  std::uint64_t inode = 0;
  std::vector<std::size_t> sockets;  // indexes into LiveState::sockets
  std::vector<Holding> holders;      // in the order found
  bool found = false;                // held by a process other than PID 1
};

// Walks /proc for the wanted inodes. On a host with many processes two threads share the walk
// (the work is one readlink per open file, all in the kernel), taking chunks of pids in order so
// that the early stop still comes where a single walker would stop, give or take a chunk.
class ProcessWalk {
 public:
  void want(std::uint64_t inode, std::size_t socket_index, const std::string& netns) {
    auto [it, inserted] = slot_of_.try_emplace(inode, slots_.size());
    if (inserted) {
      slots_.emplace_back().inode = inode;
      ++remaining_;
    }
    slots_[it->second].sockets.push_back(socket_index);
    if (!netns.empty() && std::find(netns_.begin(), netns_.end(), netns) == netns_.end())
      netns_.push_back(netns);
  }

  bool empty() const { return slots_.empty(); }
  int unreadable() const { return unreadable_; }
  std::vector<InodeSlot>& slots() { return slots_; }

  Status run(int proc_fd) {
    proc_fd_ = proc_fd;
    std::vector<pid_t> pids;
    Worker lister;
    int err = lister.dirs.list(proc_fd_, [&](std::string_view name, unsigned char type) {
      if (type != DT_DIR && type != DT_UNKNOWN) return true;
      if (auto pid = parse_pid(name)) pids.push_back(*pid);
      return true;
    });
    if (err != 0)
      return make_error(ErrorKind::io,
                        "cannot list procfs: " + std::system_category().message(err));
    std::sort(pids.begin(), pids.end());  // a fixture tree lists in hash order; keep runs stable
    visited_.reserve(pids.size());

    // A socket can be passed to another namespace, so those processes are only put off.
    walk(pids, true);
    std::sort(other_netns_.begin(), other_netns_.end());
    walk(other_netns_, false);
    return {};
  }

 private:
  enum class FdScan { read, gone, denied };
  static constexpr std::size_t kParallelFrom = 256;  // below this a second thread costs more
  static constexpr std::size_t kChunk = 16;

  // What each walking thread owns.
  struct Worker {
    DirLister dirs;
    std::string text;
    std::vector<pid_t> pending;                     // descendants of an owner still to visit
    std::vector<std::pair<std::size_t, int>> hits;  // (slot, fd) held by the process scanned
  };

  void walk(const std::vector<pid_t>& pids, bool check_netns) {
    std::atomic<std::size_t> cursor{0};
    auto work = [&] {
      Worker w;
      for (;;) {
        std::size_t start = cursor.fetch_add(kChunk);
        if (start >= pids.size() || finished()) return;
        for (std::size_t i = start; i < std::min(start + kChunk, pids.size()); ++i) {
          if (finished()) return;
          pid_t pid = pids[i];
          if (tail()) {
            visit_if_child_of_holder(pid, w);
          } else if (check_netns && !in_sockets_netns(pid)) {
            std::lock_guard lock(mu_);
            other_netns_.push_back(pid);
          } else {
            visit(pid, w);
          }
        }
      }
    };
    unsigned threads =
        pids.size() >= kParallelFrom ? std::clamp(std::thread::hardware_concurrency(), 1u, 2u) : 1u;
    std::vector<std::thread> helpers;
    for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(work);
    work();
    for (auto& t : helpers) t.join();
  }

  // Every socket has its owner and the children files led to every co-owner.
  bool finished() const { return remaining_ == 0 && !children_unavailable_; }
  // Every socket has its owner but there are no children files: the rest of /proc may still
  // hold pre-fork workers, found by their parent (one small read) instead of all their fds.
  bool tail() const { return remaining_ == 0 && children_unavailable_; }

  void visit_if_child_of_holder(pid_t pid, Worker& w) {
    if (read_file_at(proc_fd_, RelPath(pid).add("/stat").c_str(), w.text) != 0) return;
    auto ppid = parse_stat_ppid(w.text);
    bool child = false;
    if (ppid) {
      std::lock_guard lock(mu_);
      child = holder_pids_.count(*ppid) > 0;
    }
    if (child) visit(pid, w);
  }

  bool in_sockets_netns(pid_t pid) const {
    if (netns_.empty()) return true;
    char buf[64];
    auto ns = read_link_at(proc_fd_, RelPath(pid).add("/ns/net").c_str(), buf);
    if (!ns) return true;  // unreadable: it cannot be ruled out
    return std::find(netns_.begin(), netns_.end(), *ns) != netns_.end();
  }

  // Visits `pid` and, when it holds wanted sockets, its descendants that hold them too.
  void visit(pid_t pid, Worker& w) {
    w.pending.clear();
    w.pending.push_back(pid);
    while (!w.pending.empty()) {
      pid_t p = w.pending.back();
      w.pending.pop_back();
      {
        std::lock_guard lock(mu_);
        if (!visited_.insert(p).second) continue;
      }
      w.hits.clear();
      if (scan_fds(p, w) == FdScan::denied) {
        std::lock_guard lock(mu_);
        ++unreadable_;
      }
      if (w.hits.empty()) continue;  // holds none: children it forks from now on cannot either
      record(p, w.hits);
      if (p != kInitPid) push_children(p, w);  // PID 1's children are every service on the host
    }
  }

  // Collects into w.hits the slots of the wanted sockets that `pid` has open. Reads only
  // slot_of_, which does not change during a walk, so it needs no lock.
  FdScan scan_fds(pid_t pid, Worker& w) const {
    UniqueFd dir = open_dir_at(proc_fd_, RelPath(pid).add("/fd").c_str());
    if (!dir) return is_denied(errno) ? FdScan::denied : FdScan::gone;  // gone: exited
    bool denied = false;
    int err = w.dirs.list(dir.get(), [&](std::string_view name, unsigned char type) {
      if (type != DT_LNK && type != DT_UNKNOWN) return true;
      char buf[64];
      auto target = read_link_at(dir.get(), name.data(), buf);  // d_name is NUL-terminated
      if (!target) {
        denied = is_denied(errno);
        return !denied;  // one denied link means all of them are
      }
      if (auto inode = parse_socket_link(*target)) {
        if (auto it = slot_of_.find(*inode); it != slot_of_.end()) {
          int fd = -1;
          std::from_chars(name.data(), name.data() + name.size(), fd);
          w.hits.push_back({it->second, fd});
        }
      }
      return true;
    });
    if (denied || is_denied(err)) return FdScan::denied;
    return err == 0 ? FdScan::read : FdScan::gone;
  }

  void record(pid_t pid, const std::vector<std::pair<std::size_t, int>>& hits) {
    std::lock_guard lock(mu_);
    for (auto [index, fd] : hits) {
      InodeSlot& slot = slots_[index];
      if (!slot.holders.empty() && slot.holders.back().pid == pid) continue;  // dup'ed fd
      slot.holders.push_back({pid, fd});
      if (pid != kInitPid) holder_pids_.insert(pid);
      if (pid != kInitPid && !slot.found) {
        slot.found = true;
        --remaining_;
      }
    }
  }

  // Queues the children of every thread of `pid` (CONFIG_PROC_CHILDREN).
  void push_children(pid_t pid, Worker& w) {
    UniqueFd task = open_dir_at(proc_fd_, RelPath(pid).add("/task").c_str());
    if (!task) {
      if (errno == ENOENT && ::faccessat(proc_fd_, RelPath(pid).c_str(), F_OK, 0) == 0)
        children_unavailable_ = true;
      return;
    }
    std::vector<pid_t> children;
    w.dirs.list(task.get(), [&](std::string_view name, unsigned char) {
      auto tid = parse_pid(name);
      if (!tid) return true;
      int err = read_file_at(task.get(), RelPath(*tid).add("/children").c_str(), w.text);
      if (err == ENOENT && ::faccessat(task.get(), name.data(), F_OK, 0) == 0)
        children_unavailable_ = true;  // the thread is there, its children file is not
      if (err == 0) parse_children(w.text, children);
      return true;
    });
    w.pending.insert(w.pending.end(), children.begin(), children.end());
  }

  int proc_fd_ = -1;
  std::vector<std::string> netns_;  // namespaces of the wanted sockets; empty: unknown
  std::unordered_map<std::uint64_t, std::size_t> slot_of_;  // fixed once the walk starts
  std::atomic<std::size_t> remaining_{0};                   // slots not yet found
  std::atomic<bool> children_unavailable_{false};

  std::mutex mu_;  // guards what the walking threads share below
  std::vector<InodeSlot> slots_;
  int unreadable_ = 0;
  std::unordered_set<pid_t> visited_;
  std::unordered_set<pid_t> holder_pids_;  // processes found holding a wanted socket, not PID 1
  std::vector<pid_t> other_netns_;         // put off to the second pass
};

// uid -> name, looked up once per uid and run.
class UserNames {
 public:
  const std::string& name(uid_t uid) {
    auto [it, inserted] = names_.try_emplace(uid);
    if (inserted) it->second = user_name(uid).value_or(std::to_string(uid));
    return it->second;
  }

 private:
  std::unordered_map<uid_t, std::string> names_;
};

// Reads what `owner` shows about a process; only done for the few processes that own sockets.
class OwnerReader {
 public:
  OwnerReader(int proc_fd, UserNames& users) : proc_fd_(proc_fd), users_(users) {}

  Owner read(pid_t pid) {
    Owner o;
    o.pid = pid;
    if (read_file_at(proc_fd_, RelPath(pid).add("/comm").c_str(), text_) == 0) {
      std::string_view comm = text_;
      if (comm.ends_with('\n')) comm.remove_suffix(1);
      o.process = comm;
    }
    if (read_file_at(proc_fd_, RelPath(pid).add("/cmdline").c_str(), text_) == 0)
      o.cmdline = join_cmdline(text_);
    char exe[PATH_MAX];
    if (auto target = read_link_at(proc_fd_, RelPath(pid).add("/exe").c_str(), exe))
      o.exe = *target;

    std::optional<uid_t> uid;
    if (read_file_at(proc_fd_, RelPath(pid).add("/status").c_str(), text_) == 0)
      uid = parse_status_euid(text_);
    struct stat st {};
    if (!uid && ::fstatat(proc_fd_, RelPath(pid).c_str(), &st, 0) == 0)
      uid = st.st_uid;  // /proc/PID belongs to the effective uid (of dumpable processes)
    if (uid) {
      o.uid = *uid;
      o.user = users_.name(*uid);
    }

    if (read_file_at(proc_fd_, RelPath(pid).add("/cgroup").c_str(), text_) == 0) {
      CgroupInfo cgroup = parse_cgroup(text_);
      o.container = std::move(cgroup.container);
      o.unit = std::move(cgroup.unit);
    }
    return o;
  }

 private:
  int proc_fd_;
  UserNames& users_;
  std::string text_;
};

std::string unknown_reason(int unreadable) {
  if (unreadable == 0) return "no process holds this socket (kernel socket, or the process exited)";
  return "owner unknown: " + std::to_string(unreadable) +
         (unreadable == 1 ? " process" : " processes") +
         " could not be read (permission denied); run as root or grant CAP_DAC_READ_SEARCH and "
         "CAP_SYS_PTRACE";
}

class OwnersCollector final : public Collector {
 public:
  explicit OwnersCollector(CollectorOptions options) : options_(std::move(options)) {}

  // Owners found by earlier runs are kept: a cached holder is verified with one readlink of
  // its fd, and /proc is walked only for sockets that are new, or whose holders changed. A socket
  // nobody could be found for is looked for again only after kRecheckUnknown.
  Status collect(const ScanScope& scope, LiveState& state) override {
    if (!scope.owners) return {};
    auto in_scope = [&](const ListeningSocket& s) { return !scope.only || s.key() == *scope.only; };
    UniqueFd proc(::open(options_.procfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc) {
      return make_error(ErrorKind::io, "cannot open procfs " + options_.procfs.string() + ": " +
                                           std::system_category().message(errno));
    }
    const auto now = std::chrono::steady_clock::now();
    ProcessWalk walk;
    std::unordered_set<std::uint64_t> present;
    std::unordered_map<pid_t, bool> verified;  // holder pid -> its check this run passed
    for (std::size_t i = 0; i < state.sockets.size(); ++i) {
      ListeningSocket& s = state.sockets[i];
      if (!in_scope(s) || s.inode == 0) continue;
      present.insert(s.inode);
      auto it = cache_.find(s.inode);
      if (it != cache_.end() && still_held(proc.get(), s.inode, it->second, now, verified)) {
        set_owners(proc.get(), it->second.holders, s);
      } else {
        walk.want(s.inode, i, s.netns);
      }
    }
    if (!walk.empty()) {
      if (Status st = walk.run(proc.get()); !st) return st;
      last_unreadable_ = walk.unreadable();
      for (InodeSlot& slot : walk.slots()) {
        std::sort(slot.holders.begin(), slot.holders.end());
        for (pid_t pid : stale_pids(slot)) details_.erase(pid);  // may have exec'd or been reused
        cache_[slot.inode] = {slot.holders, now, now};
        for (std::size_t index : slot.sockets)
          set_owners(proc.get(), slot.holders, state.sockets[index]);
      }
    }
    state.processes_unreadable += last_unreadable_;
    for (ListeningSocket& s : state.sockets) {
      if (!in_scope(s)) continue;
      s.owner_unknown = s.owners.empty() ? unknown_reason(last_unreadable_) : std::string();
    }
    if (!scope.only) forget_except(present);
    return {};
  }

 private:
  static constexpr auto kRecheckUnknown = std::chrono::seconds(60);
  static constexpr auto kFullCheck = std::chrono::seconds(60);
  static constexpr std::size_t kMaxFdDirs = 256;  // fds kept open for holders' fd directories

  struct Cached {
    std::vector<Holding> holders;
    std::chrono::steady_clock::time_point walked;   // when the walk found them
    std::chrono::steady_clock::time_point checked;  // when each was last checked on its own
  };

  // True when every cached holder still has the socket open at the same fd. Any change (a
  // worker exited, the service restarted) sends the socket back to the walk.
  // Whether the cached holders still hold the socket. A holder process is verified with one
  // readlink per run (of the first of its sockets met), not one per socket: a server with 1,000
  // listeners costs one check. Each socket is still checked on its own every kFullCheck, which
  // catches a process that handed one socket on and closed its fd while keeping the others.
  bool still_held(int proc_fd, std::uint64_t inode, Cached& c,
                  std::chrono::steady_clock::time_point now,
                  std::unordered_map<pid_t, bool>& verified) {
    if (c.holders.empty()) return now - c.walked < kRecheckUnknown;
    const bool each = now - c.checked >= kFullCheck;
    for (const Holding& h : c.holders) {
      if (!each) {
        if (auto it = verified.find(h.pid); it != verified.end()) {
          if (!it->second) return false;
          continue;
        }
      }
      bool ok = holds(proc_fd, h, inode);
      if (!each) verified[h.pid] = ok;
      if (!ok) {
        fd_dirs_.erase(h.pid);  // the process may be gone: its directory is stale
        return false;
      }
    }
    if (each) c.checked = now;
    return true;
  }

  // One readlink: does the holder still have the socket at the same fd?
  bool holds(int proc_fd, const Holding& h, std::uint64_t inode) {
    char want[48];
    int n =
        std::snprintf(want, sizeof want, "socket:[%llu]", static_cast<unsigned long long>(inode));
    char buf[64];
    char fd_name[16];
    auto [end, ec] = std::to_chars(fd_name, fd_name + sizeof fd_name - 1, h.fd);
    *end = '\0';
    int dir = fd_dir(proc_fd, h.pid);
    auto target = dir >= 0
                      ? read_link_at(dir, fd_name, buf)
                      : read_link_at(proc_fd, RelPath(h.pid).add("/fd/").add(h.fd).c_str(), buf);
    return target && *target == std::string_view(want, static_cast<std::size_t>(n));
  }

  // /proc/PID/fd of a holder, kept open between runs: verifying a holder is then one readlink
  // of one path component. The open directory stays bound to that process, so when the pid is
  // reused by another process the readlink fails instead of reading the newcomer's fds.
  int fd_dir(int proc_fd, pid_t pid) {
    if (auto it = fd_dirs_.find(pid); it != fd_dirs_.end()) return it->second.get();
    if (fd_dirs_.size() >= kMaxFdDirs) return -1;  // many owners: fall back to full paths
    UniqueFd dir = open_dir_at(proc_fd, RelPath(pid).add("/fd").c_str());
    if (!dir) return -1;
    return fd_dirs_.emplace(pid, std::move(dir)).first->second.get();
  }

  // Pids that held this socket before but not now: their details are dropped.
  std::vector<pid_t> stale_pids(const InodeSlot& slot) const {
    std::vector<pid_t> out;
    auto it = cache_.find(slot.inode);
    if (it == cache_.end()) return out;
    for (const Holding& h : it->second.holders)
      if (std::none_of(slot.holders.begin(), slot.holders.end(),
                       [&](const Holding& x) { return x.pid == h.pid; }))
        out.push_back(h.pid);
    return out;
  }

  void set_owners(int proc_fd, const std::vector<Holding>& holders, ListeningSocket& s) {
    s.owners.clear();
    for (const Holding& h : holders) {
      auto [it, inserted] = details_.try_emplace(h.pid);
      if (inserted) it->second = OwnerReader(proc_fd, users_).read(h.pid);
      s.owners.push_back(it->second);
    }
  }

  // Drops sockets that went away, and the details of processes that hold none of the rest.
  void forget_except(const std::unordered_set<std::uint64_t>& present) {
    std::unordered_set<pid_t> live;
    for (auto it = cache_.begin(); it != cache_.end();) {
      if (!present.count(it->first)) {
        it = cache_.erase(it);
        continue;
      }
      for (const Holding& h : it->second.holders) live.insert(h.pid);
      ++it;
    }
    for (auto it = details_.begin(); it != details_.end();)
      it = live.count(it->first) ? std::next(it) : details_.erase(it);
    for (auto it = fd_dirs_.begin(); it != fd_dirs_.end();)
      it = live.count(it->first) ? std::next(it) : fd_dirs_.erase(it);
  }

  CollectorOptions options_;
  std::unordered_map<std::uint64_t, Cached> cache_;  // inode -> holders found earlier
  std::unordered_map<pid_t, Owner> details_;         // pid -> what owner shows about it
  std::unordered_map<pid_t, UniqueFd> fd_dirs_;      // pid -> its open /proc/PID/fd
  UserNames users_;
  int last_unreadable_ = 0;
};

}  // namespace

std::unique_ptr<Collector> make_owners_collector(const CollectorOptions& options) {
  return std::make_unique<OwnersCollector>(options);
}

}  // namespace portman
