// allocate, release and update through the real binary: locking, atomic saves, real sockets.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <random>
#include <set>
#include <thread>

#include "harness.hpp"

using itest::Listener;
using itest::TempDir;
using nlohmann::json;

namespace {

std::string reg(const TempDir& dir) {
  return (dir / "reg.json").string();
}

json registry_json(const TempDir& dir) {
  return json::parse(itest::read_file(dir / "reg.json"));
}

}  // namespace

TEST_CASE("allocate prints the lowest free port of the type alone on stdout and writes the entry") {
  TempDir dir;
  auto r =
      itest::portman({"allocate", "my-api", "-t", "api", "-o", "louis", "--registry", reg(dir)});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out == "8000\n");
  CHECK(r.err.find("allocated 8000 to my-api") != std::string::npos);
  json j = registry_json(dir);
  const json& e = j["allocations"]["8000"];
  CHECK(e["service"] == "my-api");
  CHECK(e["owner"] == "louis");
  CHECK(e["status"] == "allocated");
  CHECK(e["service_type"] == "api");
  CHECK(e["environment"] == "production");
  CHECK(e["protocol"] == "tcp");
  CHECK(e.contains("allocated_at"));
  CHECK(j["generation"] == 1);
}

TEST_CASE("allocate skips ports that listen, registered ports and reserved ports") {
  TempDir dir;
  Listener busy({"tcp:127.0.0.1:8000", "tcp:[::1]:8002"});  // any address, either family
  REQUIRE(itest::portman({"allocate", "a", "-t", "api", "--registry", reg(dir)}).out == "8001\n");
  CHECK(itest::portman({"allocate", "b", "-t", "api", "--registry", reg(dir)}).out == "8003\n");
  // 3000 is reserved by default (the Dokploy UI), so web starts at 3001.
  CHECK(itest::portman({"allocate", "c", "-t", "web", "--registry", reg(dir)}).out == "3001\n");
  // A UDP socket does not make the TCP port busy, and a UDP allocation sees UDP sockets.
  Listener udp({"udp:127.0.0.1:10000"});
  CHECK(itest::portman({"allocate", "d", "-t", "temp", "--registry", reg(dir)}).out == "10000\n");
  CHECK(itest::portman({"allocate", "e", "-t", "temp", "--udp", "--registry", reg(dir)}).out ==
        "10001\n");
  CHECK(registry_json(dir)["allocations"].contains("10001/udp"));
}

TEST_CASE(
    "allocate -p registers a port that already listens, and refuses one registered to another") {
  TempDir dir;
  Listener running({"tcp:0.0.0.0:8085"});
  auto ok = itest::portman({"allocate", "running-svc", "-p", "8085", "--registry", reg(dir)});
  REQUIRE(ok.code == 0);
  CHECK(ok.out == "8085\n");
  CHECK(registry_json(dir)["allocations"]["8085"]["service_type"] == "api");  // from the range
  std::string before = itest::read_file(dir / "reg.json");
  auto taken = itest::portman({"allocate", "other", "-p", "8085", "--registry", reg(dir)});
  CHECK(taken.code == 1);
  CHECK(taken.out.empty());
  CHECK(taken.err.find("registered to 'running-svc'") != std::string::npos);
  CHECK(itest::read_file(dir / "reg.json") == before);
}

TEST_CASE("allocate --json prints the entry with port and protocol") {
  TempDir dir;
  auto r = itest::portman({"allocate", "x", "-t", "ml", "--json", "--registry", reg(dir)});
  REQUIRE(r.code == 0);
  json e = r.json();
  CHECK(e["port"] == 8100);
  CHECK(e["protocol"] == "tcp");
  CHECK(e["service"] == "x");
}

TEST_CASE("allocate refuses when the range is full and says why") {
  TempDir dir;
  itest::write_file(dir / "portman.yml", "types:\n  tiny: { range: 12000-12001 }\n");
  std::string cfg = (dir / "portman.yml").string();
  Listener busy({"tcp:127.0.0.1:12001"});
  REQUIRE(itest::portman({"allocate", "a", "-t", "tiny", "--config", cfg, "--registry", reg(dir)})
              .out == "12000\n");
  std::string before = itest::read_file(dir / "reg.json");
  auto full =
      itest::portman({"allocate", "b", "-t", "tiny", "--config", cfg, "--registry", reg(dir)});
  CHECK(full.code == 1);
  CHECK(full.err.find("no free tcp port in tiny range 12000-12001") != std::string::npos);
  CHECK(itest::read_file(dir / "reg.json") == before);
}

