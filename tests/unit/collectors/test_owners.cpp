#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "collectors/owners.hpp"
#include "libportman/unique_fd.hpp"
#include "unit/skip.hpp"

// Fixture tree tests/fixtures/procfs_owners/walk (pids in walk order):
//   1 systemd     holds 1002 (socket activation); children file lists 900, never followed
//   100 sshd      holds 1001; child 101 holds none of the wanted sockets
//   150 sidecar   other netns, holds 1001
//   200 cupsd     holds 1002
//   250           exited: no fd directory
//   300 nginx     master, holds 1003 twice (dup); children 610 (thread 300), 611 (thread 302)
//   310 bash      idle
//   400 redis     in a docker container running systemd, holds 1004
//   500 proxy     other netns, holds 1005
//   610/611 nginx workers (www-data), hold 1003
//   800 cron      idle
//   900 late      holds 1001 and 1004: an owner only if the walk went on after 400
// procfs_owners/nochildren: gunicorn 10 and 20 hold 2001, 15 is idle, no children files.

using namespace portman;

namespace {

const std::string kHostNs = "net:[4026531840]";
const std::filesystem::path kFixtures =
    std::filesystem::path(PORTMAN_FIXTURES_DIR) / "procfs_owners";
constexpr std::string_view kDockerId =
    "3f4e8b2a9c1d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";
constexpr std::string_view kNobodyHolds =
    "no process holds this socket (kernel socket, or the process exited)";

ListeningSocket make_socket(std::uint64_t inode, std::uint16_t port, std::string netns = kHostNs) {
  ListeningSocket s;
  s.address = "0.0.0.0";
  s.port = port;
  s.inode = inode;
  s.netns = std::move(netns);
  return s;
}

LiveState make_state(std::vector<ListeningSocket> sockets) {
  LiveState state;
  state.sockets = std::move(sockets);
  return state;
}

void collect(const std::filesystem::path& procfs, LiveState& state, ScanScope scope = {}) {
  CollectorOptions options;
  options.procfs = procfs;
  Status status = make_owners_collector(options)->collect(scope, state);
  INFO((status ? std::string() : status.error().message));
  REQUIRE(status.ok());
}

std::vector<pid_t> pids(const ListeningSocket& s) {
  std::vector<pid_t> out;
  for (const Owner& o : s.owners) out.push_back(o.pid);
  return out;
}

using Pids = std::vector<pid_t>;

}  // namespace

TEST_CASE("owners: the walk stops once every socket has an owner other than PID 1") {
  LiveState state = make_state({make_socket(1001, 22), make_socket(1002, 631),
                                make_socket(1003, 80), make_socket(1004, 6379)});
  collect(kFixtures / "walk", state);

  // 900 also holds 1001 and 1004 but comes after 400, where the last socket was found;
  // 150 holds 1001 but is in another namespace, put off and then not needed.
  CHECK(pids(state.sockets[0]) == Pids{100});
  CHECK(pids(state.sockets[3]) == Pids{400});
  // PID 1 alone does not end the search for 1002; both are listed, the service is main.
  CHECK(pids(state.sockets[1]) == Pids{1, 200});
  REQUIRE(state.sockets[1].main_owner() != nullptr);
  CHECK(state.sockets[1].main_owner()->pid == 200);
  CHECK(state.processes_unreadable == 0);
  for (const ListeningSocket& s : state.sockets) CHECK(s.owner_unknown.empty());
}

