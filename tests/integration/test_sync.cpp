// `portman sync` against the fake Dokploy (fake_dokploy.cpp, serving the fixtures): the oracle's
// ports registered, a second run that changes nothing, every layout, a failing service, the
// nginx file; and Dokploy unreachable: one line, exit 1, nothing written. (The plans entry by
// entry: tests/unit/core/test_sync_plan.cpp; the nginx output in nginx: test_nginx.cpp.)
#include <catch2/catch.hpp>

#include <filesystem>

#include "integration/fake_dokploy.hpp"
#include "integration/harness.hpp"

namespace fs = std::filesystem;
using namespace itest;

namespace {

// Nothing listens on port 1 in the test's own network namespace.
RunOptions unreachable_dokploy() {
  RunOptions o;
  o.env = {{"PORTMAN_CONFIG", "/dev/null"},
           {"DOKPLOY_API_URL", "http://127.0.0.1:1"},
           {"DOKPLOY_API_KEY", "test-key-not-secret"}};
  return o;
}

bool one_line(const std::string& text) {
  return !text.empty() && text.find('\n') == text.size() - 1;
}

}  // namespace

TEST_CASE("sync without Dokploy says so in one line and leaves the registry alone", "[sync]") {
  TempDir dir;
  const std::string reg = (dir / "port_registry.json").string();
  REQUIRE(portman({"allocate", "my-api", "-t", "api", "--registry", reg}).code == 0);
  const std::string before = read_file(reg);

  for (auto args :
       {std::vector<std::string>{"sync"}, {"sync", "--dry-run"}, {"sync", "--dry-run", "--json"}}) {
    args.insert(args.end(), {"--registry", reg});
    auto r = portman(args, unreachable_dokploy());
    INFO(args.back() << ": " << r.err);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(one_line(r.err));
    CHECK(r.err.rfind("portman: error: ", 0) == 0);
    CHECK(read_file(reg) == before);
  }
  CHECK_FALSE(fs::exists(reg + ".bak"));
}

