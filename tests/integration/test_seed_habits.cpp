// What the old scripts' users type: their own values, their reserved_ranges, their JSON, their
// PORT_CONFLICT_ACTION, PORT/udp, and a missing registry that must not pass for an empty one.
#include <catch2/catch.hpp>

#include <filesystem>

#include "harness.hpp"

using itest::Listener;
using itest::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kRegistry = R"({
  "version": "1.0.0",
  "allocations": {
    "3000": {"service": "shop", "status": "active", "environment": "production",
             "service_type": "web"},
    "3001": {"service": "shop-qa", "status": "paused", "environment": "qa",
             "service_type": "web"},
    "4010": {"service": "storefront", "status": "active", "environment": "production",
             "service_type": "frontend"},
    "5353/udp": {"service": "mdns", "status": "active", "environment": "production"}
  },
  "reserved_ranges": {
    "3000-3099": "Web Applications",
    "4000-4099": "Frontends",
    "10000+": "Dynamic/Temporary Services"
  },
  "archive": []
}
)";

itest::RunOptions env_of(const std::string& name, const std::string& value) {
  itest::RunOptions o;
  o.env[name] = value;
  return o;
}

struct Fixture {
  TempDir dir;
  std::string reg = (dir / "reg.json").string();
  Fixture() { itest::write_file(reg, kRegistry); }
  itest::RunResult run(std::vector<std::string> args, itest::RunOptions options = {}) const {
    args.insert(args.end(), {"--registry", reg});
    return itest::portman(args, options);
  }
  std::string text() const { return itest::read_file(reg); }
};

}  // namespace