TEST_CASE("owners: pre-fork workers are found through the master's children") {
  LiveState state = make_state({make_socket(1003, 80), make_socket(1004, 6379)});
  collect(kFixtures / "walk", state);

  // 610 and 611 come after 400, where the walk stopped: only the children files lead there.
  const ListeningSocket& nginx = state.sockets[0];
  CHECK(pids(nginx) == Pids{300, 610, 611});
  REQUIRE(nginx.owners.size() == 3);
  CHECK(nginx.owners[0].cmdline ==
        "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;");
  CHECK(nginx.owners[0].user == "root");
  CHECK(nginx.owners[1].process == "nginx");
  CHECK(nginx.owners[1].cmdline == "nginx: worker process");
  CHECK(nginx.owners[1].uid == 33);
  CHECK(nginx.owners[1].user == "www-data");
  CHECK(nginx.owners[2].unit == "nginx.service");
  CHECK(nginx.main_owner()->pid == 300);
  CHECK(pids(state.sockets[1]) == Pids{400});
}

TEST_CASE("owners: details of an owner come from comm, cmdline, exe, status and cgroup") {
  LiveState state = make_state({make_socket(1004, 6379), make_socket(1001, 22)});
  collect(kFixtures / "walk", state);

  REQUIRE(state.sockets[0].owners.size() == 1);
  const Owner& redis = state.sockets[0].owners[0];
  CHECK(redis.pid == 400);
  CHECK(redis.process == "redis-server");
  CHECK(redis.cmdline == "/usr/bin/redis-server *:6379");
  CHECK(redis.exe == "/usr/bin/redis-server");
  CHECK(redis.uid == 999);
  CHECK(redis.user == "999");  // no passwd entry on the host
  CHECK(redis.container == kDockerId);
  CHECK(redis.unit == "redis-server.service");

  REQUIRE(state.sockets[1].owners.size() == 1);
  const Owner& sshd = state.sockets[1].owners[0];
  CHECK(sshd.pid == 100);
  CHECK(sshd.process == "sshd");
  CHECK(sshd.cmdline == "/usr/sbin/sshd -D");
  CHECK(sshd.exe == "/usr/sbin/sshd");
  CHECK(sshd.uid == 0);
  CHECK(sshd.user == "root");
  CHECK(sshd.container.empty());
  CHECK(sshd.unit == "ssh.service");
}

TEST_CASE("owners: PID 1 is a listed owner with its own details") {
  LiveState state = make_state({make_socket(1002, 631)});
  collect(kFixtures / "walk", state);
  REQUIRE(state.sockets[0].owners.size() == 2);
  const Owner& init = state.sockets[0].owners[0];
  CHECK(init.pid == 1);
  CHECK(init.process == "systemd");
  CHECK(init.cmdline == "/sbin/init splash");
  CHECK(init.unit == "init.scope");
  CHECK(state.sockets[0].owners[1].process == "cupsd");
  CHECK(state.sockets[0].owners[1].unit == "cups.service");
}

TEST_CASE("owners: a socket nobody holds is explained and makes the walk read everything") {
  LiveState state = make_state({make_socket(1001, 22), make_socket(1099, 9999)});
  collect(kFixtures / "walk", state);

  // 1099 is never found, so every process is read: both namespaces, and 900 too.
  CHECK(pids(state.sockets[0]) == Pids{100, 150, 900});
  CHECK(state.sockets[0].owner_unknown.empty());
  CHECK(state.sockets[1].owners.empty());
  CHECK(state.sockets[1].owner_unknown == kNobodyHolds);
  CHECK(state.processes_unreadable == 0);  // 250 exited: not a permission problem
}

TEST_CASE("owners: a socket held only in another namespace is found in the second pass") {
  LiveState state = make_state({make_socket(1005, 9000)});
  collect(kFixtures / "walk", state);
  REQUIRE(state.sockets[0].owners.size() == 1);
  CHECK(state.sockets[0].owners[0].pid == 500);
  CHECK(state.sockets[0].owners[0].process == "proxy");
  CHECK(state.sockets[0].owners[0].cmdline == "/usr/local/bin/proxy --listen :9000");
  CHECK(state.sockets[0].owners[0].user == "nobody");
}

TEST_CASE("owners: sockets without a namespace treat every process as a candidate") {
  LiveState state = make_state({make_socket(1001, 22, "")});
  collect(kFixtures / "walk", state);
  CHECK(pids(state.sockets[0]) == Pids{100});  // still stops there, 150 is never read
}

