// --path.rootfs against real processes: user names come from ROOTFS/etc/passwd (the host's, seen
// from a container), not from this system's databases. The rootfs here is a scratch tree whose
// passwd names the listeners' uids differently from this machine.
#include <catch2/catch.hpp>

#include <algorithm>

#include "harness.hpp"

using itest::Agent;
using itest::Listener;
using itest::TempDir;
using nlohmann::json;

namespace {

// uid 65534 is `nobody` on this machine, uid 0 is `root`: the tree names them otherwise.
const std::string kPasswd =
    "hostroot:x:0:0:root of the host:/root:/bin/bash\n"
    "hostsvc:x:65534:65534:a service user of the host:/nonexistent:/usr/sbin/nologin\n";

std::filesystem::path make_rootfs(const TempDir& dir) {
  auto root = dir / "host";
  std::filesystem::create_directories(root / "etc");
  itest::write_file(root / "etc/passwd", kPasswd);
  itest::write_file(root / "etc/group", "hostroot:x:0:\n");
  return root;
}

json scan(const TempDir& dir, std::vector<std::string> extra) {
  std::vector<std::string> args = {"scan", "--json", "--registry", (dir / "reg.json").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = itest::portman(args);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return r.json();
}

json socket_on(const json& report, int port) {
  for (const auto& s : report["listening"])
    if (s["port"] == port && s["protocol"] == "tcp") return s;
  FAIL("no tcp socket on port " << port << " in " << report.dump());
  return {};
}

}  // namespace

TEST_CASE("scan --path.rootfs names the listener's user from the rootfs's etc/passwd") {
  TempDir dir;
  auto root = make_rootfs(dir);
  Listener svc({"--uid", "65534", "tcp:127.0.0.1:18600"});
  Listener admin({"tcp:127.0.0.1:18601"});

  // Without it, this machine's names (the control: the tree's names are not the host's).
  json own = scan(dir, {});
  CHECK(socket_on(own, 18600)["user"] == "nobody");
  CHECK(socket_on(own, 18601)["user"] == "root");

  json hosted = scan(dir, {"--path.rootfs", root.string()});
  json s = socket_on(hosted, 18600);
  CHECK(s["user"] == "hostsvc");
  CHECK(s["pid"] == svc.pid());
  CHECK(s["process"] == "test_listener");
  CHECK(socket_on(hosted, 18601)["user"] == "hostroot");
  CHECK(socket_on(hosted, 18601)["pid"] == admin.pid());
}

TEST_CASE("scan --path.rootfs shows the uid of a user the rootfs does not name") {
  TempDir dir;
  auto root = dir / "bare";
  std::filesystem::create_directories(root / "etc");
  itest::write_file(root / "etc/passwd", "hostroot:x:0:0::/root:/bin/sh\n");
  Listener svc({"--uid", "65534", "tcp:127.0.0.1:18602"});
  json report = scan(dir, {"--path.rootfs", root.string()});
  CHECK(socket_on(report, 18602)["user"] == "65534");
}

TEST_CASE("check --path.rootfs names the user as scan does") {
  TempDir dir;
  auto root = make_rootfs(dir);
  Listener svc({"--uid", "65534", "tcp:127.0.0.1:18603"});
  auto r = itest::portman({"check", "18603", "--json", "--registry", (dir / "reg.json").string(),
                           "--path.rootfs", root.string()});
  INFO(r.err);
  REQUIRE(!r.out.empty());
  CHECK(r.out.find("\"hostsvc\"") != std::string::npos);
  CHECK(r.out.find("\"nobody\"") == std::string::npos);
}

TEST_CASE("a --path.rootfs without etc/passwd is refused in one line naming the file") {
  TempDir dir;
  auto r = itest::portman({"scan", "--registry", (dir / "reg.json").string(), "--path.rootfs",
                           (dir / "empty").string()});
  CHECK(r.code == 2);
  CHECK(r.err.find((dir / "empty/etc/passwd").string()) != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("agent: --path.rootfs and agent.rootfs name users in /api/scan and /metrics") {
  TempDir dir;
  auto root = make_rootfs(dir);
  Listener svc({"--uid", "65534", "tcp:127.0.0.1:18604"});
  {
    Agent agent({"--scan.min-interval", "0s", "--registry", (dir / "reg.json").string(),
                 "--path.rootfs", root.string()});
    auto r = itest::curl({agent.url("/api/scan")});
    REQUIRE(r.code == 0);
    CHECK(socket_on(json::parse(r.out), 18604)["user"] == "hostsvc");
    auto m = itest::curl({agent.url("/metrics")});
    CHECK(itest::metric(m.out, "portman_listening_port_info",
                        {"port=\"18604\"", "user=\"hostsvc\""}) == 1);
  }
  itest::write_file(dir / "portman.yml", "agent:\n  rootfs: " + root.string() + "\n");
  Agent agent({"--scan.min-interval", "0s", "--registry", (dir / "reg.json").string(), "--config",
               (dir / "portman.yml").string()});
  auto r = itest::curl({agent.url("/api/scan")});
  REQUIRE(r.code == 0);
  CHECK(socket_on(json::parse(r.out), 18604)["user"] == "hostsvc");
}
