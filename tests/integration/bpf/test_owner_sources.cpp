// The BPF owner source against the /proc walk, on real sockets and processes in a fresh network
// namespace: both must name the same owners. Every test here needs the kernel to load the BPF
// program (ctest label bpf) and is skipped where it does not, never passed.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "unit/skip.hpp"

using itest::Listener;
using itest::TempDir;
using nlohmann::json;

namespace {

std::vector<std::string> with_registry(const TempDir& dir, std::vector<std::string> args) {
  if (!std::filesystem::exists(dir / "reg.json"))
    itest::write_file(dir / "reg.json", "{\"allocations\": {}}\n");
  args.insert(args.end(), {"--registry", (dir / "reg.json").string()});
  return args;
}

const json* owners_run(const json& report) {
  for (const auto& r : report["collectors"])
    if (r["collector"] == "owners") return &r;
  return nullptr;
}

// Skips the test unless this portman, as root here, loads the BPF program.
void require_bpf(const TempDir& dir) {
  auto r = itest::portman(with_registry(dir, {"scan", "--json", "--owners.method", "bpf"}));
  if (r.code == 2 && r.err.find("built without BPF") != std::string::npos)
    portman::test::skip_test("portman was built without BPF (clang or bpftool missing)");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const json report = r.json();
  const json* owners = owners_run(report);
  REQUIRE(owners);
  if (!(*owners)["success"].get<bool>()) {
    std::string why = (*owners)["error"];
    if (why.find("cannot load the BPF owners iterator") != std::string::npos)
      portman::test::skip_test(why.c_str());
    FAIL(why);
  }
}

json scan(const TempDir& dir, const std::string& method, const itest::RunOptions& options = {}) {
  auto r =
      itest::portman(with_registry(dir, {"scan", "--json", "--owners.method", method}), options);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return r.json();
}

// (port/protocol/address/inode) -> that socket's owners, as scan --json lists them.
std::map<std::string, json> owners_by_socket(const json& report) {
  std::map<std::string, json> out;
  for (const auto& s : report["listening"]) {
    std::string key = std::to_string(s["port"].get<int>()) + "/" +
                      s["protocol"].get<std::string>() + " " + s["address"].get<std::string>() +
                      " #" + std::to_string(s.value("inode", 0));
    out[key].push_back(s["owners"]);
  }
  return out;
}

// Skips the test unless a listener may raise its fd limit to `n` (the hard limit allows it).
void require_file_limit(rlim_t n) {
  rlimit files{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &files) == 0);
  if (files.rlim_max < n)
    portman::test::skip_test(
        ("RLIMIT_NOFILE allows fewer than " + std::to_string(n) + " fds").c_str());
}

std::vector<int> pids_on(const json& report, int port, const std::string& protocol = "tcp") {
  std::vector<int> out;
  for (const auto& s : report["listening"])
    if (s["port"] == port && s["protocol"] == protocol)
      for (const auto& o : s["owners"]) out.push_back(o["pid"]);
  return out;
}

}  // namespace

TEST_CASE(
    "bpf and procfs name the same owners of pre-fork workers and another user's and "
    "dual-stack and UDP and SO_REUSEPORT sockets and a renamed process with another euid") {
  TempDir dir;
  require_bpf(dir);
  Listener prefork({"--fork", "3", "tcp:0.0.0.0:18600"});
  Listener nobody({"--uid", "65534", "tcp:127.0.0.1:18601"});
  Listener dual({"tcp:[::]:18602"});
  Listener v6only({"--v6only", "tcp:[::]:18603", "tcp:0.0.0.0:18603"});
  Listener udp({"udp:0.0.0.0:18604", "udp:[::1]:18604", "udpclient:127.0.0.1:18604"});
  Listener reuse_a({"--reuseport", "tcp:127.0.0.1:18605", "udp:127.0.0.1:18605"});
  Listener reuse_b({"--reuseport", "tcp:127.0.0.1:18605", "udp:127.0.0.1:18605"});
  // Renamed, and running with an effective uid that is not its real one (its /proc entry then
  // belongs to root): the iterator's own name and euid must be what comm and status say.
  Listener renamed({"--euid", "65534", "--name", "pm-renamed", "tcp:127.0.0.1:18606"});

  json bpf = scan(dir, "bpf");
  json walk = scan(dir, "procfs");
  CHECK(bpf["owner_source"] == "bpf");
  CHECK(walk["owner_source"] == "procfs");
  CHECK(bpf["sockets_owner_unknown"] == 0);
  CHECK(owners_by_socket(bpf) == owners_by_socket(walk));

  // What the owners are, so that two empty answers cannot agree: the master and its 3 workers,
  // each reuseport socket its own process.
  CHECK(pids_on(bpf, 18600).size() == 4);
  CHECK(pids_on(bpf, 18600).front() == prefork.pid());
  CHECK(pids_on(bpf, 18601) == std::vector<int>{nobody.pid()});
  CHECK(pids_on(bpf, 18602) == std::vector<int>{dual.pid()});
  CHECK(pids_on(bpf, 18603) == std::vector<int>{v6only.pid(), v6only.pid()});
  CHECK(pids_on(bpf, 18604, "udp") == std::vector<int>{udp.pid(), udp.pid()});
  std::vector<int> reuse = pids_on(bpf, 18605);
  std::sort(reuse.begin(), reuse.end());
  std::vector<int> both = {reuse_a.pid(), reuse_b.pid()};
  std::sort(both.begin(), both.end());
  CHECK(reuse == both);
  for (const auto& s : bpf["listening"]) {
    if (s["port"] == 18601) CHECK(s["user"] == "nobody");
    if (s["port"] == 18606) {
      CHECK(s["user"] == "nobody");
      CHECK(s["process"] == "pm-renamed");
    }
  }
  CHECK(pids_on(bpf, 18606) == std::vector<int>{renamed.pid()});
}

