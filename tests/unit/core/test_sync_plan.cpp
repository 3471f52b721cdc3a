// The sync planner against the fixtures' oracle (../shared/fixtures/dokploy/README.md): what it
// adds, follows, marks inactive and reports, and that a second plan after applying is empty.
#include <algorithm>

#include "libportman/sync_plan.hpp"
#include "unit/dokploy_inventory.hpp"
#include "unit/support.hpp"

namespace portman::test {
namespace {

using sync::Plan;

const std::string kNow = "2026-03-04T10:00:00";

Registry registry_of(const std::string& text) {
  auto r = Registry::parse(text, "test");
  REQUIRE(r.ok());
  return std::move(*r);
}

const sync::Addition* addition(const Plan& plan, PortKey key) {
  for (const auto& a : plan.additions)
    if (a.key == key) return &a;
  return nullptr;
}

PortKey tcp(std::uint16_t port) {
  return {port, Protocol::tcp};
}
PortKey udp(std::uint16_t port) {
  return {port, Protocol::udp};
}

// The plan applied, written and read back: what the next `portman sync` would see.
Registry applied(const Registry& before, const Plan& plan) {
  Registry r = before;
  sync::apply(plan, r, kNow);
  return registry_of(r.serialize_next(std::chrono::system_clock::now()));
}

struct Expected {
  PortKey key;
  std::string service, type, environment, url, bind, kind, id;
  std::uint16_t target;
};

}  // namespace

TEST_CASE("sync on the Dokploy host adds every fixture port with its oracle fields", "[sync]") {
  const Config config = default_config();
  Plan plan = sync::plan_sync(Registry(), fixture_inventory(), config, std::nullopt);

  const std::vector<Expected> expected = {
      {tcp(3001), "analytics/observability/grafana", "web", "production",
       "https://grafana.example.com", "", "compose", "cmpObserv_Ut4hL8pZq2N", 3000},
      {tcp(3307), "analytics/events-db", "database", "production", "", "", "mysql",
       "myEventsDb_Ga8sK3rV0k", 3306},
      {tcp(5433), "storefront/shop-db", "database", "production", "", "", "postgres",
       "pgShopDb_E5vN2kQx8Lmk", 5432},
      {tcp(8080), "storefront/shop-web", "api", "production", "https://shop.example.com", "",
       "application", "appShopWeb_7Hq2LxN0aK", 3000},
      {tcp(9091), "analytics/observability/prometheus", "monitoring", "production",
       "http://metrics.example.com/prometheus", "127.0.0.1", "compose", "cmpObserv_Ut4hL8pZq2N",
       9090},
      {tcp(9102), "analytics/observability/statsd-exporter", "dynamic", "production", "", "",
       "compose", "cmpObserv_Ut4hL8pZq2N", 9102},
      {udp(9125), "analytics/observability/statsd-exporter", "dynamic", "production", "", "",
       "compose", "cmpObserv_Ut4hL8pZq2N", 9125},
      {tcp(27018), "analytics/raw-events", "database", "production", "", "", "mongo",
       "mgRawEvents_Zb2fQ7nWk", 27017},
  };
  REQUIRE(plan.additions.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& want = expected[i];
    const auto& got = plan.additions[i];
    INFO(registry_key(want.key) + " " + want.service);
    CHECK(got.key == want.key);
    CHECK(got.entry.service == want.service);
    CHECK(got.entry.service_type == want.type);
    CHECK(got.entry.environment == want.environment);
    CHECK(got.entry.owner == "dokploy");
    CHECK(got.entry.url == want.url);
    CHECK(got.entry.bind == want.bind);
    const Json& link = got.entry.extra["dokploy"];
    CHECK(link["kind"] == want.kind);
    CHECK(link["id"] == want.id);
    CHECK(link["target_port"] == want.target);
    CHECK(link["environment"] == "production");
  }
  // shop-web is "done", so active; the compose service too.
  CHECK(addition(plan, tcp(8080))->entry.status == "active");
  // Nothing from edge-01, nothing for the services that publish nothing.
  for (auto key : {udp(8125), tcp(4318), tcp(3308)}) CHECK_FALSE(addition(plan, key));
  CHECK(plan.updates.empty());
  CHECK(plan.deactivations.empty());
  CHECK(plan.conflicts.empty());

  // 8080 is published by shop-web and shop-web-staging: the older one gets it, reported.
  REQUIRE(plan.collisions.size() == 1);
  CHECK(plan.collisions[0].key == tcp(8080));
  CHECK(plan.collisions[0].winner == "storefront/shop-web");
  CHECK(plan.collisions[0].others ==
        std::vector<std::string>{"storefront/shop-web-staging@staging"});
  // 8080 is in the default config's reserved list: said, not hidden.
  CHECK(std::any_of(plan.notes.begin(), plan.notes.end(), [](const std::string& n) {
    return n.find("8080/tcp is in the config's `reserved` list") != std::string::npos;
  }));
}

TEST_CASE("sync on edge-01 adds only that server's ports", "[sync]") {
  Plan plan =
      sync::plan_sync(Registry(), fixture_inventory(), default_config(), std::string(kEdge01));
  REQUIRE(plan.additions.size() == 3);
  CHECK(plan.additions[0].key == tcp(3308));
  CHECK(plan.additions[0].entry.service == "internal-tools/wiki-db");
  CHECK(plan.additions[0].entry.service_type == "database");
  CHECK(plan.additions[1].key == tcp(4318));
  CHECK(plan.additions[1].entry.url == "https://otel.example.com/v1");
  CHECK(plan.additions[2].key == udp(8125));
  CHECK(plan.additions[2].entry.url.empty());  // the domain routes to 4318, not to 8125
  CHECK(plan.collisions.empty());
}

TEST_CASE("a second plan after applying is empty and the file keeps the links", "[sync]") {
  const Config config = default_config();
  const auto inv = fixture_inventory();
  Registry start = registry_of(R"({"allocations": {"22": {"service": "ssh", "owner": "ops"}}})");
  Plan first = sync::plan_sync(start, inv, config, std::nullopt);
  REQUIRE(first.additions.size() == 8);
  Registry after = applied(start, first);

  const Entry* db = after.find(tcp(5433));
  REQUIRE(db);
  CHECK(db->service == "storefront/shop-db");
  CHECK(db->owner == "dokploy");
  CHECK(db->allocated_at == kNow);
  CHECK(db->json["protocol"] == "tcp");
  CHECK(db->json["dokploy"]["project"] == "storefront");
  CHECK(db->json["dokploy"]["service"] == "shop-db");
  CHECK(after.find(tcp(22))->service == "ssh");

  Plan second = sync::plan_sync(after, inv, config, std::nullopt);
  CHECK(second.empty());
  CHECK(sync::render_text(second).find("nothing to change") != std::string::npos);
  // The collision is still reported; it is no change.
  CHECK(second.collisions.size() == 1);
  // Notes go with changes: nothing to change, nothing to note.
  CHECK(second.notes.empty());
}

TEST_CASE("a vanished service is marked inactive never removed and comes back active", "[sync]") {
  const Config config = default_config();
  auto inv = fixture_inventory();
  Registry r = applied(Registry(), sync::plan_sync(Registry(), inv, config, std::nullopt));

  auto gone = inv;
  gone.services.erase(std::remove_if(gone.services.begin(), gone.services.end(),
                                     [](const auto& s) { return s.name == "shop-db"; }),
                      gone.services.end());
  Plan plan = sync::plan_sync(r, gone, config, std::nullopt);
  REQUIRE(plan.deactivations.size() == 1);
  CHECK(plan.deactivations[0].key == tcp(5433));
  CHECK(plan.deactivations[0].reason == "its Dokploy service is gone");
  CHECK(plan.additions.empty());
  CHECK(plan.updates.empty());
  CHECK(sync::render_text(plan).find("- 5433/tcp storefront/shop-db → inactive") !=
        std::string::npos);

  r = applied(r, plan);
  const Entry* e = r.find(tcp(5433));
  REQUIRE(e);  // never deleted
  CHECK(e->status == "inactive");
  CHECK(e->notes.find("gone") != std::string::npos);
  CHECK(sync::plan_sync(r, gone, config, std::nullopt).empty());

  // Back in Dokploy: the same entry becomes active again.
  Plan back = sync::plan_sync(r, inv, config, std::nullopt);
  REQUIRE(back.updates.size() == 1);
  CHECK(back.updates[0].key == tcp(5433));
  REQUIRE(back.updates[0].changes.size() == 1);
  CHECK(back.updates[0].changes[0].field == "status");
  CHECK(back.updates[0].changes[0].to == "active");
  r = applied(r, back);
  CHECK(r.find(tcp(5433))->status == "active");
  CHECK(sync::plan_sync(r, inv, config, std::nullopt).empty());
}

TEST_CASE("a port no longer published and a service moved to another server go inactive",
          "[sync]") {
  const Config config = default_config();
  auto inv = fixture_inventory();
  Registry r = applied(Registry(), sync::plan_sync(Registry(), inv, config, std::nullopt));
  auto changed = inv;
  auto* observ = find_service(changed, "observability");
  observ->ports.erase(observ->ports.begin() + 2);  // 9125/udp
  find_service(changed, "raw-events")->server_id = kEdge01;
  Plan plan = sync::plan_sync(r, changed, config, std::nullopt);
  REQUIRE(plan.deactivations.size() == 2);
  CHECK(plan.deactivations[0].key == udp(9125));
  CHECK(plan.deactivations[0].reason == "Dokploy no longer publishes this port of the service");
  CHECK(plan.deactivations[1].key == tcp(27018));
  CHECK(plan.deactivations[1].reason ==
        std::string("its Dokploy service now runs on server ") + kEdge01);
}

TEST_CASE("a service whose details failed keeps its entries untouched", "[sync]") {
  const Config config = default_config();
  auto inv = fixture_inventory();
  Registry r = applied(Registry(), sync::plan_sync(Registry(), inv, config, std::nullopt));
  auto failed = inv;
  auto* db = find_service(failed, "shop-db");
  db->ports.clear();
  db->error = "HTTP 500 from postgres.one";
  Plan plan = sync::plan_sync(r, failed, config, std::nullopt);
  CHECK(plan.empty());
  CHECK(std::any_of(plan.notes.begin(), plan.notes.end(), [](const std::string& n) {
    return n.find("storefront/shop-db: Dokploy did not give its ports (HTTP 500") == 0;
  }));
}

TEST_CASE("a moved port takes its entry along and the old one goes to the archive", "[sync]") {
  const Config config = default_config();
  auto inv = fixture_inventory();
  Registry r = applied(Registry(), sync::plan_sync(Registry(), inv, config, std::nullopt));
  find_service(inv, "shop-db")->ports[0].published = 5434;
  Plan plan = sync::plan_sync(r, inv, config, std::nullopt);
  CHECK(plan.additions.empty());
  CHECK(plan.deactivations.empty());
  REQUIRE(plan.updates.size() == 1);
  CHECK(plan.updates[0].key == tcp(5434));
  REQUIRE(plan.updates[0].from);
  CHECK(*plan.updates[0].from == tcp(5433));
  CHECK(sync::render_text(plan).find("~ 5434/tcp storefront/shop-db: moved from 5433/tcp") !=
        std::string::npos);

  r = applied(r, plan);
  CHECK_FALSE(r.find(tcp(5433)));
  const Entry* e = r.find(tcp(5434));
  REQUIRE(e);
  CHECK(e->service == "storefront/shop-db");
  CHECK(e->json["dokploy"]["id"] == "pgShopDb_E5vN2kQx8Lmk");
  auto archive = r.archive();
  REQUIRE(archive.size() == 1);
  CHECK(archive[0].key == tcp(5433));
  CHECK(sync::plan_sync(r, inv, config, std::nullopt).empty());
}

TEST_CASE("a renamed service and a new domain update the linked entry", "[sync]") {
  const Config config = default_config();
  auto inv = fixture_inventory();
  Registry r = applied(Registry(), sync::plan_sync(Registry(), inv, config, std::nullopt));
  auto* web = find_service(inv, "shop-web");
  web->name = "shop-frontend";
  web->domains[0].host = "www.example.com";
  Plan plan = sync::plan_sync(r, inv, config, std::nullopt);
  REQUIRE(plan.updates.size() == 1);
  const auto& u = plan.updates[0];
  CHECK(u.key == tcp(8080));
  CHECK_FALSE(u.from);
  std::vector<std::string> fields;
  for (const auto& c : u.changes) fields.push_back(c.field);
  CHECK(fields == std::vector<std::string>{"service", "dokploy", "url"});
  const std::string text = sync::render_text(plan);
  CHECK(text.find("service 'storefront/shop-web' → 'storefront/shop-frontend'") !=
        std::string::npos);
  CHECK(text.find("dokploy.service 'shop-web' → 'shop-frontend'") != std::string::npos);
  CHECK(text.find("url 'https://shop.example.com' → 'https://www.example.com'") !=
        std::string::npos);
  r = applied(r, plan);
  CHECK(r.find(tcp(8080))->service == "storefront/shop-frontend");
  CHECK(r.find(tcp(8080))->updated_at == kNow);
  CHECK(sync::plan_sync(r, inv, config, std::nullopt).empty());
}

TEST_CASE("a name changed by hand stays while Dokploy's side is unchanged", "[sync]") {
  const Config config = default_config();
  auto inv = fixture_inventory();
  Registry r = applied(Registry(), sync::plan_sync(Registry(), inv, config, std::nullopt));
  r.update_fields(tcp(5433), Json{{"service", "shop database"}}, kNow);
  CHECK(sync::plan_sync(r, inv, config, std::nullopt).empty());
}

TEST_CASE("Dokploy environments map onto the configured ones with a note", "[sync]") {
  const Config config = default_config();  // production, staging, development
  using K = dokploy::ServiceKind;
  dokploy::Inventory inv;
  auto a = service(K::application, "appA", "a", "p", "main", "2025-01-01T00:00:00Z");
  a.ports = {published(10001, 80)};
  auto b = service(K::application, "appB", "b", "p", "preview", "2025-01-01T00:00:00Z");
  b.environment_is_default = false;
  b.ports = {published(10002, 80)};
  auto c = service(K::application, "appC", "c", "p", "development", "2025-01-01T00:00:00Z");
  c.environment_is_default = false;
  c.ports = {published(10003, 80)};
  a.environment_is_default = true;
  inv.services = {a, b, c};
  Plan plan = sync::plan_sync(Registry(), inv, config, std::nullopt);
  REQUIRE(plan.additions.size() == 3);
  // Dokploy's default environment, not configured: production.
  CHECK(plan.additions[0].entry.service == "p/a");
  CHECK(plan.additions[0].entry.environment == "production");
  CHECK(plan.additions[0].entry.extra["dokploy"]["environment"] == "main");
  // Another, not configured: staging.
  CHECK(plan.additions[1].entry.service == "p/b@preview");
  CHECK(plan.additions[1].entry.environment == "staging");
  CHECK(plan.additions[1].entry.extra["dokploy"]["environment"] == "preview");
  // A configured one is kept.
  CHECK(plan.additions[2].entry.environment == "development");
  REQUIRE(plan.notes.size() == 2);
  CHECK(plan.notes[0] ==
        "p/a: Dokploy environment 'main' is not a configured one; registered as 'production' "
        "(dokploy.environment keeps 'main')");
  CHECK(plan.notes[1].find("p/b@preview: Dokploy environment 'preview'") == 0);
  // Port 10001-10003 are in the dynamic range.
  CHECK(plan.additions[0].entry.service_type == "dynamic");
}

TEST_CASE("Dokploy's platform ports are never added and are reported", "[sync]") {
  using K = dokploy::ServiceKind;
  dokploy::Inventory inv;
  auto s = service(K::compose, "cmpX", "edge", "p", "production", "2025-01-01T00:00:00Z");
  s.ports = {published(3000, 3000, Protocol::tcp, "host", "ui"),
             published(443, 443, Protocol::udp, "host", "quic"),
             published(10005, 80, Protocol::tcp, "host", "web")};
  inv.services = {s};
  Plan plan = sync::plan_sync(Registry(), inv, default_config(), std::nullopt);
  REQUIRE(plan.additions.size() == 1);
  CHECK(plan.additions[0].key == tcp(10005));
  REQUIRE(plan.conflicts.size() == 2);
  CHECK(plan.conflicts[0].key == udp(443));
  CHECK(plan.conflicts[0].holder == "Traefik HTTP/3");
  CHECK(plan.conflicts[1].key == tcp(3000));
  CHECK(plan.conflicts[1].holder == "Dokploy UI");
}

TEST_CASE("of two colliding services the older one gets the entry whatever the order", "[sync]") {
  using K = dokploy::ServiceKind;
  auto young = service(K::postgres, "pgYoung", "young", "p", "production", "2025-05-01T00:00:00Z");
  young.ports = {published(5440, 5432)};
  auto old = service(K::mysql, "myOld", "old", "p", "production", "2024-05-01T00:00:00Z");
  old.ports = {published(5440, 3306)};
  for (int order = 0; order < 2; ++order) {
    dokploy::Inventory inv;
    inv.services = order ? std::vector{young, old} : std::vector{old, young};
    Plan plan = sync::plan_sync(Registry(), inv, default_config(), std::nullopt);
    REQUIRE(plan.additions.size() == 1);
    CHECK(plan.additions[0].entry.service == "p/old");
    REQUIRE(plan.collisions.size() == 1);
    CHECK(plan.collisions[0].text ==
          "5440/tcp collision: p/old (created 2024-05-01T00:00:00Z) gets the entry; p/young "
          "(created 2025-05-01T00:00:00Z) publishes it too");
  }
  // The younger one registered before (by an earlier sync): the entry goes to the older one.
  dokploy::Inventory only_young;
  only_young.services = {young};
  Registry r =
      applied(Registry(), sync::plan_sync(Registry(), only_young, default_config(), std::nullopt));
  dokploy::Inventory both;
  both.services = {young, old};
  Plan plan = sync::plan_sync(r, both, default_config(), std::nullopt);
  REQUIRE(plan.updates.size() == 1);
  CHECK(plan.updates[0].service == "p/old");
  r = applied(r, plan);
  CHECK(r.find(tcp(5440))->json["dokploy"]["id"] == "myOld");
  CHECK(sync::plan_sync(r, both, default_config(), std::nullopt).empty());
}

TEST_CASE("a port registered to a non-Dokploy service is a conflict and is not overwritten",
          "[sync]") {
  const Config config = default_config();
  Registry r = registry_of(R"({"allocations": {"5433": {"service": "local-postgres",
      "owner": "ops", "status": "active", "environment": "production"}}})");
  Plan plan = sync::plan_sync(r, fixture_inventory(), config, std::nullopt);
  CHECK_FALSE(addition(plan, tcp(5433)));
  REQUIRE(plan.conflicts.size() == 1);
  CHECK(plan.conflicts[0].key == tcp(5433));
  CHECK(plan.conflicts[0].holder == "local-postgres");
  CHECK(plan.conflicts[0].text ==
        "5433/tcp conflict: Dokploy's storefront/shop-db publishes it, but the registry gives "
        "it to local-postgres (owner ops); not overwritten");
  Registry after = applied(r, plan);
  CHECK(after.find(tcp(5433))->service == "local-postgres");
  CHECK(after.find(tcp(5433))->json.count("dokploy") == 0);
  CHECK(sync::plan_sync(after, fixture_inventory(), config, std::nullopt).empty());
}

