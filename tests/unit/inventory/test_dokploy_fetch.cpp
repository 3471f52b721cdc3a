// The client against the fixtures: all three layouts give the fixtures README's oracle, and a
// service whose details fail is marked without failing the others.
#include <catch2/catch.hpp>

#include <set>

#include "inventory/dokploy_client.hpp"
#include "inventory/dokploy_parse.hpp"
#include "unit/inventory/fixture_transport.hpp"

using namespace portman;
using namespace portman::dokploy;
using portman::test::FixtureDokploy;

namespace {

const std::optional<std::string> kHost;
const std::optional<std::string> kEdge = "srvEdge01_Lm4Qw9Zt2Xa";

Inventory fetch(FixtureDokploy& fake) {
  auto inv = fetch_inventory(test::test_options(), fake.transport());
  if (!inv) FAIL(inv.error().message);
  return std::move(inv).value();
}

// "8080/tcp 127.0.0.1 shop-web 3000 ingress" for each port on the server, sorted.
std::multiset<std::string> ports_on(const Inventory& inv, const std::optional<std::string>& srv) {
  std::multiset<std::string> out;
  for (const Service* s : inv.on_server(srv))
    for (const PublishedPort& p : s->ports)
      out.insert(std::to_string(p.published) + "/" + std::string(to_string(p.protocol)) + " " +
                 (p.host_ip.empty() ? "*" : p.host_ip) + " " + s->name +
                 (p.compose_service.empty() ? "" : "/" + p.compose_service) + " " +
                 std::to_string(p.target) + " " + p.publish_mode);
  return out;
}

const Service& named(const Inventory& inv, const std::string& name) {
  for (const Service& s : inv.services)
    if (s.name == name) return s;
  FAIL("no service " << name);
  throw 0;
}

}  // namespace

TEST_CASE("every layout of project.all gives the fixtures' ports on each server", "[dokploy]") {
  for (std::string layout : {"v1", "v2", "v3"}) {
    INFO("layout " << layout);
    FixtureDokploy fake;
    fake.layout = layout;
    Inventory inv = fetch(fake);
    CHECK(inv.layout == layout[1] - '0');
    CHECK(inv.services.size() == 10);
    for (const Service& s : inv.services) {
      INFO(s.name);
      CHECK(s.error.empty());
      CHECK(!s.name.empty());
      CHECK(!s.project.empty());
    }
    CHECK(ports_on(inv, kHost) == std::multiset<std::string>{
                                      "8080/tcp * shop-web 3000 ingress",
                                      "8080/tcp * shop-web-staging 3000 ingress",
                                      "5433/tcp * shop-db 5432 host",
                                      "3307/tcp * events-db 3306 host",
                                      "27018/tcp * raw-events 27017 host",
                                      "3001/tcp * observability/grafana 3000 host",
                                      "9091/tcp 127.0.0.1 observability/prometheus 9090 host",
                                      "9125/udp * observability/statsd-exporter 9125 host",
                                      "9102/tcp * observability/statsd-exporter 9102 host",
                                  });
    CHECK(ports_on(inv, kEdge) == std::multiset<std::string>{
                                      "8125/udp * metrics-collector 8125 host",
                                      "4318/tcp * metrics-collector 4318 host",
                                      "3308/tcp * wiki-db 3306 host",
                                  });
    CHECK(named(inv, "shop-cache").ports.empty());
    CHECK(named(inv, "legacy-pg").ports.empty());
    CHECK(inv.warnings.empty());
  }
}