TEST_CASE("sync --nginx without Dokploy writes no file", "[sync]") {
  TempDir dir;
  const fs::path out = dir / "portman.conf";
  auto r = portman({"sync", "--nginx", "-o", out.string()}, unreachable_dokploy());
  CHECK(r.code == 1);
  CHECK(one_line(r.err));
  CHECK_FALSE(fs::exists(out));
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("sync refuses flags that do not go together and a folder as output", "[sync]") {
  TempDir dir;
  for (auto args : {std::vector<std::string>{"sync", "-o", "x.conf"},
                    {"sync", "--nginx", "--dry-run"},
                    {"sync", "--nginx", "--json"},
                    {"sync", "--nginx", "-o", dir.path().string()}}) {
    auto r = portman(args, unreachable_dokploy());
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(one_line(r.err));
  }
  auto r = portman({"sync", "--nginx", "-o", dir.path().string()}, unreachable_dokploy());
  CHECK(r.err.find("is a folder") != std::string::npos);
}

namespace {

RunOptions dokploy_at(const FakeDokploy& dokploy) {
  RunOptions o;
  o.env = {{"PORTMAN_CONFIG", "/dev/null"},
           {"DOKPLOY_API_URL", dokploy.url()},
           {"DOKPLOY_API_KEY", "test-key"}};
  return o;
}

std::vector<std::string> added_keys(const nlohmann::json& plan) {
  std::vector<std::string> out;
  for (const auto& a : plan["add"])
    out.push_back(std::to_string(a["port"].get<int>()) + "/" + a["protocol"].get<std::string>());
  return out;
}

const std::vector<std::string> kHostPorts = {"3001/tcp", "3307/tcp", "5433/tcp", "8080/tcp",
                                             "9091/tcp", "9102/tcp", "9125/udp", "27018/tcp"};

}  // namespace

TEST_CASE("sync against the fake Dokploy registers the oracle's ports and then changes nothing",
          "[sync]") {
  FakeDokploy dokploy;
  TempDir dir;
  const std::string reg = (dir / "port_registry.json").string();

  auto dry = portman({"sync", "--dry-run", "--json", "--registry", reg}, dokploy_at(dokploy));
  INFO(dry.err);
  REQUIRE(dry.code == 0);
  auto plan = dry.json();
  CHECK(added_keys(plan) == kHostPorts);
  CHECK(plan["collisions"][0]["port"] == 8080);
  CHECK(plan["collisions"][0]["winner"] == "storefront/shop-web");
  CHECK(plan["applied"] == false);
  CHECK_FALSE(fs::exists(reg));  // a dry run writes nothing

  auto first = portman({"sync", "--registry", reg}, dokploy_at(dokploy));
  INFO(first.err);
  REQUIRE(first.code == 0);
  CHECK(first.out.find("+ 5433/tcp storefront/shop-db (database, production) active\n") !=
        std::string::npos);
  CHECK(first.out.find("! 8080/tcp collision: storefront/shop-web") != std::string::npos);
  auto file = nlohmann::json::parse(read_file(reg));
  CHECK(file["allocations"].size() == kHostPorts.size());
  CHECK(file["allocations"]["5433"]["owner"] == "dokploy");
  CHECK(file["allocations"]["5433"]["dokploy"]["id"] == "pgShopDb_E5vN2kQx8Lmk");
  CHECK(file["allocations"]["9125/udp"]["service"] == "analytics/observability/statsd-exporter");

  const std::string saved = read_file(reg);
  auto second = portman({"sync", "--registry", reg}, dokploy_at(dokploy));
  REQUIRE(second.code == 0);
  CHECK(second.out.find("nothing to change\n") != std::string::npos);
  CHECK(read_file(reg) == saved);  // not even the generation moves

  // scan's Dokploy findings agree: every published port is registered to its service; only
  // the collision is left.
  auto scan = portman({"scan", "--json", "--registry", reg}, dokploy_at(dokploy));
  INFO(scan.err);
  const auto report = scan.json();
  std::vector<std::string> dokploy_findings;
  for (const auto& f : report["findings"])
    if (f["kind"].get<std::string>().rfind("dokploy_", 0) == 0)
      dokploy_findings.push_back(f["kind"].get<std::string>() + " " +
                                 std::to_string(f["port"].get<int>()));
  CHECK(dokploy_findings == std::vector<std::string>{"dokploy_collision 8080"});

  // The collision makes --fail-on-conflict fail, and nothing else changes.
  auto strict = portman({"sync", "--fail-on-conflict", "--registry", reg}, dokploy_at(dokploy));
  CHECK(strict.code == 1);
  CHECK(read_file(reg) == saved);
}

TEST_CASE("sync --dry-run gives the same ports in each of Dokploy's layouts and per server",
          "[sync]") {
  TempDir dir;
  const std::string reg = (dir / "port_registry.json").string();
  for (const char* layout : {"v1", "v2", "v3"}) {
    FakeDokploy dokploy({"--layout", layout});
    auto r = portman({"sync", "--dry-run", "--json", "--registry", reg}, dokploy_at(dokploy));
    INFO(layout << ": " << r.err);
    REQUIRE(r.code == 0);
    CHECK(added_keys(r.json()) == kHostPorts);
  }
  FakeDokploy dokploy;
  auto edge = portman({"sync", "--dry-run", "--json", "--registry", reg, "--dokploy.server_id",
                       "srvEdge01_Lm4Qw9Zt2Xa"},
                      dokploy_at(dokploy));
  REQUIRE(edge.code == 0);
  CHECK(added_keys(edge.json()) == std::vector<std::string>{"3308/tcp", "4318/tcp", "8125/udp"});
}

TEST_CASE("a service Dokploy fails to describe keeps its entry", "[sync]") {
  TempDir dir;
  const std::string reg = (dir / "port_registry.json").string();
  {
    FakeDokploy dokploy;
    REQUIRE(portman({"sync", "--registry", reg}, dokploy_at(dokploy)).code == 0);
  }
  const std::string saved = read_file(reg);
  FakeDokploy failing({"--fail", "pgShopDb_E5vN2kQx8Lmk"});
  auto r = portman({"sync", "--registry", reg}, dokploy_at(failing));
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("nothing to change") != std::string::npos);
  // project.all (v3) names only the project; the details that failed held the name.
  CHECK(r.out.find("note: storefront/postgres pgShopDb_E5vN2kQx8Lmk: Dokploy did not give its "
                   "ports") != std::string::npos);
  CHECK(read_file(reg) == saved);
}

TEST_CASE("sync --nginx -o writes what sync --nginx prints", "[sync]") {
  FakeDokploy dokploy;
  TempDir dir;
  const fs::path out = dir / "portman.conf";
  auto printed = portman({"sync", "--nginx"}, dokploy_at(dokploy));
  REQUIRE(printed.code == 0);
  CHECK(printed.out.find("server_name shop.example.com;") != std::string::npos);
  auto written = portman({"sync", "--nginx", "-o", out.string()}, dokploy_at(dokploy));
  REQUIRE(written.code == 0);
  CHECK(read_file(out) == printed.out);
  CHECK((fs::status(out).permissions() & fs::perms::all) == static_cast<fs::perms>(0644));
  // Only the file: no temp file left beside it.
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("sync against a Dokploy that refuses the key fails in one line", "[sync]") {
  FakeDokploy dokploy({"--mode", "401"});
  TempDir dir;
  const std::string reg = (dir / "port_registry.json").string();
  auto r = portman({"sync", "--registry", reg}, dokploy_at(dokploy));
  CHECK(r.code == 1);
  CHECK(one_line(r.err));
  CHECK_FALSE(fs::exists(reg));
}