TEST_CASE("list filters take any value present in the registry, and name both lists otherwise") {
  Fixture f;
  auto qa = f.run({"list", "-e", "qa"});
  CHECK(qa.code == 0);
  CHECK(qa.out.find("shop-qa") != std::string::npos);
  CHECK(qa.out.find("storefront") == std::string::npos);
  auto paused = f.run({"list", "-s", "paused", "--json"});
  REQUIRE(paused.code == 0);
  REQUIRE(paused.json().size() == 1);
  CHECK(paused.json()[0]["port"] == 3001);

  auto frontends = f.run({"list", "-t", "frontend", "--json"});
  REQUIRE(frontends.code == 0);
  REQUIRE(frontends.json().size() == 1);
  CHECK(frontends.json()[0]["port"] == 4010);
  auto bad_type = f.run({"list", "-t", "frontends"});
  CHECK(bad_type.code == 2);
  CHECK(bad_type.err.find("also in the registry: frontend") != std::string::npos);

  auto bad = f.run({"list", "-e", "qaa"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("'qaa'") != std::string::npos);
  CHECK(bad.err.find("configured: production, staging, development") != std::string::npos);
  CHECK(bad.err.find("also in the registry: qa") != std::string::npos);
  CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
}

TEST_CASE("list -r groups by the file's reserved_ranges when it has them") {
  Fixture f;
  auto r = f.run({"list", "-r"});
  REQUIRE(r.code == 0);
  auto frontends = r.out.find("4000-4099  Frontends");
  REQUIRE(frontends != std::string::npos);
  CHECK(r.out.find("storefront", frontends) != std::string::npos);
  CHECK(r.out.find("10000+  Dynamic/Temporary Services") != std::string::npos);
  // 5353 is in no range of the file: Unassigned, although the config's database type holds it.
  auto unassigned = r.out.find("Unassigned");
  REQUIRE(unassigned != std::string::npos);
  CHECK(r.out.find("mdns", unassigned) != std::string::npos);
  CHECK(r.out.find("Database Services") == std::string::npos);

  SECTION("without them, the configured types") {
    json doc = json::parse(kRegistry);
    doc.erase("reserved_ranges");
    itest::write_file(f.reg, doc.dump(2));
    auto types = f.run({"list", "-r"});
    REQUIRE(types.code == 0);
    CHECK(types.out.find("5000-5999  Database Services") != std::string::npos);
    CHECK(types.out.find("Frontends") == std::string::npos);
  }
}

TEST_CASE("check --json keeps the old `open` key beside `listening`") {
  Fixture f;
  auto closed = f.run({"check", "3000", "--json"});
  CHECK(closed.code == 1);
  CHECK(closed.json()["open"] == false);
  CHECK(closed.json()["listening"] == false);
  CHECK(closed.json()["registered"] == true);
  CHECK(closed.json()["allocation"]["service"] == "shop");
  Listener l({"tcp:0.0.0.0:3000"});
  auto open = f.run({"check", "3000", "--json"});
  CHECK(open.json()["open"] == true);
  CHECK(open.json()["listening"] == true);
}

TEST_CASE("PORT/udp is accepted wherever a port is taken") {
  Fixture f;
  Listener l({"udp:0.0.0.0:5353"});
  auto check = f.run({"check", "5353/udp", "--json"});
  CHECK(check.code == 0);
  CHECK(check.json()["protocol"] == "udp");
  CHECK(check.json()["verdict"] == "ok");
  CHECK(f.run({"check", "5353/tcp", "--json"}).json()["protocol"] == "tcp");
  CHECK(f.run({"check", "5353/tcp", "--udp"}).code == 2);
  CHECK(f.run({"check", "5353/sctp"}).code == 2);

  auto update = f.run({"update", "5353/udp", "maintenance"});
  CHECK(update.code == 0);
  CHECK(json::parse(f.text())["allocations"]["5353/udp"]["status"] == "maintenance");

  auto alloc = f.run({"allocate", "syslog", "-p", "5514/udp"});
  CHECK(alloc.code == 0);
  CHECK(alloc.out == "5514\n");
  json doc = json::parse(f.text());
  REQUIRE(doc["allocations"].contains("5514/udp"));
  CHECK(doc["allocations"]["5514/udp"]["protocol"] == "udp");
  CHECK_FALSE(doc["allocations"].contains("5514"));
}

TEST_CASE("a bare port that exists only as UDP says so and how to ask") {
  Fixture f;
  Listener l({"udp:0.0.0.0:5353"});
  auto check = f.run({"check", "5353"});
  CHECK(check.code == 1);
  CHECK(check.out.find("Verdict: free") != std::string::npos);
  CHECK(check.out.find("5353/udp is registered and listening; ask with: portman check 5353/udp") !=
        std::string::npos);
  auto j = f.run({"check", "5353", "--json"});
  CHECK(j.json()["other_protocol"]["protocol"] == "udp");
  CHECK(j.json()["other_protocol"]["listening"] == true);
  // A TCP port with nothing on UDP either gets no note.
  CHECK(f.run({"check", "5354", "--json"}).json().contains("other_protocol") == false);

  std::string before = f.text();
  auto update = f.run({"update", "5353", "active"});
  CHECK(update.code == 1);
  CHECK(
      update.err.find("port 5353 is not registered; 5353/udp is (mdns): give 5353/udp or --udp") !=
      std::string::npos);
  auto release = f.run({"release", "5353"});
  CHECK(release.code == 1);
  CHECK(release.err.find("5353/udp is (mdns)") != std::string::npos);
  CHECK(f.text() == before);
}

TEST_CASE("allocate -p on a registered port: refused naming the next free port, or reassigned") {
  Fixture f;
  std::string before = f.text();
  auto blocked = f.run({"allocate", "blog", "-p", "3000"});
  CHECK(blocked.code == 1);
  CHECK(blocked.err.find("already registered to 'shop'") != std::string::npos);
  // 3000 and 3001 are registered: 3002 is the first free web port.
  CHECK(blocked.err.find("the next free web port is 3002") != std::string::npos);
  CHECK(f.text() == before);
  CHECK(f.run({"allocate", "blog", "-p", "3000"}, env_of("PORT_CONFLICT_ACTION", "block")).code ==
        1);
  CHECK(f.run({"allocate", "blog", "-p", "3000"}, env_of("PORT_CONFLICT_ACTION", "alert")).code ==
        1);
  auto bad = f.run({"allocate", "blog", "-p", "3000"}, env_of("PORT_CONFLICT_ACTION", "yolo"));
  CHECK(bad.code == 2);
  CHECK(bad.err.find("PORT_CONFLICT_ACTION='yolo'") != std::string::npos);
  CHECK(f.text() == before);

  auto moved =
      f.run({"allocate", "blog", "-p", "3000"}, env_of("PORT_CONFLICT_ACTION", "auto-reassign"));
  CHECK(moved.code == 0);
  CHECK(moved.out == "3002\n");
  CHECK(moved.err.find("auto-reassign: took 3002") != std::string::npos);
  json doc = json::parse(f.text());
  CHECK(doc["allocations"]["3002"]["service"] == "blog");
  CHECK(doc["allocations"]["3000"]["service"] == "shop");
}

TEST_CASE("an unbound UDP client's ephemeral port is listed but not unregistered") {
  Fixture f;
  TempDir bin;
  Listener client({"udpclient:127.0.0.1:9"}, itest::listener_named(bin, "udp-client").string());
  auto scan = [&](itest::RunOptions options) {
    auto r = f.run({"scan", "--json"}, options);
    INFO(r.err);
    REQUIRE(r.code == 0);
    return r.json();
  };
  json report = scan({});
  int port = 0;
  for (const auto& s : report["listening"])
    if (s["process"] == "udp-client") port = s["port"].get<int>();
  REQUIRE(port != 0);
  auto unregistered_on = [&](const json& r) {
    int n = 0;
    for (const auto& x : r["findings"]) n += x["kind"] == "unregistered" && x["port"] == port;
    return n;
  };
  CHECK(unregistered_on(report) == 0);

  TempDir conf;
  itest::write_file(conf / "portman.yml", "ignore:\n  ephemeral_udp: false\n");
  CHECK(unregistered_on(scan(env_of("PORTMAN_CONFIG", (conf / "portman.yml").string()))) == 1);
}

TEST_CASE("a missing registry is said, with the path and how it was chosen") {
  TempDir dir;
  std::string missing = (dir / "typo" / "port_registry.json").string();
  auto list = itest::portman({"list", "--registry", missing});
  CHECK(list.err.find("registry " + missing + " (from --registry) does not exist") !=
        std::string::npos);
  auto env = itest::portman({"scan"}, env_of("PORT_REGISTRY_PATH", missing));
  CHECK(env.err.find("(from $PORT_REGISTRY_PATH) does not exist") != std::string::npos);
  auto check = itest::portman({"check", "3000", "--registry", missing});
  CHECK(check.err.find("does not exist") != std::string::npos);
  CHECK(itest::portman({"suggest", "--registry", missing}).err.find("does not exist") !=
        std::string::npos);

  auto validate = itest::portman({"validate", "--registry", missing});
  CHECK(validate.code != 0);
  CHECK(validate.out.find("does not exist") != std::string::npos);
  auto vjson = itest::portman({"validate", "--json", "--registry", missing});
  CHECK(vjson.code != 0);
  CHECK(vjson.json()["errors"] == 1);

  auto update = itest::portman({"update", "3000", "active", "--registry", missing});
  CHECK(update.code == 1);
  CHECK(update.err.find("does not exist") != std::string::npos);
  auto release = itest::portman({"release", "3000", "--registry", missing});
  CHECK(release.code == 1);
  CHECK(release.err.find("does not exist") != std::string::npos);
  // Refused before the lock: not even the folder appears.
  CHECK_FALSE(fs::exists(fs::path(missing).parent_path()));

  auto alloc = itest::portman({"allocate", "first", "-t", "web", "--registry", missing});
  CHECK(alloc.code == 0);
  CHECK(alloc.err.find("created registry " + missing + " (from --registry)") != std::string::npos);
  CHECK(fs::exists(missing));
  auto again = itest::portman({"list", "--registry", missing});
  CHECK(again.err.find("does not exist") == std::string::npos);
  CHECK(again.out.find("first") != std::string::npos);
}

TEST_CASE("validate warns where the file's reserved_ranges and the configured types disagree") {
  Fixture f;
  auto r = f.run({"validate", "--json"});
  CHECK(r.code == 0);
  std::vector<std::string> messages;
  const json report = r.json();
  for (const auto& p : report["problems"])
    if (p["severity"] == "warning") messages.push_back(p["message"].get<std::string>());
  auto has = [&](const std::string& needle) {
    return std::any_of(messages.begin(), messages.end(),
                       [&](const std::string& m) { return m.find(needle) != std::string::npos; });
  };
  CHECK(has("reserved_ranges[\"4000-4099\"] (Frontends) is no configured type's range"));
  CHECK(has("but type dynamic is 10000-10999 in the config"));
  CHECK_FALSE(has("reserved_ranges[\"3000-3099\"]"));
}