TEST_CASE("bpf and procfs name the same owners of sockets held far into a grown fd table") {
  TempDir dir;
  require_bpf(dir);
  // fds 70.. and 1000..: past the 64 slots a table starts with, in chunks the program reads
  // after the first, and one held by a worker too.
  Listener mid({"--fd", "70", "tcp:127.0.0.1:18606", "udp:127.0.0.1:18606"});
  Listener far({"--fork", "1", "--fd", "1000", "tcp:127.0.0.1:18607", "tcp:[::1]:18607"});
  json bpf = scan(dir, "bpf");
  json walk = scan(dir, "procfs");
  CHECK(bpf["owner_source"] == "bpf");
  CHECK(owners_by_socket(bpf) == owners_by_socket(walk));
  // Held there only: found at all means those slots were read.
  CHECK(pids_on(bpf, 18606) == std::vector<int>{mid.pid()});
  CHECK(pids_on(bpf, 18606, "udp") == std::vector<int>{mid.pid()});
  std::vector<int> far_owners = pids_on(bpf, 18607);
  REQUIRE(far_owners.size() == 4);  // two addresses, each held by the listener and its worker
  CHECK(far_owners.front() == far.pid());
  CHECK(bpf["sockets_owner_unknown"] == 0);
}

TEST_CASE("check PORT with bpf names the owners procfs names for that port only") {
  TempDir dir;
  require_bpf(dir);
  Listener prefork({"--fork", "2", "tcp:127.0.0.1:18610"});
  Listener other({"tcp:127.0.0.1:18611"});
  auto check = [&](const std::string& method) {
    auto r =
        itest::portman(with_registry(dir, {"check", "18610", "--json", "--owners.method", method}));
    INFO(r.err);
    REQUIRE(r.code == 1);  // listening, not registered
    return r.json();
  };
  json bpf = check("bpf");
  json walk = check("procfs");
  CHECK(bpf["owner_source"] == "bpf");
  CHECK(walk["owner_source"] == "procfs");
  REQUIRE(bpf["sockets"].size() == 1);
  CHECK(bpf["sockets"][0]["owners"].size() == 3);
  CHECK(bpf["sockets"][0]["pid"] == prefork.pid());
  CHECK(bpf["sockets"] == walk["sockets"]);
}

TEST_CASE(
    "bpf names every owner of a process with more listening sockets than one call of the "
    "program reports, and of the processes after it") {
  TempDir dir;
  require_bpf(dir);
  require_file_limit(1700);
  // Visited first: its records are in the buffer when the big process comes, whose records then
  // do not fit what is left, so the kernel drops them and runs the program again for it.
  Listener before({"tcp:127.0.0.1:18608"});
  // 1,500 TCP listeners and 100 UDP sockets in one process and its worker: more records than the
  // iterator's buffer takes for one task (1,363 sockets), which once failed the whole iteration.
  Listener many({"--fork", "1", "tcp:127.0.0.1:20000-21499", "udp:127.0.0.1:22000-22099"});
  Listener after({"tcp:127.0.0.1:18609"});  // visited after the big ones
  json bpf = scan(dir, "bpf");
  json walk = scan(dir, "procfs");
  CHECK(bpf["owner_source"] == "bpf");
  CHECK(bpf["sockets_owner_unknown"] == 0);
  CHECK(bpf["listening"].size() >= 1601);
  CHECK(owners_by_socket(bpf) == owners_by_socket(walk));
  for (int port : {20000, 20700, 21499}) {
    std::vector<int> owners = pids_on(bpf, port);
    REQUIRE(owners.size() == 2);  // the process and its worker
    CHECK(owners.front() == many.pid());
  }
  CHECK(pids_on(bpf, 22099, "udp").size() == 2);
  CHECK(pids_on(bpf, 18608) == std::vector<int>{before.pid()});
  CHECK(pids_on(bpf, 18609) == std::vector<int>{after.pid()});
  for (const auto& s : bpf["listening"])
    if (s["port"] == 21499) CHECK(s["process"] == "test_listener");
}

