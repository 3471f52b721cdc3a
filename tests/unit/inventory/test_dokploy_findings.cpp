// What Dokploy adds to the comparison: unregistered, mismatched and colliding host ports, for the
// configured server only; and the agent's series.
#include <catch2/catch.hpp>

#include <set>

#include "inventory/dokploy_findings.hpp"
#include "inventory/dokploy_metrics.hpp"
#include "inventory/dokploy_source.hpp"
#include "unit/inventory/fixture_transport.hpp"

using namespace portman;
using namespace portman::dokploy;
using portman::test::registry;

namespace {

const std::optional<std::string> kHost;
const std::optional<std::string> kEdge = "srvEdge01_Lm4Qw9Zt2Xa";

Inventory fixtures(const std::string& layout = "v3") {
  test::FixtureDokploy fake;
  fake.layout = layout;
  auto inv = fetch_inventory(test::test_options(), fake.transport());
  if (!inv) FAIL(inv.error().message);
  return std::move(inv).value();
}

std::vector<std::string> summary(const std::vector<Finding>& fs) {
  std::vector<std::string> out;
  for (const Finding& f : fs)
    out.push_back(std::string(to_string(f.kind)) + " " + registry_key(f.key) +
                  (f.service_name.empty() ? "" : " " + f.service_name));
  return out;
}

Service service(std::string name, std::vector<PublishedPort> ports, std::string id = {}) {
  Service s;
  s.name = std::move(name);
  s.id = id.empty() ? s.name + "-id" : std::move(id);
  s.project = "proj";
  s.environment = "production";
  s.ports = std::move(ports);
  return s;
}

PublishedPort port(std::uint16_t published, Protocol p = Protocol::tcp, std::string mode = "host") {
  PublishedPort out;
  out.published = published;
  out.target = published;
  out.protocol = p;
  out.publish_mode = std::move(mode);
  return out;
}

}  // namespace

TEST_CASE("fixtures with an empty registry: every host port unregistered, 8080 collides",
          "[dokploy][findings]") {
  for (std::string layout : {"v1", "v2", "v3"}) {
    INFO(layout);
    auto f = dokploy_findings(fixtures(layout), kHost, registry("{}"), Config{});
    CHECK(summary(f) == std::vector<std::string>{
                            "dokploy_unregistered 3001",
                            "dokploy_unregistered 3307",
                            "dokploy_unregistered 5433",
                            "dokploy_unregistered 8080",
                            "dokploy_collision 8080",
                            "dokploy_unregistered 9091",
                            "dokploy_unregistered 9102",
                            "dokploy_unregistered 9125/udp",
                            "dokploy_unregistered 27018",
                        });
    auto collision = f[4];
    CHECK_THAT(collision.detail,
               Catch::Contains("storefront/shop-web (application, 8080 -> 3000, "
                               "ingress) and storefront/shop-web-staging@staging"));
    CHECK_THAT(f[0].detail,
               Catch::StartsWith("Dokploy publishes 3001/tcp for analytics/observability/grafana"));
  }
}

TEST_CASE("the edge server sees only its own ports", "[dokploy][findings]") {
  auto f = dokploy_findings(fixtures(), kEdge, registry("{}"), Config{});
  CHECK(summary(f) == std::vector<std::string>{"dokploy_unregistered 3308",
                                               "dokploy_unregistered 4318",
                                               "dokploy_unregistered 8125/udp"});
  auto other = dokploy_findings(fixtures(), std::string("srvOther"), registry("{}"), Config{});
  CHECK(other.empty());
}

