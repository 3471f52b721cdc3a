// portman scan against real sockets and processes in a fresh network namespace.
#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "harness.hpp"

using itest::Listener;
using itest::TempDir;
using nlohmann::json;

namespace {

json scan(const TempDir& dir, const itest::RunOptions& options = {}) {
  auto r = itest::portman({"scan", "--json", "--registry", (dir / "reg.json").string()}, options);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return r.json();
}

std::vector<json> sockets_on(const json& report, int port, const std::string& proto = "tcp") {
  std::vector<json> out;
  for (const auto& s : report["listening"])
    if (s["port"] == port && s["protocol"] == proto) out.push_back(s);
  return out;
}

std::vector<json> findings_of(const json& report, const std::string& kind, int port) {
  std::vector<json> out;
  for (const auto& f : report["findings"])
    if (f["kind"] == kind && f["port"] == port) out.push_back(f);
  return out;
}

}  // namespace

TEST_CASE("scan reports a TCP listener on 0.0.0.0 with its pid, process, user and command line") {
  TempDir dir;
  Listener l({"tcp:0.0.0.0:18080"});
  json report = scan(dir);
  auto socks = sockets_on(report, 18080);
  REQUIRE(socks.size() == 1);
  CHECK(socks[0]["address"] == "0.0.0.0");
  CHECK(socks[0]["pid"] == l.pid());
  CHECK(socks[0]["process"] == "test_listener");
  CHECK(socks[0]["user"] == "root");
  CHECK(socks[0]["cmdline"].get<std::string>().find("tcp:0.0.0.0:18080") != std::string::npos);
  CHECK(socks[0]["service_name"] == "");
  CHECK(findings_of(report, "unregistered", 18080).size() == 1);
  CHECK(report["summary"]["listening"] == report["listening"].size());
  CHECK(report["summary"]["unregistered"] == 1);
}

TEST_CASE("scan tells IPv6-only sockets from dual-stack ones") {
  TempDir dir;
  Listener loop6({"tcp:[::1]:18081"});
  Listener dual({"tcp:[::]:18082"});
  Listener only6({"--v6only", "tcp:[::]:18083"});
  json report = scan(dir);
  auto a = sockets_on(report, 18081), b = sockets_on(report, 18082), c = sockets_on(report, 18083);
  REQUIRE((a.size() == 1 && b.size() == 1 && c.size() == 1));
  CHECK(a[0]["address"] == "::1");
  CHECK(a[0]["family"] == "ipv6");
  CHECK(b[0]["address"] == "::");
  CHECK(b[0]["v6only"] == false);
  CHECK(c[0]["address"] == "::");
  CHECK(c[0]["v6only"] == true);
  CHECK(b[0]["pid"] == dual.pid());
}

TEST_CASE("scan reports a bound UDP socket as udp, separate from TCP on the same port") {
  TempDir dir;
  Listener udp({"udp:127.0.0.1:18084"});
  Listener tcp({"tcp:127.0.0.1:18084"}, itest::listener_named(dir, "tcp_server").string());
  json report = scan(dir);
  auto u = sockets_on(report, 18084, "udp");
  REQUIRE(u.size() == 1);
  CHECK(u[0]["pid"] == udp.pid());
  CHECK(sockets_on(report, 18084, "tcp").size() == 1);
  // Different programs, but TCP never clashes with UDP.
  CHECK(findings_of(report, "duplicate", 18084).empty());
}

TEST_CASE("two processes of one program sharing a port through SO_REUSEPORT are not a conflict") {
  TempDir dir;
  Listener a({"--reuseport", "tcp:0.0.0.0:18090"});
  Listener b({"--reuseport", "tcp:0.0.0.0:18090"});
  json report = scan(dir);
  auto socks = sockets_on(report, 18090);
  REQUIRE(socks.size() == 2);
  std::set<int> pids = {socks[0]["pid"].get<int>(), socks[1]["pid"].get<int>()};
  CHECK(pids == std::set<int>{a.pid(), b.pid()});
  CHECK(findings_of(report, "duplicate", 18090).empty());
}