TEST_CASE("names, environments, servers and domains come through in every layout", "[dokploy]") {
  for (std::string layout : {"v1", "v2", "v3"}) {
    INFO("layout " << layout);
    FixtureDokploy fake;
    fake.layout = layout;
    Inventory inv = fetch(fake);
    const Service& staging = named(inv, "shop-web-staging");
    CHECK(staging.project == "storefront");
    CHECK(staging.kind == ServiceKind::application);
    CHECK(staging.status == "error");
    CHECK(staging.server_id == std::nullopt);
    // The fixtures' application.one has the current shape, with environments, in every layout.
    CHECK(display_name(staging) == "storefront/shop-web-staging@staging");
    const Service& wiki = named(inv, "wiki-db");
    CHECK(wiki.kind == ServiceKind::mariadb);
    CHECK(wiki.server_id == kEdge);
    CHECK(wiki.project == "internal-tools");
    CHECK(wiki.environment == "production");
    CHECK(wiki.environment_is_default);
    CHECK(!wiki.app_name.empty());

    const Service& web = named(inv, "shop-web");
    REQUIRE(web.domains.size() == 1);
    CHECK(web.domains[0].host == "shop.example.com");
    CHECK(web.domains[0].https);
    CHECK(web.domains[0].port == std::optional<std::uint16_t>(3000));
    const Service& obs = named(inv, "observability");
    REQUIRE(obs.domains.size() == 2);
    CHECK(obs.domains[1].host == "metrics.example.com");
    CHECK(obs.domains[1].path == "/prometheus");
    CHECK(obs.domains[1].compose_service == "prometheus");
    CHECK(!obs.domains[1].https);
  }
}

TEST_CASE("layout 3 asks one .one per service, layouts 1 and 2 only for applications",
          "[dokploy]") {
  FixtureDokploy v3;
  fetch(v3);
  CHECK(v3.asked.size() == 11);
  CHECK(v3.asked.front() == "project.all");
  CHECK(std::count(v3.asked.begin(), v3.asked.end(),
                   "postgres.one?postgresId=pgShopDb_E5vN2kQx8Lmk") == 1);
  CHECK(v3.max_batch == 4);  // the default `parallel`
  FixtureDokploy v2;
  v2.layout = "v2";
  fetch(v2);
  CHECK(v2.asked.size() == 4);  // project.all + the three applications
}

TEST_CASE("a service whose details fail is marked and the others are kept", "[dokploy]") {
  FixtureDokploy fake;
  fake.overrides.emplace("application.one?applicationId=appShopWeb_7Hq2LxN0aK",
                         test::json_response(R"({"message":"Internal server error",)"
                                             R"("code":"INTERNAL_SERVER_ERROR"})",
                                             500));
  fake.overrides.emplace("mysql.one?mysqlId=myEventsDb_Ga8sK3rV0k",
                         make_error(ErrorKind::io, "GET x: no answer within 5000 ms"));
  Inventory inv = fetch(fake);
  int failed = 0;
  for (const Service& s : inv.services) {
    if (s.error.empty()) continue;
    ++failed;
    CHECK(s.ports.empty());
  }
  CHECK(failed == 2);
  // The v3 row gives the application's name even though its details failed.
  CHECK(named(inv, "shop-web").error.find("HTTP 500 INTERNAL_SERVER_ERROR") != std::string::npos);
  CHECK(named(inv, "shop-web-staging").ports.size() == 1);
}

TEST_CASE("every service's details failing fails the fetch", "[dokploy]") {
  FixtureDokploy fake;
  fake.layout = "v3";
  auto inv = fetch_inventory(test::test_options(), [&](std::span<const HttpRequest> rs, int p) {
    if (rs.size() == 1 && rs[0].url.find("project.all") != std::string::npos)
      return fake.transport()(rs, p);
    std::vector<Result<HttpResponse>> out(
        rs.size(), test::json_response(R"({"message":"Unauthorized"})", 401));
    return out;
  });
  REQUIRE(!inv);
  CHECK(inv.error().message.find("every service") != std::string::npos);
  CHECK(inv.error().message.find("refused the API key") != std::string::npos);
}

