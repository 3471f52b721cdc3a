// Dokploy in check, scan and the agent: the real binary against a fake Dokploy serving the
// fixtures (tests/fixtures/dokploy, see its README for the oracle), in each of the API's layouts
// and in each way Dokploy or a proxy in front of it fails.
#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <thread>

#include "fake_dokploy.hpp"
#include "harness.hpp"

using itest::Agent;
using itest::FakeDokploy;
using itest::metric;
using itest::TempDir;

namespace {

const std::string kKey = "test-key";  // what the fake accepts

itest::RunOptions dokploy_env(const FakeDokploy& fake, const std::string& key = kKey) {
  return {{{"DOKPLOY_API_URL", fake.url()}, {"DOKPLOY_API_KEY", key}}};
}

std::set<std::string> findings_of(const nlohmann::json& report, const std::string& kind) {
  std::set<std::string> out;
  for (const auto& f : report["findings"])
    if (f["kind"] == kind)
      out.insert(std::to_string(f["port"].get<int>()) + "/" + f["protocol"].get<std::string>());
  return out;
}

std::string scrape(const Agent& agent) {
  auto r = itest::curl({agent.url("/metrics")});
  REQUIRE(r.code == 0);
  return r.out;
}

}  // namespace

TEST_CASE("dokploy: scan reports every published port of this host in each API layout") {
  TempDir dir;
  for (std::string layout : {"v1", "v2", "v3"}) {
    INFO("layout " << layout);
    FakeDokploy fake({"--layout", layout});
    auto r = itest::portman(
        {"--registry", (dir / "reg.json").string(), "scan", "--json", "--no-collector.docker"},
        dokploy_env(fake));
    REQUIRE(r.code == 0);
    auto report = r.json();
    // The fixtures' oracle for the Dokploy host: the applications', databases' and compose
    // file's ports, none registered; 8080 is published twice (shop-web and shop-web-staging).
    CHECK(findings_of(report, "dokploy_unregistered") ==
          std::set<std::string>{"3001/tcp", "3307/tcp", "5433/tcp", "8080/tcp", "9091/tcp",
                                "9102/tcp", "9125/udp", "27018/tcp"});
    CHECK(findings_of(report, "dokploy_collision") == std::set<std::string>{"8080/tcp"});
    // edge-01's ports are not this host's.
    for (const char* remote : {"8125/udp", "4318/tcp", "3308/tcp"})
      CHECK(findings_of(report, "dokploy_unregistered").count(remote) == 0);
    CHECK(report["notes"].empty());
    CHECK(r.out.find(kKey) == std::string::npos);
    CHECK(r.err.find(kKey) == std::string::npos);
  }
}

TEST_CASE("dokploy: on a remote server only that server's ports are expected") {
  TempDir dir;
  FakeDokploy fake({"--layout", "v3"});
  auto r = itest::portman({"--registry", (dir / "reg.json").string(), "scan", "--json",
                           "--no-collector.docker", "--dokploy.server_id", "srvEdge01_Lm4Qw9Zt2Xa"},
                          dokploy_env(fake));
  REQUIRE(r.code == 0);
  CHECK(findings_of(r.json(), "dokploy_unregistered") ==
        std::set<std::string>{"3308/tcp", "4318/tcp", "8125/udp"});
  CHECK(findings_of(r.json(), "dokploy_collision").empty());
}

TEST_CASE("dokploy: check names the Dokploy service and a registry entry of another service") {
  TempDir dir;
  itest::write_file(dir / "reg.json",
                    R"({"allocations": {"5433": {"service": "legacy-billing-db", "status": "active",
                      "environment": "production", "protocol": "tcp"}}})");
  FakeDokploy fake({"--layout", "v2"});
  auto r = itest::portman({"--registry", (dir / "reg.json").string(), "check", "5433", "--json",
                           "--no-collector.docker"},
                          dokploy_env(fake));
  auto j = r.json();
  REQUIRE(j["findings"].size() >= 1);
  bool mismatch = false;
  for (const auto& f : j["findings"])
    if (f["kind"] == "dokploy_mismatch") {
      mismatch = true;
      CHECK(f["service_name"] == "legacy-billing-db");
      CHECK(f["detail"].get<std::string>().find("shop-db") != std::string::npos);
    }
  CHECK(mismatch);
  CHECK(r.code == 1);  // a finding on the port: not ok

  auto text = itest::portman(
      {"--registry", (dir / "reg.json").string(), "check", "5433", "--no-collector.docker"},
      dokploy_env(fake));
  CHECK(text.out.find("dokploy_mismatch") != std::string::npos);
}