TEST_CASE("two different programs on one port through SO_REUSEPORT are a duplicate") {
  TempDir dir;
  Listener a({"--reuseport", "tcp:0.0.0.0:18091"});
  Listener b({"--reuseport", "tcp:127.0.0.1:18091"},
             itest::listener_named(dir, "intruder").string());
  json report = scan(dir);
  auto dups = findings_of(report, "duplicate", 18091);
  REQUIRE(dups.size() == 1);
  CHECK(dups[0]["detail"].get<std::string>().find("intruder") != std::string::npos);
}

TEST_CASE(
    "a dual-stack :: listener and another program on 0.0.0.0 are a duplicate but a v6-only one is "
    "not") {
  TempDir dir;
  Listener v4({"--reuseport", "tcp:0.0.0.0:18092", "tcp:0.0.0.0:18093"});
  Listener dual({"--reuseport", "tcp:[::]:18092"},
                itest::listener_named(dir, "dual_server").string());
  Listener only6({"--reuseport", "--v6only", "tcp:[::]:18093"},
                 itest::listener_named(dir, "v6_server").string());
  json report = scan(dir);
  CHECK(findings_of(report, "duplicate", 18092).size() == 1);
  CHECK(findings_of(report, "duplicate", 18093).empty());
}

TEST_CASE("a pre-forking server's socket lists the master and every worker as owners") {
  TempDir dir;
  Listener master({"--fork", "2", "tcp:127.0.0.1:18110"});
  json report = scan(dir);
  auto socks = sockets_on(report, 18110);
  REQUIRE(socks.size() == 1);
  CHECK(socks[0]["pid"] == master.pid());  // the main owner is the master, the lowest pid
  CHECK(socks[0]["owners"].size() == 3);
  CHECK(findings_of(report, "duplicate", 18110).empty());
}

TEST_CASE("a listener started as another user shows that user") {
  TempDir dir;
  Listener nobody({"--uid", "65534", "tcp:127.0.0.1:18120"});
  json report = scan(dir);
  auto socks = sockets_on(report, 18120);
  REQUIRE(socks.size() == 1);
  CHECK(socks[0]["user"] == "nobody");
  CHECK(socks[0]["pid"] == nobody.pid());
}

TEST_CASE("scan run without privileges says which owners it could not read, and goes on") {
  TempDir dir;
  Listener root_owned({"tcp:127.0.0.1:18130"});
  Listener own({"--uid", "65534", "tcp:127.0.0.1:18131"});
  json report = scan(dir, itest::as_user(dir));
  auto hidden = sockets_on(report, 18130), mine = sockets_on(report, 18131);
  REQUIRE((hidden.size() == 1 && mine.size() == 1));
  CHECK(hidden[0]["pid"].is_null());
  CHECK(hidden[0]["owner_unknown"].get<std::string>().find("could not be read") !=
        std::string::npos);
  CHECK(report["processes_unreadable"].get<int>() > 0);
  CHECK(mine[0]["pid"] == own.pid());  // its own processes are still attributed
}