TEST_CASE(
    "50 allocate processes started at once get 50 distinct ports and a valid file with all 50") {
  TempDir dir;
  std::vector<pid_t> pids;
  for (int i = 0; i < 50; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto r = itest::portman(
          {"allocate", "svc-" + std::to_string(i), "-t", "temp", "--registry", reg(dir)});
      ::_exit(r.code);
    }
    pids.push_back(pid);
  }
  int failed = 0;
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  CHECK(failed == 0);
  json j = registry_json(dir);
  CHECK(j["allocations"].size() == 50);
  CHECK(j["generation"] == 50);  // no write was lost
  std::set<std::string> services;
  for (const auto& [port, e] : j["allocations"].items()) services.insert(e["service"]);
  CHECK(services.size() == 50);
}

TEST_CASE("kill -9 at random moments during allocations always leaves a valid registry") {
  TempDir dir;
  std::mt19937 rng(42);
  // Kill within twice the time one allocation takes on this machine, so that some finish and
  // some do not whether the disk is fast or slow.
  auto start = std::chrono::steady_clock::now();
  REQUIRE(itest::portman({"allocate", "timing", "-t", "temp", "--registry", reg(dir)}).code == 0);
  auto once = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  const auto window = static_cast<unsigned>(std::max<long long>(2 * once, 1000));
  int completed_before = 1;
  for (int round = 0; round < 40; ++round) {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto r = itest::portman(
          {"allocate", "k" + std::to_string(round), "-t", "temp", "--registry", reg(dir)});
      ::_exit(r.code);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % window));
    ::kill(pid, SIGKILL);  // kills the waiting child; portman dies with it (PDEATHSIG)
    ::waitpid(pid, nullptr, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!std::filesystem::exists(dir / "reg.json")) continue;
    json j;
    REQUIRE_NOTHROW(j = registry_json(dir));
    int n = static_cast<int>(j["allocations"].size());
    CHECK(n >= completed_before);  // never loses what an earlier write saved
    CHECK(j["generation"] == n);
    completed_before = n;
  }
  // The kills landed at different moments: some allocations finished, some did not.
  CHECK(completed_before > 1);
  CHECK(completed_before < 41);
  WARN(completed_before - 1 << " of 40 allocations survived the kills");
  auto v = itest::portman({"validate", "--registry", reg(dir)});
  INFO(v.out << v.err);
  CHECK(v.code == 0);
}

