// portman check PORT: verdicts and exit codes against real listeners.
#include <catch2/catch.hpp>

#include "harness.hpp"

using itest::Listener;
using itest::TempDir;
using nlohmann::json;

namespace {

itest::RunResult check(const TempDir& dir, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"check"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {"--json", "--registry", (dir / "reg.json").string()});
  return itest::portman(args);
}

std::string verdict(const itest::RunResult& r) {
  return r.json()["verdict"];
}

bool has_finding(const itest::RunResult& r, const std::string& kind) {
  const json j = r.json();  // not in the for: a temporary there would die before the loop
  for (const auto& f : j["findings"])
    if (f["kind"] == kind) return true;
  return false;
}

}  // namespace

TEST_CASE("check: a port nobody registered and nothing listens on is free, exit 1") {
  TempDir dir;
  auto r = check(dir, {"18200"});
  CHECK(r.code == 1);
  CHECK(verdict(r) == "free");
  CHECK(r.json()["registered"] == false);
  CHECK(r.json()["listening"] == false);
}

TEST_CASE("check: a listener without an entry is unregistered, with its process in sockets") {
  TempDir dir;
  Listener l({"tcp:0.0.0.0:18201"});
  auto r = check(dir, {"18201"});
  CHECK(r.code == 1);
  CHECK(verdict(r) == "unregistered");
  json j = r.json();
  REQUIRE(j["sockets"].size() == 1);
  CHECK(j["sockets"][0]["pid"] == l.pid());
  CHECK(j["sockets"][0]["process"] == "test_listener");
  CHECK(j["sockets"][0]["user"] == "root");
  CHECK(j["sockets"][0]["address"] == "0.0.0.0");
}

TEST_CASE("check follows a service from idle through status_mismatch and ok to down") {
  TempDir dir;
  std::string reg = (dir / "reg.json").string();
  REQUIRE(itest::portman({"allocate", "svc", "-p", "18202", "--registry", reg}).code == 0);
  auto idle = check(dir, {"18202"});
  CHECK(verdict(idle) == "idle");
  CHECK(idle.code == 1);
  {
    Listener l({"tcp:127.0.0.1:18202"});
    auto mismatch = check(dir, {"18202"});
    CHECK(verdict(mismatch) == "status_mismatch");
    REQUIRE(itest::portman({"update", "18202", "active", "--registry", reg}).code == 0);
    auto ok = check(dir, {"18202"});
    CHECK(verdict(ok) == "ok");
    CHECK(ok.code == 0);
    CHECK(ok.json()["allocation"]["service"] == "svc");
  }
  auto down = check(dir, {"18202"});
  CHECK(verdict(down) == "down");
  CHECK(down.code == 1);
  CHECK(has_finding(down, "registered_down"));
}

TEST_CASE("check: an entry meant for 127.0.0.1 that listens on 0.0.0.0 is an exposure conflict") {
  TempDir dir;
  std::string reg = (dir / "reg.json").string();
  REQUIRE(itest::portman(
              {"allocate", "private", "-p", "18203", "--bind", "127.0.0.1", "--registry", reg})
              .code == 0);
  REQUIRE(itest::portman({"update", "18203", "active", "--registry", reg}).code == 0);
  {
    Listener wide({"tcp:0.0.0.0:18203"});
    auto r = check(dir, {"18203"});
    CHECK(verdict(r) == "conflict");
    CHECK(has_finding(r, "exposure_mismatch"));
  }
  Listener narrow({"tcp:127.0.0.1:18203"});
  CHECK(verdict(check(dir, {"18203"})) == "ok");
}

TEST_CASE("check: an entry expecting another process reports owner_mismatch") {
  TempDir dir;
  std::string reg = (dir / "reg.json").string();
  REQUIRE(
      itest::portman({"allocate", "web", "-p", "18204", "--process", "nginx", "--registry", reg})
          .code == 0);
  REQUIRE(itest::portman({"update", "18204", "active", "--registry", reg}).code == 0);
  Listener l({"tcp:127.0.0.1:18204"});
  auto r = check(dir, {"18204"});
  CHECK(verdict(r) == "conflict");
  CHECK(has_finding(r, "owner_mismatch"));
}

TEST_CASE("check --udp looks at the UDP entry and socket only") {
  TempDir dir;
  std::string reg = (dir / "reg.json").string();
  Listener dns({"udp:127.0.0.1:18205"});
  REQUIRE(itest::portman({"allocate", "dns", "-p", "18205", "--udp", "--registry", reg}).code == 0);
  REQUIRE(itest::portman({"update", "18205", "active", "--udp", "--registry", reg}).code == 0);
  auto udp = check(dir, {"18205", "--udp"});
  CHECK(verdict(udp) == "ok");
  CHECK(udp.json()["protocol"] == "udp");
  CHECK(verdict(check(dir, {"18205"})) == "free");  // nothing on TCP 18205
}

TEST_CASE("check without --json prints the verdict with advice") {
  TempDir dir;
  Listener l({"tcp:127.0.0.1:18206"});
  auto r = itest::portman({"check", "18206", "--registry", (dir / "reg.json").string()});
  CHECK(r.code == 1);
  CHECK(r.out.find("Verdict: unregistered") != std::string::npos);
  CHECK(r.out.find("portman allocate NAME -p 18206") != std::string::npos);
  CHECK(r.out.find("pid " + std::to_string(l.pid())) != std::string::npos);
}
