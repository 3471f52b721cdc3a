// The owners collector: who holds each socket the sockets collector found. Finding the holders
// is the owner source's job (owner_source.hpp: the BPF iterator, or the /proc walk); this file
// picks the source, keeps what earlier runs found, and reads the details of the holders.
#include "collectors/owners.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "collectors/owner_bpf.hpp"
#include "collectors/owner_fallback.hpp"
#include "collectors/owner_walk.hpp"
#include "collectors/proc_io.hpp"
#include "collectors/proc_process.hpp"
#include "libportman/accounts.hpp"
#include "libportman/unique_fd.hpp"

namespace portman {

namespace {

constexpr std::string_view kMethods = "auto, bpf, procfs";

constexpr OptionSpec kOptions[] = {
    {"method", "auto",
     "how to find the processes holding sockets: bpf (a BPF iterator, needs CAP_BPF and "
     "CAP_PERFMON or CAP_SYS_ADMIN), procfs (walk /proc/PID/fd), or auto (bpf where it loads, "
     "else procfs)"},
};

constexpr std::string_view kSourceLabels[] = {"source"};

}  // namespace

const MetricSpec kOwnerSourceInfoMetric{
    "portman_owner_source_info", MetricType::gauge,
    "Where the last scan found the processes holding sockets: source is bpf (the kernel's "
    "task iterator) or procfs (the /proc/PID/fd walk); 1 for the one used.",
    kSourceLabels};

namespace {

const MetricSpec* const kMetrics[] = {&kOwnerSourceInfoMetric};

// uid -> name, looked up once per uid and run, in this system's databases or --path.rootfs's.
class UserNames {
 public:
  explicit UserNames(Accounts& accounts) : accounts_(accounts) {}
  // Forgets the names looked up so far when the rootfs's files changed; true then.
  bool refresh() {
    if (!accounts_.refresh()) return false;
    names_.clear();
    return true;
  }
  const std::string& name(uid_t uid) {
    auto [it, inserted] = names_.try_emplace(uid);
    if (inserted) it->second = accounts_.user(uid).value_or(std::to_string(uid));
    return it->second;
  }

 private:
  Accounts& accounts_;
  std::unordered_map<uid_t, std::string> names_;
};

// Reads what `owner` shows about a process; only done for the few processes that own sockets.
class OwnerReader {
 public:
  OwnerReader(int proc_fd, UserNames& users) : proc_fd_(proc_fd), users_(users) {}

  // `seen`: what the owner source saw of the process itself; procfs is read for the rest.
  Owner read(pid_t pid, const ProcessFacts* seen) {
    Owner o;
    o.pid = pid;
    if (seen && !seen->comm.empty()) {
      o.process = seen->comm;
    } else if (read_file_at(proc_fd_, RelPath(pid).add("/comm").c_str(), text_) == 0) {
      std::string_view comm = text_;
      if (comm.ends_with('\n')) comm.remove_suffix(1);
      o.process = comm;
    }
    if (read_file_at(proc_fd_, RelPath(pid).add("/cmdline").c_str(), text_) == 0)
      o.cmdline = join_cmdline(text_);
    char exe[PATH_MAX];
    if (auto target = read_link_at(proc_fd_, RelPath(pid).add("/exe").c_str(), exe))
      o.exe = *target;

    std::optional<uid_t> uid = seen ? seen->euid : std::nullopt;
    if (!uid && read_file_at(proc_fd_, RelPath(pid).add("/status").c_str(), text_) == 0)
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

LiveState::LaterLook held_since(std::int64_t at_unix_ms, const OwnerFindings& found) {
  LiveState::LaterLook look{at_unix_ms, {}};
  for (const HeldBy& h : found.holders)  // by inode already
    if (look.inodes.empty() || look.inodes.back() != h.inode) look.inodes.push_back(h.inode);
  return look;
}

std::string unknown_reason(int unreadable) {
  if (unreadable == 0) return "no process holds this socket (kernel socket, or the process exited)";
  return "owner unknown: " + std::to_string(unreadable) +
         (unreadable == 1 ? " process" : " processes") +
         " could not be read (permission denied); run as root or grant CAP_DAC_READ_SEARCH and "
         "CAP_SYS_PTRACE";
}

// Whether `procfs` numbers processes as this process sees them. The BPF iterator reports pids
// of portman's own pid namespace, and the details of each holder are read from `procfs`: the two
// must agree, which a /proc mounted from another pid namespace (or a fixture tree) breaks.
bool procfs_shows_own_pids(const std::string& procfs) {
  std::string p = procfs;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p != "/proc") return false;
  char buf[32];
  UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto self = proc ? read_link_at(proc.get(), "self", buf) : std::nullopt;
  pid_t pid = 0;
  return self &&
         std::from_chars(self->data(), self->data() + self->size(), pid).ec == std::errc{} &&
         pid == ::getpid();
}

class OwnersCollector final : public Collector {
 public:
  using Clock = OwnerFallback::Clock;