TEST_CASE("project.all failing fails the fetch: never zero services", "[dokploy]") {
  FixtureDokploy fake;
  SECTION("wrong key") {
    auto inv = fetch_inventory(test::test_options("wrong"), fake.transport());
    REQUIRE(!inv);
    CHECK(inv.error().message.find("Dokploy refused the API key (HTTP 401 Unauthorized") !=
          std::string::npos);
    CHECK(inv.error().message.find("wrong") == std::string::npos);  // the key is never shown
  }
  SECTION("cut short") {
    fake.overrides.emplace("project.all", test::json_response(test::slurp(test::dokploy_fixtures() /
                                                                          "malformed.txt")));
    auto inv = fetch_inventory(test::test_options(), fake.transport());
    REQUIRE(!inv);
    CHECK(inv.error().message.find("ends early, after 1400 bytes") != std::string::npos);
    CHECK(fake.asked.size() == 1);
  }
  SECTION("transport error") {
    fake.overrides.emplace("project.all", make_error(ErrorKind::io, "GET u: Connection refused"));
    auto inv = fetch_inventory(test::test_options(), fake.transport());
    REQUIRE(!inv);
    CHECK(inv.error().message == "Dokploy: GET u: Connection refused");
  }
  SECTION("an object instead of the list") {
    fake.overrides.emplace("project.all", test::json_response(R"({"ok":true})"));
    auto inv = fetch_inventory(test::test_options(), fake.transport());
    REQUIRE(!inv);
    CHECK(inv.error().message.find("not a list of projects") != std::string::npos);
  }
}

TEST_CASE("a git compose is read from compose.getConvertedCompose", "[dokploy]") {
  FixtureDokploy fake;
  auto one = nlohmann::json::parse(
      test::slurp(test::dokploy_fixtures() / "compose.one" / "cmpObserv_Ut4hL8pZq2N.json"));
  one["sourceType"] = "github";
  one["composeFile"] = "";
  one["composeType"] = "stack";
  one["env"] = "GRAFANA_PORT=3005\n";
  fake.overrides.emplace("compose.one?composeId=cmpObserv_Ut4hL8pZq2N",
                         test::json_response(one.dump()));
  nlohmann::json converted =
      "services:\n  grafana:\n    ports:\n      - \"${GRAFANA_PORT}:3000\"\n      - \"4000\"\n";
  fake.overrides.emplace("compose.getConvertedCompose?composeId=cmpObserv_Ut4hL8pZq2N",
                         test::json_response(converted.dump()));
  Inventory inv = fetch(fake);
  const Service& obs = named(inv, "observability");
  CHECK(obs.error.empty());
  REQUIRE(obs.ports.size() == 1);
  CHECK(obs.ports[0].published == 3005);
  CHECK(obs.ports[0].publish_mode == "ingress");  // a stack publishes through Swarm
  REQUIRE(inv.warnings.size() == 1);
  CHECK(inv.warnings[0].find("analytics/observability: service grafana ports[1] '4000'") == 0);
}

TEST_CASE("a compose file that is not YAML marks its service", "[dokploy]") {
  FixtureDokploy fake;
  auto one = nlohmann::json::parse(
      test::slurp(test::dokploy_fixtures() / "compose.one" / "cmpObserv_Ut4hL8pZq2N.json"));
  one["composeFile"] = "services: [\n";
  fake.overrides.emplace("compose.one?composeId=cmpObserv_Ut4hL8pZq2N",
                         test::json_response(one.dump()));
  Inventory inv = fetch(fake);
  CHECK(named(inv, "observability").error.find("the compose file") != std::string::npos);
  CHECK(named(inv, "observability").ports.empty());
}