TEST_CASE("dokploy: each failure gives one clear line in scan and check and nothing else changes") {
  TempDir dir;
  itest::write_file(dir / "reg.json", R"({"allocations": {}})");
  const std::string before = itest::read_file(dir / "reg.json");
  struct Case {
    std::vector<std::string> fake_args;
    std::string key;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--mode", "401"}, kKey, "API/CLI Keys"},
      {{}, "wrong-key", "API/CLI Keys"},
      {{"--mode", "500"}, kKey, "500"},
      {{"--mode", "html"}, kKey, "text/html"},
      {{"--mode", "truncated"}, kKey, "JSON"},
      {{"--mode", "huge"}, kKey, "MiB"},
      {{"--mode", "slow"}, kKey, "no answer within"},
  };
  for (const Case& c : cases) {
    INFO("fake " << (c.fake_args.empty() ? "ok" : c.fake_args.back()) << " key " << c.key);
    FakeDokploy fake(c.fake_args);
    auto start = std::chrono::steady_clock::now();
    auto r = itest::portman({"--registry", (dir / "reg.json").string(), "scan", "--json",
                             "--no-collector.docker", "--dokploy.timeout", "700ms"},
                            dokploy_env(fake, c.key));
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(r.code == 0);  // the scan itself worked
    CHECK(took < 5.0);
    auto j = r.json();
    REQUIRE(j["notes"].size() == 1);
    std::string note = j["notes"][0];
    CHECK(note.rfind("dokploy: ", 0) == 0);
    CHECK(note.find(c.says) != std::string::npos);
    CHECK(note.find('\n') == std::string::npos);
    CHECK(note.find(c.key) == std::string::npos);  // the key is never printed
    CHECK(findings_of(j, "dokploy_unregistered").empty());
    auto text = itest::portman({"--registry", (dir / "reg.json").string(), "check", "3307",
                                "--no-collector.docker", "--dokploy.timeout", "700ms"},
                               dokploy_env(fake, c.key));
    CHECK(text.out.find("dokploy: ") != std::string::npos);
  }
  // Dokploy not running at all.
  int free_port = 0;
  {
    FakeDokploy gone;
    free_port = gone.port();
  }
  auto r = itest::portman(
      {"--registry", (dir / "reg.json").string(), "scan", "--json", "--no-collector.docker"},
      {{{"DOKPLOY_API_URL", "http://127.0.0.1:" + std::to_string(free_port)},
        {"DOKPLOY_API_KEY", kKey}}});
  CHECK(r.code == 0);
  REQUIRE(r.json()["notes"].size() == 1);
  CHECK(r.json()["notes"][0].get<std::string>().find("127.0.0.1:" + std::to_string(free_port)) !=
        std::string::npos);
  CHECK(itest::read_file(dir / "reg.json") == before);
}

TEST_CASE("dokploy: the agent polls in the background and keeps the last good answer") {
  TempDir dir;
  auto fake = std::make_unique<FakeDokploy>(std::vector<std::string>{"--layout", "v3"});
  Agent agent({"--scan.min-interval", "0s", "--registry", (dir / "reg.json").string(),
               "--no-collector.docker", "--dokploy.interval", "1s", "--dokploy.timeout", "500ms"},
              dokploy_env(*fake));
  std::string text;
  for (int i = 0; i < 50; ++i) {
    text = scrape(agent);
    if (metric(text, "portman_dokploy_up") == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(metric(text, "portman_dokploy_up") == 1);
  CHECK(metric(text, "portman_dokploy_last_success_timestamp_seconds").value_or(0) > 1.7e9);
  CHECK(metric(text, "portman_dokploy_port_info",
               {"port=\"5433\"", "protocol=\"tcp\"", "dokploy_kind=\"postgres\""}) == 1);
  CHECK(metric(text, "portman_finding", {"kind=\"dokploy_collision\"", "port=\"8080\""}) == 1);
  CHECK(metric(text, "portman_findings", {"kind=\"dokploy_unregistered\""}) == 8);
  const double last_success = *metric(text, "portman_dokploy_last_success_timestamp_seconds");

  // Dokploy goes away: up drops to 0, the last good ports and findings stay, scrapes stay fast.
  fake.reset();
  auto slow = std::make_unique<FakeDokploy>(std::vector<std::string>{"--mode", "slow"});
  (void)slow;
  for (int i = 0; i < 60; ++i) {
    auto start = std::chrono::steady_clock::now();
    text = scrape(agent);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(took < 0.5);  // a scrape never waits for Dokploy
    if (metric(text, "portman_dokploy_up") == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(metric(text, "portman_dokploy_up") == 0);
  CHECK(metric(text, "portman_dokploy_last_success_timestamp_seconds") == last_success);
  CHECK(metric(text, "portman_dokploy_port_info", {"port=\"5433\""}) == 1);
  CHECK(metric(text, "portman_findings", {"kind=\"dokploy_unregistered\""}) == 8);
  auto page = itest::curl({agent.url("/")});
  CHECK(page.out.find("Inventory sources") != std::string::npos);
  CHECK(page.out.find("dokploy: ") != std::string::npos);  // the failure, on the page
  auto log = agent.log();
  CHECK(log.find(kKey) == std::string::npos);
}