TEST_CASE("owners: without children files the rest of the walk reads only parents, not fds") {
  LiveState state = make_state({make_socket(2001, 8000)});
  collect(kFixtures / "nochildren", state);
  // 20 is a worker of 10 (its stat says so) and is read; 15 also has 2001 open but its parent is
  // not a holder, so its fds are never read once 10 has been found: it must not show up.
  CHECK(pids(state.sockets[0]) == Pids{10, 20});
  CHECK(state.sockets[0].owners[1].cmdline == "/usr/bin/python3 /usr/bin/gunicorn app:app");
  CHECK(state.sockets[0].owners[1].exe == "/usr/bin/python3.11");
}

TEST_CASE("owners: nothing is done when the scope does not ask for owners") {
  LiveState state = make_state({make_socket(1001, 22)});
  ScanScope scope;
  scope.owners = false;
  collect(kFixtures / "walk", state, scope);
  CHECK(state.sockets[0].owners.empty());
  CHECK(state.sockets[0].owner_unknown.empty());
}

TEST_CASE("owners: a scope narrowed to one port attributes only that port") {
  LiveState state = make_state({make_socket(1001, 22), make_socket(1003, 80)});
  ScanScope scope;
  scope.only = PortKey{80, Protocol::tcp};
  collect(kFixtures / "walk", state, scope);
  CHECK(state.sockets[0].owners.empty());
  CHECK(state.sockets[0].owner_unknown.empty());
  CHECK(pids(state.sockets[1]) == Pids{300, 610, 611});
}

TEST_CASE("owners: an unusable procfs path is an io error") {
  LiveState state = make_state({make_socket(1001, 22)});
  CollectorOptions options;
  options.procfs = kFixtures / "does-not-exist";
  Status status = make_owners_collector(options)->collect({}, state);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().kind == ErrorKind::io);
  CHECK(status.error().message.find("does-not-exist") != std::string::npos);
}