namespace {

// "tcp LISTEN 0 16 127.0.0.1:18140 0.0.0.0:* users:(("x",pid=12,fd=3),("x",pid=13,fd=3))"
struct SsSocket {
  std::string proto, address;
  int port;
  std::set<int> pids;
  bool operator<(const SsSocket& o) const {
    return std::tie(proto, address, port, pids) < std::tie(o.proto, o.address, o.port, o.pids);
  }
  bool operator==(const SsSocket& o) const {
    return std::tie(proto, address, port, pids) == std::tie(o.proto, o.address, o.port, o.pids);
  }
};

std::vector<SsSocket> parse_ss(const std::string& text) {
  std::vector<SsSocket> out;
  std::istringstream lines(text);
  std::string line;
  std::regex pid_re("pid=(\\d+)");
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string proto, state, rq, sq, local;
    f >> proto >> state >> rq >> sq >> local;
    auto colon = local.rfind(':');
    SsSocket s{proto, local.substr(0, colon), std::stoi(local.substr(colon + 1)), {}};
    if (s.address == "*") s.address = "::";  // ss prints a dual-stack :: as *
    if (auto pct = s.address.find('%'); pct != std::string::npos) s.address.erase(pct);
    if (s.address.front() == '[') s.address = s.address.substr(1, s.address.size() - 2);
    for (std::sregex_iterator it(line.begin(), line.end(), pid_re), end; it != end; ++it)
      s.pids.insert(std::stoi((*it)[1]));
    out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("scan sees the same sockets and owners as ss -Htlunp on the same state") {
  TempDir dir;
  Listener a({"tcp:0.0.0.0:18140", "tcp:[::1]:18141", "udp:127.0.0.1:18142"});
  Listener b({"--fork", "1", "tcp:[::]:18143", "udp:[::]:18144"});
  Listener c({"--uid", "65534", "tcp:127.0.0.1:18145"});
  Listener d({"--reuseport", "tcp:127.0.0.1:18146"});
  Listener e({"--reuseport", "tcp:127.0.0.1:18146"});
  auto ss = itest::run({"ss", "-Htlunp"});
  REQUIRE(ss.code == 0);
  json report = scan(dir);
  std::vector<SsSocket> ours;
  for (const auto& s : report["listening"]) {
    SsSocket x{s["protocol"], s["address"], s["port"], {}};
    for (const auto& o : s["owners"]) x.pids.insert(o["pid"].get<int>());
    ours.push_back(x);
  }
  std::sort(ours.begin(), ours.end());
  std::vector<SsSocket> theirs = parse_ss(ss.out);
  REQUIRE(theirs.size() == 8);  // the state above, and nothing from outside the namespace
  CHECK(ours == theirs);
}

TEST_CASE("scan --fail-on-finding, and its first name --fail-on-conflict, exit 1 on a finding") {
  TempDir dir;
  itest::write_file(dir / "reg.json", "{\"allocations\": {}}\n");
  auto run = [&](const std::string& flag) {
    std::vector<std::string> args = {"scan", "--registry", (dir / "reg.json").string()};
    if (!flag.empty()) args.push_back(flag);
    return itest::portman(args).code;
  };
  CHECK(run("--fail-on-finding") == 0);  // nothing listens in the fresh namespace
  CHECK(run("--fail-on-conflict") == 0);
  Listener l({"tcp:127.0.0.1:18150"});
  CHECK(run("--fail-on-finding") == 1);
  CHECK(run("--fail-on-conflict") == 1);
  CHECK(run("") == 0);
}

TEST_CASE("scan warns about unreadable processes only when a socket has no known owner") {
  TempDir dir;
  itest::write_file(dir / "reg.json", "{\"allocations\": {}}\n");
  itest::RunOptions nobody = itest::as_user(dir);
  std::vector<std::string> text = {"scan", "--registry", (dir / "reg.json").string()};
  std::vector<std::string> as_json = {"scan", "--json", "--registry", (dir / "reg.json").string()};

  // Every socket is nobody's, but this test's own process (root) cannot be read by nobody.
  Listener own({"--uid", "65534", "tcp:127.0.0.1:18151"});
  auto quiet = itest::portman(text, nobody);
  INFO(quiet.out << quiet.err);
  CHECK(quiet.code == 0);
  CHECK(quiet.out.find("could not be read") == std::string::npos);
  json report = itest::portman(as_json, nobody).json();
  CHECK(report["processes_unreadable"].get<int>() >= 1);
  CHECK(report["sockets_owner_unknown"] == 0);

  Listener root_owned({"tcp:127.0.0.1:18152"});
  auto warned = itest::portman(text, nobody);
  INFO(warned.out);
  CHECK(warned.out.find("1 socket has no known owner: ") != std::string::npos);
  CHECK(itest::portman(as_json, nobody).json()["sockets_owner_unknown"] == 1);
}

TEST_CASE("scan shows a running agent's port as portman-agent's, not as a finding") {
  TempDir dir;
  itest::write_file(dir / "reg.json", "{\"allocations\": {}}\n");
  itest::Agent agent({"--registry", (dir / "reg.json").string()});
  json report = scan(dir);
  auto socks = sockets_on(report, agent.port());
  REQUIRE(socks.size() == 1);
  CHECK(socks[0]["service_name"] == "portman-agent");
  CHECK(findings_of(report, "unregistered", agent.port()).empty());
  CHECK(report["summary"]["unregistered"] == 0);
  auto r = itest::portman({"scan", "--registry", (dir / "reg.json").string()});
  CHECK(r.out.find("portman-agent") != std::string::npos);
  CHECK(r.out.find("No findings") != std::string::npos);
}