TEST_CASE("endpointSpecSwarm replaces an application's ports and a database's", "[dokploy]") {
  FixtureDokploy fake;
  auto app = nlohmann::json::parse(
      test::slurp(test::dokploy_fixtures() / "application.one" / "appShopWeb_7Hq2LxN0aK.json"));
  app["endpointSpecSwarm"] = {{"Mode", "vip"},
                              {"Ports",
                               {{{"TargetPort", 3000}, {"PublishedPort", 8090}},
                                {{"Protocol", "udp"},
                                 {"TargetPort", 53},
                                 {"PublishedPort", 5353},
                                 {"PublishMode", "ingress"}}}}};
  fake.overrides.emplace("application.one?applicationId=appShopWeb_7Hq2LxN0aK",
                         test::json_response(app.dump()));
  auto db = nlohmann::json::parse(
      test::slurp(test::dokploy_fixtures() / "postgres.one" / "pgShopDb_E5vN2kQx8Lmk.json"));
  db["endpointSpecSwarm"] = {{"Ports", nlohmann::json::array()}};
  fake.overrides.emplace("postgres.one?postgresId=pgShopDb_E5vN2kQx8Lmk",
                         test::json_response(db.dump()));
  Inventory inv = fetch(fake);
  auto ports = ports_on(inv, kHost);
  CHECK(ports.count("8090/tcp * shop-web 3000 host") == 1);
  CHECK(ports.count("5353/udp * shop-web 53 ingress") == 1);
  CHECK(ports.count("8080/tcp * shop-web 3000 ingress") == 0);
  CHECK(named(inv, "shop-db").ports.empty());
}

TEST_CASE("project.all: layouts told apart by structure, lenient about the rest", "[dokploy]") {
  auto parse = [](const char* text) {
    auto r = parse_project_all(nlohmann::json::parse(text));
    if (!r) FAIL(r.error().message);
    return std::move(r).value();
  };
  CHECK(parse("[]").services.empty());
  auto empty_envs = parse(R"([{"projectId":"p","name":"n","environments":[]}])");
  CHECK(empty_envs.layout == 3);
  CHECK(empty_envs.services.empty());
  auto member = parse(R"([{"projectId":"p","name":"n","environments":[{"name":"production",
      "postgres":[{"postgresId":"x","name":"db","applicationStatus":"done"}],"unknown":[1]}]}])");
  REQUIRE(member.services.size() == 1);
  CHECK(member.layout == 3);
  CHECK(member.services[0].name == "db");
  CHECK(parse(R"([{"projectId":"p","applications":[]}])").layout == 1);
  CHECK(parse(R"([{"projectId":"p","environments":[{"redis":[{"redisId":"r","appName":"a"}]}]}])")
            .layout == 2);

  for (const char* bad : {R"([1])", R"([{"name":"x"}])",
                          R"([{"projectId":"p","environments":[{"redis":[{"name":"r"}]}]}])",
                          R"([{"projectId":"p","environments":[{"redis":{}}]}])",
                          R"([{"projectId":"p","environments":{}}])"}) {
    INFO(bad);
    auto r = parse_project_all(nlohmann::json::parse(bad));
    REQUIRE(!r);
    CHECK(r.error().message.find("project.all: ") == 0);
  }
}

TEST_CASE("a .one answer for another id is refused", "[dokploy]") {
  Service s;
  s.kind = ServiceKind::redis;
  s.id = "mine";
  std::vector<std::string> warnings;
  auto r = apply_details(s, nlohmann::json::parse(R"({"redisId":"other","externalPort":6380})"),
                         warnings);
  REQUIRE(!r);
  CHECK(r.error().message == "redis.one: asked for mine, got other");
  CHECK(apply_details(s, nlohmann::json::parse(R"({"redisId":"mine","externalPort":6380})"),
                      warnings));
  REQUIRE(s.ports.size() == 1);
  CHECK(s.ports[0].target == 6379);
}

TEST_CASE("libsql publishes up to three ports", "[dokploy]") {
  Service s;
  s.kind = ServiceKind::libsql;
  s.id = "l";
  std::vector<std::string> warnings;
  REQUIRE(apply_details(s, nlohmann::json::parse(R"({"libsqlId":"l","externalPort":18080,
                           "externalGRPCPort":15001,"externalAdminPort":null})"),
                        warnings));
  REQUIRE(s.ports.size() == 2);
  CHECK(s.ports[0].target == 8080);
  CHECK(s.ports[1].published == 15001);
  CHECK(s.ports[1].target == 5001);
}
