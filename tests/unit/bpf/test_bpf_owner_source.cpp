// The BPF owner source on real sockets: what the iterator reports, its filters, and its state
// across iterations of one loaded program. Needs the kernel to load the program (root or
// CAP_BPF + CAP_PERFMON, Linux 5.17+ with BTF): skipped, never passed, where it does not.
#include <catch2/catch.hpp>

#include "unit/support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "collectors/owner_bpf.hpp"
#include "collectors/owner_walk.hpp"
#include "collectors/owners.hpp"
#include "libportman/unique_fd.hpp"

using namespace portman;

namespace {

// Loads the program with `filter`, or skips the test with the kernel's reason.
std::unique_ptr<BpfOwnerSource> load_or_skip(const BpfOwnerFilter& filter = {}) {
  auto loaded = load_bpf_owner_source(filter);
  if (!loaded) portman::test::skip_test(loaded.error().message.c_str());
  return std::move(*loaded);
}

struct Sock {
  UniqueFd fd;
  std::uint64_t inode = 0;
  std::uint16_t port = 0;
};

// A socket on 127.0.0.1 and a port the kernel picks: TCP listening, or UDP bound.
Sock open_loopback(int type) {
  Sock s;
  s.fd.reset(::socket(AF_INET, type, 0));  // no CLOEXEC: forked children inherit it
  REQUIRE(s.fd);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  if (type == SOCK_STREAM) REQUIRE(::listen(s.fd.get(), 1) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(s.fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  s.port = ntohs(addr.sin_port);
  struct stat st {};
  REQUIRE(::fstat(s.fd.get(), &st) == 0);
  s.inode = st.st_ino;
  return s;
}

std::uint32_t own_netns() {
  char buf[64];
  ssize_t n = ::readlink("/proc/self/ns/net", buf, sizeof buf);
  REQUIRE(n > 0);
  auto ns = netns_inode(std::string_view(buf, static_cast<std::size_t>(n)));
  REQUIRE(ns);
  return *ns;
}

// A child that inherits every open fd and waits; killed and reaped when the test ends.
struct Child {
  pid_t pid = -1;
  Child() {
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
  }
  ~Child() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

std::vector<pid_t> pids(const std::vector<Holding>& holders) {
  std::vector<pid_t> out;
  for (const Holding& h : holders) out.push_back(h.pid);
  return out;
}

}  // namespace

TEST_CASE("bpf: every holder of a listening socket once per process in pid order", "[bpf]") {
  auto bpf = load_or_skip();
  Sock tcp = open_loopback(SOCK_STREAM);
  int dup_fd = ::dup(tcp.fd.get());  // a second fd of this process on the same socket
  REQUIRE(dup_fd > tcp.fd.get());
  UniqueFd dup_guard(dup_fd);
  Child child;

  auto found = bpf->find({{tcp.inode}, {}, std::nullopt});
  REQUIRE(found.ok());
  CHECK(found->unreadable == 0);
  std::vector<pid_t> want = {::getpid(), child.pid};
  std::sort(want.begin(), want.end());
  const auto& holders = found->of(tcp.inode);
  CHECK(pids(holders) == want);
  for (const Holding& h : holders) CHECK(h.fd == tcp.fd.get());  // the lowest fd of each
}

TEST_CASE("bpf: the iterator and the /proc walk agree on TCP and UDP sockets", "[bpf]") {
  auto bpf = load_or_skip();
  Sock tcp = open_loopback(SOCK_STREAM);
  Sock udp = open_loopback(SOCK_DGRAM);
  Child child;
  OwnerQuery query{{tcp.inode, udp.inode}, {}, std::nullopt};
  auto from_bpf = bpf->find(query);
  auto from_walk = make_walk_owner_source("/proc")->find(query);
  REQUIRE(from_bpf.ok());
  REQUIRE(from_walk.ok());
  CHECK(from_bpf->of(tcp.inode).size() == 2);
  CHECK(from_bpf->of(tcp.inode) == from_walk->of(tcp.inode));
  CHECK(from_bpf->of(udp.inode).size() == 2);
  CHECK(from_bpf->of(udp.inode) == from_walk->of(udp.inode));
}

TEST_CASE("bpf: the name and effective uid of each holder are what its /proc entry shows",
          "[bpf]") {
  auto bpf = load_or_skip();
  Sock tcp = open_loopback(SOCK_STREAM);
  // A holder that renamed itself and runs with an effective uid other than its real one (which
  // also makes /proc/PID belong to root): only comm and status's second Uid field tell.
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::prctl(PR_SET_NAME, "pm-facts-test");
    char ok = ::setresuid(static_cast<uid_t>(-1), 65534, static_cast<uid_t>(-1)) == 0 ? 1 : 0;
    (void)!::write(ready[1], &ok, 1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char ok = 0;
  REQUIRE(::read(ready[0], &ok, 1) == 1);
  ::close(ready[0]);
  struct Reap {
    pid_t pid;
    ~Reap() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reap{pid};
  if (!ok) portman::test::skip_test("setresuid to 65534 failed: not root");

  auto records = bpf->iterate();
  REQUIRE(records.ok());
  auto found = holders_of(*records, {{tcp.inode}, {}, std::nullopt});
  REQUIRE(found.facts.count(pid) == 1);
  const ProcessFacts& child = found.facts.at(pid);
  CHECK(child.comm == "pm-facts-test");
  std::string status = portman::test::slurp("/proc/" + std::to_string(pid) + "/status");
  INFO(status);
  CHECK(status.find("Uid:\t0\t65534\t") != std::string::npos);
  REQUIRE(child.euid);  // the tests run in the initial user namespace
  CHECK(*child.euid == 65534);
  const ProcessFacts& self = found.facts.at(::getpid());
  std::string comm = portman::test::slurp("/proc/self/comm");
  CHECK(self.comm + "\n" == comm);
  CHECK(self.euid == ::geteuid());
}

TEST_CASE("bpf: a process holding a thousand sockets is reported whole, with its name once",
          "[bpf]") {
  // All the records of one process must fit the iterator's 32 KiB buffer; with 48-byte records
  // a process holding more than 682 sockets made the whole iteration fail.
  auto bpf = load_or_skip();
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  const rlim_t want = 1200;
  if (limit.rlim_cur < want) {
    if (limit.rlim_max < want)
      portman::test::skip_test("RLIMIT_NOFILE allows fewer than 1,200 fds");
    rlimit raised = limit;
    raised.rlim_cur = want;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &raised) == 0);
  }
  struct Restore {
    rlimit limit;
    ~Restore() { ::setrlimit(RLIMIT_NOFILE, &limit); }
  } restore{limit};
  std::vector<Sock> socks;
  OwnerQuery query;
  for (int i = 0; i < 1000; ++i) {
    socks.push_back(open_loopback(SOCK_DGRAM));
    query.inodes.push_back(socks.back().inode);
  }
  auto records = bpf->iterate();
  REQUIRE(records.ok());
  OwnerFindings found = holders_of(*records, query);
  for (const Sock& s : socks) {
    INFO("inode " << s.inode);
    REQUIRE(pids(found.of(s.inode)) == std::vector<pid_t>{::getpid()});
  }
  std::string comm = portman::test::slurp("/proc/self/comm");
  CHECK(found.facts.at(::getpid()).comm + "\n" == comm);
}

TEST_CASE("bpf: sockets that do not listen are not reported", "[bpf]") {
  auto bpf = load_or_skip();
  UniqueFd unbound(::socket(AF_INET, SOCK_STREAM, 0));  // neither bound nor listening
  REQUIRE(unbound);
  struct stat st {};
  REQUIRE(::fstat(unbound.get(), &st) == 0);
  Sock bound = open_loopback(SOCK_STREAM);
  auto found = bpf->find({{st.st_ino, bound.inode}, {}, std::nullopt});
  REQUIRE(found.ok());
  CHECK(found->of(st.st_ino).empty());
  CHECK(found->of(bound.inode).size() == 1);
}

TEST_CASE("bpf: a program loaded for one port reports only that port", "[bpf]") {
  Sock a = open_loopback(SOCK_STREAM);
  Sock b = open_loopback(SOCK_STREAM);
  auto bpf = load_or_skip({.netns = own_netns(), .port = a.port});
  auto found = bpf->find({{a.inode, b.inode}, {}, a.port});
  REQUIRE(found.ok());
  CHECK(pids(found->of(a.inode)) == std::vector<pid_t>{::getpid()});
  CHECK(found->of(b.inode).empty());
}

TEST_CASE("bpf: a program loaded for another network namespace reports nothing here", "[bpf]") {
  Sock a = open_loopback(SOCK_STREAM);
  auto here = load_or_skip({.netns = own_netns()});
  auto found = here->find({{a.inode}, {}, std::nullopt});
  REQUIRE(found.ok());
  CHECK(found->of(a.inode).size() == 1);
  auto elsewhere = load_or_skip({.netns = own_netns() + 1});
  found = elsewhere->find({{a.inode}, {}, std::nullopt});
  REQUIRE(found.ok());
  CHECK(found->of(a.inode).empty());
}

TEST_CASE("bpf: first-only stops at one holder again on every iteration of the same link",
          "[bpf]") {
  Sock a = open_loopback(SOCK_STREAM);
  Child c1, c2;
  auto bpf = load_or_skip({.netns = own_netns(), .port = a.port, .first_only = true});
  // The program's "emitted" flag lives in .bss, which outlives an iteration: without the reset
  // before each, the second and later iterations would report nothing.
  for (int round = 0; round < 3; ++round) {
    INFO("iteration " << round);
    auto found = bpf->find({{a.inode}, {}, a.port});
    REQUIRE(found.ok());
    REQUIRE(found->of(a.inode).size() == 1);
    pid_t pid = found->of(a.inode)[0].pid;
    CHECK((pid == ::getpid() || pid == c1.pid || pid == c2.pid));
  }
}

TEST_CASE("bpf: a loaded program sees sockets opened after it was loaded", "[bpf]") {
  auto bpf = load_or_skip();
  Sock before = open_loopback(SOCK_STREAM);
  REQUIRE(bpf->find({{before.inode}, {}, std::nullopt})->of(before.inode).size() == 1);
  Sock after = open_loopback(SOCK_DGRAM);
  auto found = bpf->find({{before.inode, after.inode}, {}, std::nullopt});
  REQUIRE(found.ok());
  CHECK(found->of(before.inode).size() == 1);
  CHECK(found->of(after.inode).size() == 1);
  before.fd.reset();  // closed: gone from the next iteration
  found = bpf->find({{before.inode, after.inode}, {}, std::nullopt});
  REQUIRE(found.ok());
  CHECK(found->of(before.inode).empty());
  CHECK(found->of(after.inode).size() == 1);
}

namespace {

LiveState state_with(const Sock& s, Protocol protocol) {
  LiveState state;
  ListeningSocket l;
  l.address = "127.0.0.1";
  l.port = s.port;
  l.protocol = protocol;
  l.inode = s.inode;
  l.netns = "net:[" + std::to_string(own_netns()) + "]";
  state.sockets.push_back(l);
  state.netns = l.netns;
  return state;
}

}  // namespace

TEST_CASE("bpf: the owners collector takes the iteration it prepared while the sockets were read",
          "[bpf]") {
  (void)load_or_skip();
  Sock tcp = open_loopback(SOCK_STREAM);
  auto owners = make_owners_collector(CollectorOptions{}, "bpf");
  const ScanScope all{};
  owners->prepare(all);
  LiveState state = state_with(tcp, Protocol::tcp);
  REQUIRE(owners->collect(all, state).ok());
  CHECK(state.owner_source == "bpf");
  REQUIRE(state.sockets[0].owners.size() == 1);
  CHECK(state.sockets[0].owners[0].pid == ::getpid());
}

TEST_CASE("bpf: an iteration prepared for another port is not taken for a scan of all of them",
          "[bpf]") {
  (void)load_or_skip();
  Sock tcp = open_loopback(SOCK_STREAM);
  Sock other = open_loopback(SOCK_STREAM);
  auto owners = make_owners_collector(CollectorOptions{}, "bpf");
  // Its program reports `other`'s port only; the sockets then call for all ports.
  owners->prepare(ScanScope{PortKey{other.port, Protocol::tcp}, true});
  LiveState state = state_with(tcp, Protocol::tcp);
  REQUIRE(owners->collect(ScanScope{}, state).ok());
  REQUIRE(state.sockets[0].owners.size() == 1);
  CHECK(state.sockets[0].owners[0].pid == ::getpid());
}

TEST_CASE("bpf: a load that fails for want of fds may pass, unlike the kernel's refusals",
          "[bpf]") {
#ifdef PORTMAN_SANITIZED
  // UBSan's type checks open a pipe to probe memory: with no fd left they report every virtual
  // call as one on an invalid object.
  portman::test::skip_test("the sanitizers' runtime needs fds of its own");
#endif
  load_or_skip();  // this kernel loads it at all
  // No fd left: the probe socket (or the loader's maps) cannot be opened.
  UniqueFd lowest(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  REQUIRE(lowest);
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  rlimit none = limit;
  none.rlim_cur = static_cast<rlim_t>(lowest.get());
  lowest.reset();
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &none) == 0);
  auto loaded = load_bpf_owner_source({});
  ::setrlimit(RLIMIT_NOFILE, &limit);
  REQUIRE_FALSE(loaded);
  INFO(loaded.error().message);
  CHECK(loaded.error().kind == ErrorKind::io);  // owners.method auto walks for a pause only
  CHECK_THAT(loaded.error().message, Catch::Contains("Too many open files"));
  CHECK(load_bpf_owner_source({}));  // and the limit back, it loads
}