  OwnersCollector(CollectorOptions options, std::string method)
      : options_(std::move(options)),
        method_(std::move(method)),
        walk_(make_walk_owner_source(options_.procfs)),
        users_(options_.accounts) {}

  // With BPF, the iterator needs no list of sockets: it is loaded (the first time) and run on a
  // thread of its own while the other collectors dump the sockets, and a one-shot command
  // reads its registry. collect() takes its records when the program it ran is the one the
  // sockets found call for (their namespace), and runs it again otherwise.
  void prepare(const ScanScope& scope) override {
    prefetch_ = {};  // waits for one still running (a scan that never collected)
    if (!scope.owners || method_ == "procfs" || fallback_.walking(Clock::now())) return;
    if (!procfs_shows_own_pids(options_.procfs.string())) return;  // collect() says why
    BpfOwnerFilter guess;
    if (scope.only) guess.port = scope.only->port;
    guess.netns = bpf_ ? bpf_->filter().netns : own_netns().value_or(0);
    BpfOwnerSource* loaded = bpf_ && bpf_->filter().covers(guess) ? bpf_.get() : nullptr;
    if (loaded) guess = loaded->filter();
    try {
      prefetch_ = std::async(std::launch::async, [loaded, guess] {
        Prefetched p{guess, unix_ms_now(), nullptr, std::nullopt,
                     make_error(ErrorKind::io, "not run")};
        BpfOwnerSource* source = loaded;
        if (!source) {
          auto fresh = load_bpf_owner_source(guess);
          if (!fresh) {
            p.load_error = fresh.error();
            return p;
          }
          p.loaded = std::move(*fresh);
          source = p.loaded.get();
        }
        p.asked_at = unix_ms_now();
        p.records = source->iterate();
        return p;
      });
    } catch (const std::system_error&) {
      // No thread to be had (a tasks limit): collect() runs the iterator itself.
    }
  }