TEST_CASE(
    "bpf without the right to read a big process's fds counts it unreadable and names the "
    "holders it could report") {
  TempDir dir;
  require_bpf(dir);
  require_file_limit(1500);
  // Another user's process with 1,400 listeners: the program reports 1,363, and its
  // /proc/PID/fd, where the rest would be found, is closed to a root without CAP_SYS_PTRACE.
  Listener many({"--uid", "65534", "tcp:127.0.0.1:20000-21399"});
  itest::write_file(dir / "reg.json", "{\"allocations\": {}}\n");
  auto r = itest::run(
      {"setpriv", "--bounding-set=-sys_ptrace,-dac_read_search,-dac_override", PORTMAN_BIN, "scan",
       "--json", "--owners.method", "bpf", "--registry", (dir / "reg.json").string()},
      {{{"PORTMAN_CONFIG", "/dev/null"}}});
  INFO(r.err);
  REQUIRE(r.code == 0);
  json report = r.json();
  CHECK(report["owner_source"] == "bpf");
  CHECK(report["processes_unreadable"] >= 1);
  int held = 0, unknown = 0;
  for (const auto& s : report["listening"]) {
    if (s["port"] < 20000 || s["port"] > 21399) continue;
    if (s["owners"].empty()) {
      ++unknown;
    } else {
      ++held;
      CHECK(s["owners"][0]["pid"] == many.pid());
    }
  }
  CHECK(held == 1363);
  CHECK(unknown == 37);
  CHECK(report["sockets_owner_unknown"] == 37);  // said to be unreadable, not unheld
}