TEST_CASE(
    "a held registry lock ends allocate after lock_timeout with the holder's pid, never a hang") {
  TempDir dir;
  itest::write_file(dir / "portman.yml", "lock_timeout: 300ms\n");
  int fd = ::open((dir / "reg.json.lock").c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  auto start = std::chrono::steady_clock::now();
  auto r = itest::portman({"allocate", "x", "-t", "api", "--config", (dir / "portman.yml").string(),
                           "--registry", reg(dir)});
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  CHECK(r.code == 1);
  CHECK(r.err.find("locked by pid " + std::to_string(::getpid())) != std::string::npos);
  CHECK(took < std::chrono::seconds(3));
  CHECK_FALSE(std::filesystem::exists(dir / "reg.json"));
}

TEST_CASE("release archives the entry with released_at and the port stays in quarantine") {
  TempDir dir;
  REQUIRE(itest::portman({"allocate", "old", "-t", "api", "--registry", reg(dir)}).out == "8000\n");
  auto r = itest::portman({"release", "8000", "--registry", reg(dir)});
  INFO(r.err);
  REQUIRE(r.code == 0);
  json j = registry_json(dir);
  CHECK_FALSE(j["allocations"].contains("8000"));
  REQUIRE(j["archive"].size() == 1);
  CHECK(j["archive"][0]["port"] == 8000);
  CHECK(j["archive"][0]["service"] == "old");
  CHECK(j["archive"][0].contains("released_at"));
  CHECK(j["archive"][0].contains("allocated_at"));
  // Not handed out again during the quarantine.
  CHECK(itest::portman({"allocate", "new", "-t", "api", "--registry", reg(dir)}).out == "8001\n");
  auto s = itest::portman({"suggest", "-t", "api", "-c", "2", "--json", "--registry", reg(dir)});
  CHECK(s.json() == json::array({8002, 8003}));
}

TEST_CASE("release refuses a port that still listens unless --force") {
  TempDir dir;
  Listener l({"tcp:127.0.0.1:8000"});
  REQUIRE(itest::portman({"allocate", "live", "-p", "8000", "--registry", reg(dir)}).code == 0);
  std::string before = itest::read_file(dir / "reg.json");
  auto refused = itest::portman({"release", "8000", "--registry", reg(dir)});
  CHECK(refused.code == 1);
  CHECK(refused.err.find("still listening (test_listener, pid " + std::to_string(l.pid())) !=
        std::string::npos);
  CHECK(itest::read_file(dir / "reg.json") == before);
  CHECK(itest::portman({"release", "8000", "--force", "--registry", reg(dir)}).code == 0);
  CHECK(registry_json(dir)["allocations"].empty());
}

TEST_CASE("update sets status, notes and updated_at, and refuses an unregistered port") {
  TempDir dir;
  REQUIRE(itest::portman({"allocate", "wa", "-p", "8081", "--registry", reg(dir)}).code == 0);
  auto r = itest::portman(
      {"update", "8081", "needs_pairing", "-n", "Session destroyed", "--registry", reg(dir)});
  REQUIRE(r.code == 0);
  json e = registry_json(dir)["allocations"]["8081"];
  CHECK(e["status"] == "needs_pairing");
  CHECK(e["notes"] == "Session destroyed");
  CHECK(e.contains("updated_at"));
  auto missing = itest::portman({"update", "8082", "active", "--registry", reg(dir)});
  CHECK(missing.code == 1);
  CHECK(missing.err.find("not registered") != std::string::npos);
}

TEST_CASE(
    "unknown fields and the archive survive a read-modify-write, and the old file becomes .bak") {
  TempDir dir;
  std::string seed = R"({
  "version": "1.0.0",
  "last_updated": "2025-11-02",
  "server": "203.0.113.5",
  "custom_top": {"nested": [1, 2.5, "x", null, true]},
  "allocations": {
    "8091": {"service": "Storage API", "status": "active", "rack": "B2", "tags": ["a", "b"]},
    "3000": {"service": "FibreFlow Production", "environment": "production", "status": "active",
             "owner": "velo", "url": "https://app.example.com", "cost": 12.75, "ünï": "cödé"}
  },
  "reserved_ranges": {"3000-3099": "Web Applications"},
  "archive": [{"port": 8090, "service": "old-api", "released_at": "2025-09-30T12:00:00", "extra": 1}]
}
)";
  itest::write_file(dir / "reg.json", seed);
  REQUIRE(itest::portman({"update", "3000", "maintenance", "--registry", reg(dir)}).code == 0);
  json before = json::parse(seed), after = registry_json(dir);
  CHECK(after["custom_top"] == before["custom_top"]);
  CHECK(after["server"] == before["server"]);
  CHECK(after["reserved_ranges"] == before["reserved_ranges"]);
  CHECK(after["archive"] == before["archive"]);
  CHECK(after["allocations"]["8091"] == before["allocations"]["8091"]);
  json e = after["allocations"]["3000"];
  CHECK(e["cost"] == 12.75);
  CHECK(e["ünï"] == "cödé");
  CHECK(e["status"] == "maintenance");
  CHECK(after["generation"] == 1);
  CHECK(itest::read_file(dir / "reg.json.bak") == seed);
  // Stable output: ports in numeric order, 2-space indent.
  std::string text = itest::read_file(dir / "reg.json");
  CHECK(text.find("\"3000\"") < text.find("\"8091\""));
  CHECK(text.find("\n  \"allocations\": {\n    \"3000\": {\n      \"service\"") !=
        std::string::npos);
}

TEST_CASE("a missing registry reads as empty and is created with its folder on the first change") {
  TempDir dir;
  std::string nested = (dir / "a/b/port_registry.json").string();
  auto list = itest::portman({"list", "--json", "--registry", nested});
  CHECK(list.code == 0);
  CHECK(list.json() == json::array());
  CHECK_FALSE(std::filesystem::exists(dir / "a"));  // reading creates nothing
  REQUIRE(itest::portman({"allocate", "x", "-t", "web", "--registry", nested}).code == 0);
  CHECK(std::filesystem::exists(nested));
}