TEST_CASE("an entry owned by dokploy without a link is adopted", "[sync]") {
  Registry r = registry_of(R"({"allocations": {"5433": {"service": "shop-db",
      "owner": "dokploy", "status": "active", "environment": "production",
      "notes": "from the old sync"}}})");
  Plan plan = sync::plan_sync(r, fixture_inventory(), default_config(), std::nullopt);
  CHECK_FALSE(addition(plan, tcp(5433)));
  REQUIRE(plan.updates.size() == 1);
  CHECK(plan.updates[0].key == tcp(5433));
  Registry after = applied(r, plan);
  const Entry* e = after.find(tcp(5433));
  CHECK(e->service == "storefront/shop-db");
  CHECK(e->notes == "from the old sync");
  CHECK(e->json["dokploy"]["id"] == "pgShopDb_E5vN2kQx8Lmk");
}

TEST_CASE("the plan renders as a diff and as JSON", "[sync]") {
  Plan plan = sync::plan_sync(Registry(), fixture_inventory(), default_config(), std::nullopt);
  const std::string text = sync::render_text(plan);
  CHECK(text.find("+ 5433/tcp storefront/shop-db (database, production) active\n") !=
        std::string::npos);
  CHECK(text.find("+ 9091/tcp analytics/observability/prometheus (monitoring, production) active "
                  "http://metrics.example.com/prometheus bind 127.0.0.1\n") != std::string::npos);
  CHECK(text.find("! 8080/tcp collision: storefront/shop-web (created "
                  "2025-02-10T10:20:03.004Z) gets the entry; "
                  "storefront/shop-web-staging@staging") != std::string::npos);
  CHECK(text.find("note: 8080/tcp is in the config's `reserved` list") != std::string::npos);
  CHECK(text.find("8 to add, 0 to change, 0 to mark inactive\n") != std::string::npos);

  Json j = sync::render_json(plan);
  REQUIRE(j["add"].size() == 8);
  CHECK(j["add"][2]["port"] == 5433);
  CHECK(j["add"][2]["protocol"] == "tcp");
  CHECK(j["add"][2]["entry"]["service"] == "storefront/shop-db");
  CHECK(j["add"][2]["entry"]["dokploy"]["kind"] == "postgres");
  CHECK(j["collisions"][0]["winner"] == "storefront/shop-web");
  CHECK(j["empty"] == false);
  CHECK(j["change"].empty());
  CHECK(j["inactive"].empty());
}

}  // namespace portman::test