TEST_CASE("registered by name, by dokploy link, or given to another service",
          "[dokploy][findings]") {
  auto reg = registry(R"({
    "3001": {"service": "grafana"},
    "3307": {"service": "analytics/events-db"},
    "5433": {"service": "billing-db"},
    "8080": {"service": "shop", "dokploy": {"project": "storefront", "service": "shop-web",
             "kind": "application", "id": "appShopWeb_7Hq2LxN0aK"}},
    "9091": {"service": "prometheus", "dokploy": {"id": "someOtherId"}},
    "9102": {"service": "Observability"},
    "27018": {"service": "raw", "dokploy": {"project": "analytics", "service": "raw-events",
              "environment": "production", "kind": "mongo"}},
    "9125/udp": {"service": "statsd", "dokploy": {"project": "analytics",
                 "service": "observability/statsd-exporter"}}
  })");
  auto f = dokploy_findings(fixtures(), kHost, reg, Config{});
  CHECK(summary(f) == std::vector<std::string>{
                          "dokploy_mismatch 5433 billing-db",
                          "dokploy_collision 8080 shop",
                          "dokploy_mismatch 9091 prometheus",
                      });
  CHECK(f[0].detail ==
        "the registry gives 5433/tcp to 'billing-db', but Dokploy publishes it for "
        "storefront/shop-db (postgres, 5433 -> 5432, host)");
  CHECK_THAT(f[2].detail, Catch::Contains("(linked to Dokploy /, id someOtherId)"));
}

TEST_CASE("platform ports and ignored ports are not unregistered", "[dokploy][findings]") {
  Inventory inv;
  inv.services = {service("app", {port(3000), port(443, Protocol::udp), port(7000), port(7001)})};
  Config config;
  config.ignore.ports.push_back({7000, 7000});
  auto f = dokploy_findings(inv, kHost, registry("{}"), config);
  CHECK(summary(f) == std::vector<std::string>{"dokploy_unregistered 7001"});
}

TEST_CASE("collisions: tcp and udp do not collide, ingress and host do", "[dokploy][findings]") {
  Inventory inv;
  inv.services = {service("a", {port(5000), port(6000, Protocol::tcp, "ingress")}),
                  service("b", {port(5000, Protocol::udp), port(6000, Protocol::tcp, "host")})};
  auto f = dokploy_findings(inv, kHost, registry(R"({"5000": {"service": "a"},
      "5000/udp": {"service": "b"}, "6000": {"service": "a"}})"),
                            Config{});
  CHECK(summary(f) == std::vector<std::string>{"dokploy_collision 6000 a"});
  CHECK_THAT(f[0].detail, Catch::StartsWith("proj/a (application, 6000 -> 6000, ingress) and "
                                            "proj/b (application, 6000 -> 6000, host) both"));
}

TEST_CASE("collisions: distinct addresses do not meet, a service whose details failed is left out",
          "[dokploy][findings]") {
  auto local = port(5000);
  local.host_ip = "127.0.0.1";
  auto other = port(5000);
  other.host_ip = "10.0.0.1";
  Inventory inv;
  inv.services = {service("a", {local}), service("b", {other}), service("c", {port(5001)}),
                  service("d", {port(5001)})};
  inv.services[3].error = "GET ...: no answer";
  auto f = dokploy_findings(inv, kHost, registry(R"({"5000": {"service": "a"},
      "5001": {"service": "c"}})"),
                            Config{});
  CHECK(f.empty());
  inv.services[1].ports[0].host_ip = "0.0.0.0";
  CHECK(summary(dokploy_findings(
            inv, kHost, registry(R"({"5000": {"service": "a"}, "5001": {"service": "c"}})"),
            Config{})) == std::vector<std::string>{"dokploy_collision 5000 a"});
}