namespace {

// A listening TCP socket on 127.0.0.1 and its inode.
struct Listener {
  UniqueFd fd;
  std::uint64_t inode = 0;
};

Listener listen_loopback() {
  Listener l;
  l.fd.reset(::socket(AF_INET, SOCK_STREAM, 0));  // no CLOEXEC: the child inherits it
  REQUIRE(l.fd);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(l.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(l.fd.get(), 1) == 0);
  struct stat st {};
  REQUIRE(::fstat(l.fd.get(), &st) == 0);
  l.inode = st.st_ino;
  return l;
}

std::string own_netns() {
  char buf[64];
  ssize_t n = ::readlink("/proc/self/ns/net", buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// Kills and reaps the child even when an assertion ends the test early.
struct ChildGuard {
  pid_t pid = -1;
  ~ChildGuard() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

// Runs `sleep 30` holding the listener; returns once the exec happened.
void spawn_sleep_holding(Listener& l, ChildGuard& child) {
  int sync[2];
  REQUIRE(::pipe2(sync, O_CLOEXEC) == 0);
  UniqueFd sync_read(sync[0]), sync_write(sync[1]);
  child.pid = ::fork();
  REQUIRE(child.pid >= 0);
  if (child.pid == 0) {
    ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  sync_write.reset();
  char c;
  while (::read(sync_read.get(), &c, 1) > 0) {
  }              // EOF: the exec closed the CLOEXEC end
  l.fd.reset();  // from now on only the child holds the socket
}

}  // namespace

TEST_CASE("owners: live, a forked child holding a listening socket is its owner") {
  Listener l = listen_loopback();
  ChildGuard child;
  spawn_sleep_holding(l, child);

  LiveState state = make_state({make_socket(l.inode, 0, own_netns())});
  collect("/proc", state);

  REQUIRE(state.sockets[0].owners.size() == 1);
  const Owner& o = state.sockets[0].owners[0];
  CHECK(o.pid == child.pid);
  CHECK(o.process == "sleep");
  CHECK(o.cmdline == "sleep 30");
  CHECK(std::filesystem::path(o.exe).filename() == "sleep");
  CHECK(o.uid == ::geteuid());
  CHECK(state.sockets[0].owner_unknown.empty());
}

TEST_CASE("owners: live, processes that cannot be read are counted and explained") {
  if (::geteuid() != 0) {
    portman::test::skip_test("needs root to drop to uid 65534");
  }
  Listener l = listen_loopback();
  ChildGuard holder;
  spawn_sleep_holding(l, holder);  // runs as root: its fds are closed to uid 65534

  int report[2];
  REQUIRE(::pipe(report) == 0);
  UniqueFd report_read(report[0]), report_write(report[1]);
  ChildGuard scanner;
  scanner.pid = ::fork();
  REQUIRE(scanner.pid >= 0);
  if (scanner.pid == 0) {
    // No Catch2 in here: report through the pipe and _exit.
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    LiveState state = make_state({make_socket(l.inode, 0, own_netns())});
    Status st = make_owners_collector(CollectorOptions{})->collect({}, state);
    std::string out = std::to_string(st.ok()) + "\n" + std::to_string(state.processes_unreadable) +
                      "\n" + std::to_string(state.sockets[0].owners.size()) + "\n" +
                      state.sockets[0].owner_unknown;
    ssize_t ignored = ::write(report_write.get(), out.data(), out.size());
    (void)ignored;
    ::_exit(0);
  }
  report_write.reset();
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(report_read.get(), buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  int wstatus = 0;
  REQUIRE(::waitpid(scanner.pid, &wstatus, 0) == scanner.pid);
  scanner.pid = -1;
  REQUIRE(WIFEXITED(wstatus));
  REQUIRE(WEXITSTATUS(wstatus) == 0);

  // ok, unreadable count, number of owners, reason
  std::vector<std::string> lines;
  for (std::size_t start = 0, i = 0; lines.size() < 3; start = i + 1) {
    i = out.find('\n', start);
    REQUIRE(i != std::string::npos);
    lines.push_back(out.substr(start, i - start));
    if (lines.size() == 3) out = out.substr(i + 1);
  }
  CHECK(lines[0] == "1");
  int unreadable = std::stoi(lines[1]);
  CHECK(unreadable >= 1);  // at least the root-owned sleep
  CHECK(lines[2] == "0");
  CHECK(out.rfind("owner unknown: " + std::to_string(unreadable), 0) == 0);
  CHECK(out.find("could not be read (permission denied); run as root or grant "
                 "CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE") != std::string::npos);
}

namespace {

// A writable copy of a fixture tree, removed afterwards (symlinks copied as symlinks).
struct TreeCopy {
  std::filesystem::path root;
  explicit TreeCopy(const std::filesystem::path& from) {
    char tmpl[] = "/tmp/portman-owners-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    root = tmpl;
    std::filesystem::copy(
        from, root,
        std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
  }
  ~TreeCopy() {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
};

}  // namespace

TEST_CASE("owners: a second run verifies cached owners by their fd instead of walking /proc") {
  TreeCopy tree(kFixtures / "walk");
  CollectorOptions options;
  options.procfs = tree.root;
  auto collector = make_owners_collector(options);
  auto run = [&] {
    LiveState state = make_state({make_socket(1001, 22)});
    REQUIRE(collector->collect({}, state).ok());
    return pids(state.sockets[0]);
  };
  REQUIRE(run() == Pids{100});
  // A process earlier in pid order now also holds 1001. A walk would find it first; the cache,
  // which only re-reads 100's fd link, does not.
  std::filesystem::create_directories(tree.root / "50/fd");
  std::filesystem::create_directories(tree.root / "50/ns");
  std::filesystem::create_symlink("net:[4026531840]", tree.root / "50/ns/net");
  std::filesystem::create_symlink("socket:[1001]", tree.root / "50/fd/9");
  std::filesystem::copy_file(tree.root / "100/comm", tree.root / "50/comm");
  CHECK(run() == Pids{100});
  // 100 let go of the socket: the cache entry fails its check and the walk finds 50.
  for (const auto& link : std::filesystem::directory_iterator(tree.root / "100/fd"))
    if (std::filesystem::read_symlink(link.path()) == "socket:[1001]")
      std::filesystem::remove(link.path());
  CHECK(run() == Pids{50});
}

TEST_CASE("owners: a walk over many processes, shared by two threads, finds every owner") {
  // 600 processes (enough for the parallel walk): every 37th holds one socket, the rest hold
  // files; 590 is a pre-fork master whose two workers (597, 599) hold its socket too.
  char tmpl[] = "/tmp/portman-owners-many-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::filesystem::path root = tmpl;
  namespace fs = std::filesystem;
  auto write = [](const fs::path& p, const std::string& text) {
    std::FILE* f = std::fopen(p.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
  };
  std::vector<ListeningSocket> sockets;
  std::vector<pid_t> expected;
  for (pid_t pid = 2; pid < 602; ++pid) {
    fs::path dir = root / std::to_string(pid);
    fs::create_directories(dir / "fd");
    fs::create_directories(dir / "ns");
    fs::create_directories(dir / ("task/" + std::to_string(pid)));
    fs::create_symlink(kHostNs, dir / "ns/net");
    write(dir / "comm", pid >= 590 ? "server\n" : "proc" + std::to_string(pid) + "\n");
    std::string children = pid == 590 ? "597 599 " : "";
    write(dir / ("task/" + std::to_string(pid) + "/children"), children);
    for (int fd = 0; fd < 5; ++fd)
      fs::create_symlink("/dev/null", dir / ("fd/" + std::to_string(fd)));
    if (pid % 37 == 0) {
      auto inode = static_cast<std::uint64_t>(50000 + pid);
      fs::create_symlink("socket:[" + std::to_string(inode) + "]", dir / "fd/7");
      sockets.push_back(make_socket(inode, static_cast<std::uint16_t>(20000 + pid)));
      expected.push_back(pid);
    }
    if (pid == 590 || pid == 597 || pid == 599) fs::create_symlink("socket:[99999]", dir / "fd/8");
  }
  sockets.push_back(make_socket(99999, 8080));
  LiveState state = make_state(sockets);
  collect(root, state);
  for (std::size_t i = 0; i + 1 < state.sockets.size(); ++i) {
    INFO("socket " << state.sockets[i].inode);
    CHECK(pids(state.sockets[i]) == Pids{expected[i]});
  }
  CHECK(pids(state.sockets.back()) == Pids{590, 597, 599});
  CHECK(state.sockets.back().owners[0].process == "server");
  fs::remove_all(root);
}

TEST_CASE("owners: with --path.rootfs users are named from the rootfs's passwd") {
  LiveState state = make_state({make_socket(1003, 80), make_socket(1004, 6379)});
  CollectorOptions options;
  options.procfs = kFixtures / "walk";
  // The fixture's nginx workers run as uid 33 (www-data here); the rootfs names it otherwise,
  // and has no entry for redis's 999.
  options.accounts =
      Accounts::from_text("root:x:0:0::/root:/bin/sh\nhostweb:x:33:33::/:/bin/false\n", "");
  REQUIRE(make_owners_collector(options)->collect({}, state).ok());
  const ListeningSocket& nginx = state.sockets[0];
  REQUIRE(nginx.owners.size() == 3);
  CHECK(nginx.owners[0].user == "root");
  CHECK(nginx.owners[1].uid == 33);
  CHECK(nginx.owners[1].user == "hostweb");
  CHECK(nginx.owners[2].user == "hostweb");
  REQUIRE(state.sockets[1].owners.size() == 1);
  CHECK(state.sockets[1].owners[0].user == "999");
}
