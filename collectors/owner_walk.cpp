// The /proc walk. The costly part is reading /proc/PID/fd: one readlink per open file of every
// process. So it reads only until each socket has a real owner, in the sockets' network
// namespace first, and then follows the owners' children instead of the rest of /proc.
#include "collectors/owner_walk.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "collectors/proc_io.hpp"
#include "collectors/proc_process.hpp"

namespace portman {

namespace {

constexpr pid_t kInitPid = 1;

// One socket inode to attribute.
struct InodeSlot {
  std::uint64_t inode = 0;
  std::vector<Holding> holders;  // in the order found
  bool found = false;            // held by a process other than PID 1
};

// Walks /proc for the wanted inodes. On a host with many processes two threads share the walk
// (the work is one readlink per open file, all in the kernel), taking chunks of pids in order so
// that the early stop still comes where a single walker would stop, give or take a chunk.
class ProcessWalk {
 public:
  explicit ProcessWalk(const OwnerQuery& query) : netns_(query.netns) {
    for (std::uint64_t inode : query.inodes) {
      if (!slot_of_.try_emplace(inode, slots_.size()).second) continue;
      slots_.emplace_back().inode = inode;
      ++remaining_;
    }
  }

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

class WalkOwnerSource final : public OwnerSource {
 public:
  explicit WalkOwnerSource(std::filesystem::path procfs) : procfs_(std::move(procfs)) {}

  std::string_view name() const override { return "procfs"; }

  Result<OwnerFindings> find(const OwnerQuery& query) override {
    OwnerFindings out;
    if (query.inodes.empty()) return out;
    UniqueFd proc(::open(procfs_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc) {
      return make_error(ErrorKind::io, "cannot open procfs " + procfs_.string() + ": " +
                                           std::system_category().message(errno));
    }
    ProcessWalk walk(query);
    if (Status st = walk.run(proc.get()); !st) return st.error();
    out.unreadable = walk.unreadable();
    for (InodeSlot& slot : walk.slots())
      for (const Holding& h : slot.holders) out.holders.push_back({slot.inode, h});
    std::sort(out.holders.begin(), out.holders.end());
    return out;
  }

 private:
  std::filesystem::path procfs_;
};

}  // namespace

std::unique_ptr<OwnerSource> make_walk_owner_source(const std::filesystem::path& procfs) {
  return std::make_unique<WalkOwnerSource>(procfs);
}

}  // namespace portman