TEST_CASE("entry_matches: names, Docker names, compose services, links", "[dokploy][findings]") {
  Service s = service("shop-web", {port(8080)}, "app1");
  s.app_name = "storefront-shopweb-x1";
  s.environment = "staging";
  const PublishedPort& p = s.ports[0];
  auto entry = [](const char* json) { return registry(json).entries().front(); };
  CHECK(entry_matches(entry(R"({"1": {"service": "SHOP-WEB"}})"), s, p));
  CHECK(entry_matches(entry(R"({"1": {"service": "storefront-shopweb-x1"}})"), s, p));
  CHECK(entry_matches(entry(R"({"1": {"service": "proj/shop-web@staging"}})"), s, p));
  CHECK(!entry_matches(entry(R"({"1": {"service": "shop"}})"), s, p));
  CHECK(!entry_matches(entry(R"({"1": {}})"), s, p));
  CHECK(entry_matches(entry(R"({"1": {"service": "x", "dokploy": {"id": "app1"}}})"), s, p));
  CHECK(
      !entry_matches(entry(R"({"1": {"service": "shop-web", "dokploy": {"id": "app2"}}})"), s, p));
  CHECK(!entry_matches(entry(R"({"1": {"dokploy": {"id": "app1", "kind": "compose"}}})"), s, p));
  CHECK(!entry_matches(entry(R"({"1": {"dokploy": {"project": "proj", "service": "shop-web",
                                "environment": "production"}}})"),
                       s, p));
}

TEST_CASE("dokploy samples: up, last success and one series per port of this server",
          "[dokploy][metrics]") {
  InventoryState state;
  state.source = "dokploy";
  std::vector<Sample> none;
  write_samples(state, kHost, none);
  REQUIRE(none.size() == 2);
  CHECK(none[0].spec == &kUpMetric);
  CHECK(none[0].value == 0);
  CHECK(none[1].value == 0);

  // A failed fetch keeps the last good inventory: its ports are still reported.
  state.last_good = std::make_shared<Inventory>(fixtures());
  state.up = false;
  state.last_success = 1762084800;
  std::vector<Sample> out;
  write_samples(state, kHost, out);
  CHECK(out[0].value == 0);
  CHECK(out[1].value == 1762084800);
  std::set<std::string> series;
  for (std::size_t i = 2; i < out.size(); ++i) {
    CHECK(out[i].spec == &kPortInfoMetric);
    CHECK(out[i].labels.size() == kPortInfoMetric.labels.size());
    std::string joined;
    for (const auto& l : out[i].labels) joined += l + ",";
    CHECK(series.insert(joined).second);
  }
  CHECK(series == std::set<std::string>{
                      "8080,tcp,storefront,shop-web,application,ingress,",
                      "8080,tcp,storefront,shop-web-staging@staging,application,ingress,",
                      "5433,tcp,storefront,shop-db,postgres,host,",
                      "3307,tcp,analytics,events-db,mysql,host,",
                      "27018,tcp,analytics,raw-events,mongo,host,",
                      "3001,tcp,analytics,observability/grafana,compose,host,",
                      "9091,tcp,analytics,observability/prometheus,compose,host,",
                      "9125,udp,analytics,observability/statsd-exporter,compose,host,",
                      "9102,tcp,analytics,observability/statsd-exporter,compose,host,",
                  });
  std::vector<Sample> edge;
  write_samples(state, kEdge, edge);
  CHECK(edge.size() == 2 + 3);
}

TEST_CASE("dokploy samples never repeat a series", "[dokploy][metrics]") {
  Inventory inv;
  inv.services = {service("a", {port(5000), port(5000)})};
  InventoryState state;
  state.up = true;
  state.last_good = std::make_shared<Inventory>(inv);
  std::vector<Sample> out;
  write_samples(state, kHost, out);
  CHECK(out.size() == 3);
}

TEST_CASE("the row's findings and samples read dokploy.server_id", "[dokploy]") {
  const InventorySpec spec = inventory_spec();
  SourceSettings s("dokploy", spec.options);
  s.set("server_id", "srvEdge01_Lm4Qw9Zt2Xa", "portman.yml:5:14");
  std::vector<Finding> f;
  spec.findings(fixtures(), s, registry("{}"), LiveState{}, Config{}, f);
  CHECK(f.size() == 3);
  InventoryState state;
  state.last_good = std::make_shared<Inventory>(fixtures());
  std::vector<Sample> out;
  spec.samples(state, s, out);
  CHECK(out.size() == 5);
  CHECK(spec.metrics.size() == 3);
}