namespace {

struct NestedScans {
  int inner_pid = 0;  // the listener started inside, as the nested namespace numbers it
  json bpf, walk;     // scan --json inside, owners from BPF and from /proc
};

// Starts a pre-fork listener on 18620 in a new pid namespace and scans from there with both
// owner sources.
NestedScans scan_in_nested_pid_namespace(const TempDir& dir) {
  itest::write_file(dir / "reg.json", "{\"allocations\": {}}\n");
  const std::string reg = (dir / "reg.json").string();
  const std::string script =
      "export PORTMAN_CONFIG=/dev/null NO_COLOR=1\n"
      "'" TEST_LISTENER_BIN "' --fork 1 tcp:127.0.0.1:18620 > '" +
      (dir / "ready").string() +
      "' &\n"
      "l=$!\n"
      "for i in $(seq 100); do grep -q ready '" +
      (dir / "ready").string() +
      "' && break; sleep 0.05; done\n"
      "echo $l > '" +
      (dir / "pid").string() +
      "'\n"
      "for m in bpf procfs; do '" PORTMAN_BIN "' scan --json --owners.method $m --registry '" +
      reg + "' > '" + dir.path().string() +
      "'/$m.json || exit 1; done\n"
      "kill $l\n";
  auto r = itest::run({"unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  NestedScans out;
  out.inner_pid = std::stoi(itest::read_file(dir / "pid"));
  out.bpf = json::parse(itest::read_file(dir / "bpf.json"));
  out.walk = json::parse(itest::read_file(dir / "procfs.json"));
  return out;
}

bool lists(const json& report, int port) {
  for (const auto& s : report["listening"])
    if (s["port"] == port) return true;
  return false;
}

}  // namespace

TEST_CASE("in a nested pid namespace both sources report the pids that namespace sees") {
  TempDir dir;
  require_bpf(dir);
  // Outside the nested namespace: its /proc cannot show this holder, and BPF must not either.
  Listener outside({"tcp:127.0.0.1:18621"});
  NestedScans nested = scan_in_nested_pid_namespace(dir);
  const json& bpf = nested.bpf;
  const json& walk = nested.walk;
  CHECK(nested.inner_pid < 10);  // numbered by the new namespace, not the test's
  CHECK(bpf["owner_source"] == "bpf");
  CHECK(walk["owner_source"] == "procfs");
  CHECK(owners_by_socket(bpf) == owners_by_socket(walk));
  std::vector<int> owners = pids_on(bpf, 18620);
  REQUIRE(owners.size() == 2);  // the listener and its worker
  CHECK(owners.front() == nested.inner_pid);
  CHECK(pids_on(bpf, 18621).empty());
  CHECK(pids_on(walk, 18621).empty());
  // Still listed: the iterator cannot vouch for a socket it found no holder of, so the scan
  // looks that one up again by its port instead.
  CHECK(lists(bpf, 18621));
  CHECK(lists(walk, 18621));
}

TEST_CASE("sockets no holder can be seen for are all listed when there are many") {
  TempDir dir;
  require_bpf(dir);
  // More than a few unattributed sockets: the scan confirms them with one whole dump.
  std::vector<std::string> specs;
  for (int port = 18640; port < 18650; ++port)
    specs.push_back("tcp:127.0.0.1:" + std::to_string(port));
  Listener outside(specs);
  NestedScans nested = scan_in_nested_pid_namespace(dir);
  for (int port = 18640; port < 18650; ++port) {
    INFO("port " << port);
    CHECK(lists(nested.bpf, port));
    CHECK(lists(nested.walk, port));
    CHECK(pids_on(nested.bpf, port).empty());
  }
  CHECK(pids_on(nested.bpf, 18620).size() == 2);
}

TEST_CASE(
    "without CAP_BPF and CAP_PERFMON and CAP_SYS_ADMIN auto walks /proc and says so "
    "while bpf fails with one line") {
  TempDir dir;
  require_bpf(dir);
  Listener l({"tcp:127.0.0.1:18630"});
  itest::write_file(dir / "reg.json", "{\"allocations\": {}}\n");
  const std::vector<std::string> drop = {"setpriv", "--bounding-set=-sys_admin,-bpf,-perfmon",
                                         PORTMAN_BIN};
  auto as_capless = [&](const std::string& method) {
    std::vector<std::string> argv = drop;
    argv.insert(argv.end(), {"scan", "--json", "--owners.method", method, "--registry",
                             (dir / "reg.json").string()});
    auto r = itest::run(argv, {{{"PORTMAN_CONFIG", "/dev/null"}}});
    INFO(r.err);
    REQUIRE(r.code == 0);
    return r.json();
  };
  json dropped = as_capless("auto");
  CHECK(dropped["owner_source"] == "procfs");
  CHECK(pids_on(dropped, 18630) == std::vector<int>{l.pid()});  // root without BPF: still read
  json refused = as_capless("bpf");
  const json* run = owners_run(refused);
  REQUIRE(run);
  CHECK((*run)["success"] == false);
  std::string error = (*run)["error"];
  CHECK(error.find('\n') == std::string::npos);
  CHECK(error.rfind("owners.method bpf: cannot load the BPF owners iterator: ", 0) == 0);
  CHECK(error.find("needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN") != std::string::npos);

  // An ordinary user: no capabilities at all.
  json nobody = scan(dir, "auto", itest::as_user(dir));
  CHECK(nobody["owner_source"] == "procfs");
  CHECK(pids_on(nobody, 18630).empty());  // root's process: unreadable to nobody

  // The agent says why once, at debug level, however many scans fall back.
  itest::Agent agent({"--scan.min-interval", "0s", "--registry", (dir / "reg.json").string()},
                     itest::as_user(dir));
  for (int i = 0; i < 3; ++i) {
    auto r = itest::curl({agent.url("/metrics")});
    REQUIRE(r.code == 0);
    CHECK(itest::metric(r.out, "portman_owner_source_info", {"source=\"procfs\""}) == 1);
  }
  std::string log = agent.log();
  INFO(log);
  auto first = log.find("owners from the /proc walk");
  REQUIRE(first != std::string::npos);
  CHECK(log.find("owners from the /proc walk", first + 1) == std::string::npos);
  CHECK(log.find("cannot load the BPF owners iterator", first) != std::string::npos);
}

TEST_CASE("the agent keeps the program loaded and sees new listeners on the next scan") {
  TempDir dir;
  require_bpf(dir);
  itest::write_file(dir / "reg.json", "{\"allocations\": {}}\n");
  itest::Agent agent({"--scan.min-interval", "0s", "--registry", (dir / "reg.json").string()});
  auto scrape = [&] {
    auto r = itest::curl({agent.url("/metrics")});
    REQUIRE(r.code == 0);
    return r.out;
  };
  std::string text = scrape();
  CHECK(itest::metric(text, "portman_owner_source_info", {"source=\"bpf\""}) == 1);
  CHECK_FALSE(itest::metric(text, "portman_owner_source_info", {"source=\"procfs\""}));
  Listener late({"--fork", "1", "udp:127.0.0.1:18640"});
  text = scrape();
  CHECK(itest::metric(text, "portman_listening_port_info",
                      {"port=\"18640\"", "process=\"test_listener\""}) == 1);
  CHECK(itest::metric(text, "portman_owner_source_info", {"source=\"bpf\""}) == 1);
  CHECK(itest::curl({agent.url("/")}).out.find("owners from bpf") != std::string::npos);
  auto api = itest::curl({agent.url("/api/scan")});
  REQUIRE(api.code == 0);
  json report = json::parse(api.out);
  CHECK(report["owner_source"] == "bpf");
  CHECK(pids_on(report, 18640, "udp").size() == 2);
}