  // Owners found by earlier runs are kept. With the /proc walk, a cached holder is verified with
  // one readlink of its fd, and /proc is walked only for sockets that are new, or whose holders
  // changed; a socket nobody could be found for is looked for again only after
  // kRecheckUnknown. The BPF iterator costs less than those checks: it is asked every run.
  Status collect(const ScanScope& scope, LiveState& state) override {
    if (!scope.owners) return {};
    std::optional<Prefetched> pre;
    if (prefetch_.valid()) pre = prefetch_.get();
    if (pre && pre->load_error) {
      if (method_ == "bpf") return refused_bpf(*pre->load_error);
      fall_back(*pre->load_error);
    } else if (pre && pre->loaded) {
      bpf_ = std::move(pre->loaded);
    }
    if (users_.refresh()) details_.clear();  // their user names may have changed
    auto in_scope = [&](const ListeningSocket& s) { return !scope.only || s.key() == *scope.only; };
    auto source = pick_source(scope, state);
    if (!source) return source.error();
    const bool walking = *source == walk_.get();
    UniqueFd proc(::open(options_.procfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc) {
      return make_error(ErrorKind::io, "cannot open procfs " + options_.procfs.string() + ": " +
                                           std::system_category().message(errno));
    }
    const auto now = std::chrono::steady_clock::now();
    OwnerQuery query;
    // Sorted vectors rather than hash tables: thousands of sockets, one allocation each.
    std::vector<std::pair<std::uint64_t, std::size_t>> wanted;  // (inode, socket index)
    std::vector<std::uint64_t> present;                         // inodes of the sockets in scope
    std::unordered_map<pid_t, bool> verified;  // holder pid -> its check this run passed
    std::vector<pid_t> live;                   // the holders of every socket in scope
    wanted.reserve(state.sockets.size());
    present.reserve(state.sockets.size());
    for (std::size_t i = 0; i < state.sockets.size(); ++i) {
      ListeningSocket& s = state.sockets[i];
      if (!in_scope(s) || s.inode == 0) continue;
      present.push_back(s.inode);
      if (walking) {
        auto it = cache_.find(s.inode);
        if (it != cache_.end() && still_held(proc.get(), s.inode, it->second, now, verified)) {
          set_owners(proc.get(), it->second.holders, nullptr, s, live);
          continue;
        }
      }
      wanted.emplace_back(s.inode, i);
      if (!s.netns.empty() &&
          std::find(query.netns.begin(), query.netns.end(), s.netns) == query.netns.end())
        query.netns.push_back(s.netns);
    }
    std::sort(present.begin(), present.end());
    std::sort(wanted.begin(), wanted.end());
    for (const auto& [inode, index] : wanted)
      if (query.inodes.empty() || query.inodes.back() != inode) query.inodes.push_back(inode);
    if (scope.only) query.port = scope.only->port;
    if (!query.inodes.empty()) {
      // The prefetched records serve when the program that produced them is the one picked.
      const bool prefetched = pre && !walking && *source == bpf_.get() &&
                              pre->filter == bpf_->filter() && !pre->load_error;
      const std::int64_t asked_at = prefetched ? pre->asked_at : unix_ms_now();
      Result<OwnerFindings> found = !prefetched ? (*source)->find(query)
                                    : pre->records
                                        ? Result<OwnerFindings>(holders_of(*pre->records, query))
                                        : Result<OwnerFindings>(pre->records.error());
      if (!found && !walking && method_ == "auto") {
        fall_back(found.error().message, kForNow);  // tried again after a pause
        return collect(scope, state);
      }
      if (!found) return found.error();
      if (!walking) fallback_.bpf_worked();
      // The iterator reports only sockets that still listen when it reaches them: each socket
      // it found a holder for was there after asked_at. The walk finds sockets by fd alone.
      if (!walking) state.later_look = held_since(asked_at, *found);
      last_unreadable_ = found->unreadable;
      // Both lists are by inode: one pass joins them.
      std::vector<Holding> holders;
      auto held = found->holders.begin();
      for (auto w = wanted.begin(); w != wanted.end();) {
        const std::uint64_t inode = w->first;
        while (held != found->holders.end() && held->inode < inode) ++held;
        holders.clear();
        for (; held != found->holders.end() && held->inode == inode; ++held)
          holders.push_back(held->holder);
        auto [entry, fresh] = cache_.try_emplace(inode);
        Cached& cached = entry->second;
        if (!fresh) forget_stale(cached.holders, holders);
        cached.holders = holders;
        cached.walked = cached.checked = now;
        for (; w != wanted.end() && w->first == inode; ++w)
          set_owners(proc.get(), holders, &found->facts, state.sockets[w->second], live);
      }
    }
    state.owner_source = std::string((*source)->name());
    state.owner_source_fallback = fallback_.why();
    state.owner_source_retry = fallback_.passing();
    state.samples.push_back({&kOwnerSourceInfoMetric, {state.owner_source}, 1.0});
    state.processes_unreadable += last_unreadable_;
    for (ListeningSocket& s : state.sockets) {
      if (!in_scope(s)) continue;
      s.owner_unknown = s.owners.empty() ? unknown_reason(last_unreadable_) : std::string();
    }
    if (!scope.only) forget_except(present, std::move(live));
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

  // The source for this run. The BPF program is loaded on the first run that needs owners and
  // kept (the agent re-iterates it every scan); loaded again only when its filter is narrower
  // than this run needs (sockets of other namespaces appeared). With method auto, a program the
  // kernel refuses sends every later run to the walk, and fallback_ says why (an iteration that
  // fails, only the runs of a pause: owner_fallback.hpp).
  Result<OwnerSource*> pick_source(const ScanScope& scope, const LiveState& state) {
    if (method_ == "procfs" || fallback_.walking(Clock::now())) return walk_.get();
    if (!procfs_shows_own_pids(options_.procfs.string())) {
      std::string why = "--path.procfs " + options_.procfs.string() +
                        " does not number processes as portman's own pid namespace does, and "
                        "the BPF iterator reports those numbers";
      if (method_ == "bpf") return make_error(ErrorKind::bad_input, "owners.method bpf: " + why);
      fall_back(why, kForGood);
      return walk_.get();
    }
    BpfOwnerFilter need;
    if (scope.only) need.port = scope.only->port;
    need.netns = scan_netns(scope, state);
    if (bpf_ && bpf_->filter().covers(need)) return bpf_.get();
    bpf_.reset();  // one program at a time
    auto loaded = load_bpf_owner_source(need);
    if (!loaded) {
      if (method_ == "bpf") return refused_bpf(loaded.error());
      fall_back(loaded.error());
      return walk_.get();
    }
    bpf_ = std::move(*loaded);
    return bpf_.get();
  }

  // The network namespace of every socket to attribute, or 0 when they are in several (the
  // netns collector) or it is unknown: then the program reports all of them.
  static std::uint32_t scan_netns(const ScanScope& scope, const LiveState& state) {
    std::optional<std::uint32_t> only;
    for (const ListeningSocket& s : state.sockets) {
      if (scope.only && s.key() != *scope.only) continue;
      auto ns = netns_inode(s.netns);
      if (!ns || (only && *only != *ns)) return 0;
      only = ns;
    }
    if (!only) only = netns_inode(state.netns);
    return only.value_or(0);
  }

  static Error refused_bpf(const Error& why) {
    return make_error(ErrorKind::io, "owners.method bpf: " + why.message +
                                         "; --owners.method auto falls back to /proc");
  }

  // The inode of this process's network namespace: what the sockets collector dumps, unless
  // another collector adds namespaces.
  static std::optional<std::uint32_t> own_netns() {
    char buf[64];
    ssize_t n = ::readlink("/proc/self/ns/net", buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    return netns_inode(std::string_view(buf, static_cast<std::size_t>(n)));
  }

  static constexpr bool kForGood = true, kForNow = false;
  // A load the kernel refused stays refused; one that failed for want of memory or fds may not.
  void fall_back(const Error& load_failed) {
    fall_back(load_failed.message, load_failed.kind == ErrorKind::refused);
  }
  void fall_back(std::string why, bool for_good) {
    bpf_.reset();
    if (for_good)
      fallback_.for_good(std::move(why));
    else
      fallback_.for_now(std::move(why), Clock::now());
  }

  // True when every cached holder still has the socket open at the same fd. Any change (a
  // worker exited, the service restarted) sends the socket back to the walk.
  // A holder process is verified with one readlink per run (of the first of its sockets met),
  // not one per socket: a server with 1,000 listeners costs one check. Each socket is still
  // checked on its own every kFullCheck, which catches a process that handed one socket on and
  // closed its fd while keeping the others.
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

  // Drops the details of the processes that held a socket before (`was`) but not now (`now`):
  // they exec'd, or their pid was reused.
  void forget_stale(const std::vector<Holding>& was, const std::vector<Holding>& now) {
    for (const Holding& h : was)
      if (std::none_of(now.begin(), now.end(), [&](const Holding& x) { return x.pid == h.pid; }))
        details_.erase(h.pid);
  }

  // `live` collects the holders' pids.
  void set_owners(int proc_fd, const std::vector<Holding>& holders,
                  const std::unordered_map<pid_t, ProcessFacts>* seen, ListeningSocket& s,
                  std::vector<pid_t>& live) {
    s.owners.clear();
    for (const Holding& h : holders) {
      if (live.empty() || live.back() != h.pid) live.push_back(h.pid);
      auto [it, inserted] = details_.try_emplace(h.pid);
      if (inserted) {
        const ProcessFacts* facts = nullptr;
        if (seen)
          if (auto f = seen->find(h.pid); f != seen->end()) facts = &f->second;
        it->second = std::make_shared<const Owner>(OwnerReader(proc_fd, users_).read(h.pid, facts));
      }
      s.owners.push_back(it->second);
    }
  }

  // Drops sockets that went away, and the details of processes that hold none of the rest.
  // `present`: the inodes of the sockets in scope, sorted; `live`: their holders. Every one of
  // them has its entry in cache_ by now, so cache_ holds more only when sockets went away.
  void forget_except(const std::vector<std::uint64_t>& present, std::vector<pid_t> live) {
    std::size_t distinct = 0;
    for (std::size_t i = 0; i < present.size(); ++i)
      if (i == 0 || present[i] != present[i - 1]) ++distinct;
    if (cache_.size() > distinct) {
      for (auto it = cache_.begin(); it != cache_.end();)
        it = std::binary_search(present.begin(), present.end(), it->first) ? std::next(it)
                                                                           : cache_.erase(it);
    }
    std::sort(live.begin(), live.end());
    auto held = [&](pid_t pid) { return std::binary_search(live.begin(), live.end(), pid); };
    for (auto it = details_.begin(); it != details_.end();)
      it = held(it->first) ? std::next(it) : details_.erase(it);
    for (auto it = fd_dirs_.begin(); it != fd_dirs_.end();)
      it = held(it->first) ? std::next(it) : fd_dirs_.erase(it);
  }

  CollectorOptions options_;
  std::string method_;  // auto, bpf or procfs (checked by the factory)
  std::unique_ptr<OwnerSource> walk_;
  std::unique_ptr<BpfOwnerSource> bpf_;              // loaded on first use, kept
  OwnerFallback fallback_;                           // whether and why auto uses the walk
  std::unordered_map<std::uint64_t, Cached> cache_;  // inode -> holders found earlier
  // pid -> what owner shows about it, shared with every socket it holds (scans in flight too)
  std::unordered_map<pid_t, std::shared_ptr<const Owner>> details_;
  std::unordered_map<pid_t, UniqueFd> fd_dirs_;  // pid -> its open /proc/PID/fd
  UserNames users_;
  int last_unreadable_ = 0;

  // One BPF iteration started by prepare(), and the program it loaded, if it had to.
  struct Prefetched {
    BpfOwnerFilter filter;  // of the program that ran
    std::int64_t asked_at;  // when the iteration started
    std::unique_ptr<BpfOwnerSource> loaded;
    std::optional<Error> load_error;
    Result<BpfRecords> records;
  };
  // Last: destroyed first, so that a running prefetch is waited for while bpf_ still exists.
  std::future<Prefetched> prefetch_;
};

}  // namespace

std::unique_ptr<Collector> make_owners_collector(const CollectorOptions& options,
                                                 std::string method) {
  return std::make_unique<OwnersCollector>(options, std::move(method));
}

Result<std::unique_ptr<Collector>> make_owners_from_settings(const CollectorContext& context) {
  const std::string& method = context.settings.text("method");
  if (method != "auto" && method != "bpf" && method != "procfs")
    return make_error(ErrorKind::bad_input, context.settings.describe("method") + ": \"" + method +
                                                "\" is not one of " + std::string(kMethods));
  if (method == "bpf" && !bpf_owner_source_built())
    return make_error(ErrorKind::bad_input,
                      context.settings.describe("method") +
                          ": this portman was built without BPF (clang and bpftool were missing "
                          "at build time); valid here: auto, procfs");
  return make_owners_collector(context.shared, method);
}

std::span<const OptionSpec> owners_options() {
  return kOptions;
}

std::span<const MetricSpec* const> owners_metrics() {
  return kMetrics;
}

}  // namespace portman
