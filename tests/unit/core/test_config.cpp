// portman.yml: defaults, the shipped example, merging, strict errors, ignore rules, paths.
#include <catch2/catch.hpp>

#include "unit/support.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "libportman/config.hpp"
#include "libportman/limits.hpp"
#include "libportman/sources.hpp"
#include "libportman/yaml_load.hpp"

using namespace portman;
using namespace std::chrono_literals;

namespace {

const std::string kFixtures = PORTMAN_FIXTURES_DIR;

using test::seconds;
using test::slurp;

Config parse_ok(const std::string& yaml) {
  auto c = parse_config(yaml, "test.yml");
  INFO(yaml);
  if (!c) FAIL(c.error().message);
  return *c;
}

std::string parse_error(const std::string& yaml) {
  auto c = parse_config(yaml, "test.yml");
  INFO(yaml);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().kind == ErrorKind::invalid_data);
  return c.error().message;
}

void check_same_config(const Config& a, const Config& b) {
  CHECK(a.registry == b.registry);
  REQUIRE(a.types.size() == b.types.size());
  for (size_t i = 0; i < a.types.size(); ++i) {
    INFO("type " << a.types[i].name);
    CHECK(a.types[i].name == b.types[i].name);
    CHECK(a.types[i].range.first == b.types[i].range.first);
    CHECK(a.types[i].range.last == b.types[i].range.last);
    CHECK(a.types[i].description == b.types[i].description);
    CHECK(a.types[i].aliases == b.types[i].aliases);
  }
  CHECK(a.environments == b.environments);
  CHECK(a.statuses == b.statuses);
  CHECK(a.reserved == b.reserved);
  CHECK(a.quarantine == b.quarantine);
  CHECK(a.lock_timeout == b.lock_timeout);
  CHECK(a.ignore.ports.size() == b.ignore.ports.size());
  CHECK(a.ignore.addresses.size() == b.ignore.addresses.size());
  CHECK(a.ignore.processes == b.ignore.processes);
  CHECK(a.ignore.ephemeral_udp == b.ignore.ephemeral_udp);
  CHECK(a.agent.listen_addresses == b.agent.listen_addresses);
  CHECK(a.agent.telemetry_path == b.agent.telemetry_path);
  CHECK(a.agent.web_config_file == b.agent.web_config_file);
  // The same sources run, with the same settings.
  auto pa = plan_sources(a, {}, [](const char*) { return nullptr; });
  auto pb = plan_sources(b, {}, [](const char*) { return nullptr; });
  REQUIRE(pa);
  REQUIRE(pb);
  CHECK(pa->collectors == pb->collectors);
  CHECK(pa->inventories == pb->inventories);
  for (const auto& [name, settings] : pa->settings)
    for (const OptionSpec& o : settings.options()) {
      INFO(name << "." << o.key);
      CHECK(settings.text(o.key) == pb->settings_of(name).text(o.key));
    }
  CHECK(a.nginx.certificate == b.nginx.certificate);
  CHECK(a.agent.scan_min_interval == b.agent.scan_min_interval);
  CHECK(a.agent.log_level == b.agent.log_level);
  CHECK(a.agent.log_format == b.agent.log_format);
  CHECK(a.agent.procfs == b.agent.procfs);
}

// Sets or clears an environment variable for one scope, restoring the old value after.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~EnvVar() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

ListeningSocket socket_on(std::string address, std::uint16_t port, std::string process) {
  ListeningSocket s;
  s.address = std::move(address);
  s.family = s.address.find(':') != std::string::npos ? Family::ipv6 : Family::ipv4;
  s.port = port;
  if (!process.empty()) {
    Owner o;
    o.pid = 42;
    o.process = std::move(process);
    s.owners.push_back(std::move(o));
  }
  return s;
}

}  // namespace

TEST_CASE("default config holds the issue's types, aliases, reserved ports and timeouts",
          "[config]") {
  Config c = default_config();
  REQUIRE(c.types.size() == 6);
  struct Want {
    const char* name;
    int first, last;
    const char* description;
    std::vector<std::string> aliases;
  };
  const Want want[] = {
      {"web", 3000, 3099, "Web Applications", {}},
      {"database", 5000, 5999, "Database Services", {}},
      {"api", 8000, 8099, "API Services", {}},
      {"ml", 8100, 8199, "ML/AI Services", {"ai"}},
      {"monitoring", 9000, 9099, "Monitoring & Internal Tools", {"internal"}},
      {"dynamic", 10000, 10999, "Dynamic/Temporary Services", {"temp"}},
  };
  for (size_t i = 0; i < 6; ++i) {
    INFO(want[i].name);
    CHECK(c.types[i].name == want[i].name);
    CHECK(c.types[i].range.first == want[i].first);
    CHECK(c.types[i].range.last == want[i].last);
    CHECK(c.types[i].description == want[i].description);
    CHECK(c.types[i].aliases == want[i].aliases);
  }
  CHECK(c.environments == std::vector<std::string>{"production", "staging", "development"});
  CHECK(c.statuses == std::vector<std::string>{"allocated", "active", "inactive", "needs_pairing",
                                               "maintenance", "deprecated", "reserved"});
  CHECK(c.reserved == std::vector<std::uint16_t>{22, 80, 443, 3000, 8080});
  CHECK(c.quarantine == std::chrono::hours(7 * 24));
  CHECK(c.lock_timeout == 10s);
  CHECK_FALSE(c.registry.has_value());
  CHECK(c.ignore.ports.empty());
  CHECK(c.ignore.addresses.empty());
  CHECK(c.ignore.processes.empty());
}

TEST_CASE("the shipped config/portman.yml parses to exactly the built-in defaults", "[config]") {
  const std::string path = kFixtures + "/../../config/portman.yml";
  auto c = parse_config(slurp(path), path);
  if (!c) FAIL(c.error().message);
  Config defaults = default_config();
  // The example names the root default path explicitly; everything else must match field by field.
  REQUIRE(c->registry.has_value());
  CHECK(*c->registry == "/var/lib/portman/port_registry.json");
  defaults.registry = c->registry;
  check_same_config(*c, defaults);
  CHECK(c->source == path);
}

TEST_CASE("an empty config file keeps every default", "[config]") {
  check_same_config(parse_ok(""), default_config());
  check_same_config(parse_ok("# only a comment\n"), default_config());
}

TEST_CASE("a partial config changes only the keys it names", "[config]") {
  Config c = parse_ok(slurp(kFixtures + "/config/partial.yml"));
  // web's range changed, its description kept.
  const ServiceType* web = c.find_type("web");
  REQUIRE(web);
  CHECK(web->range.first == 3000);
  CHECK(web->range.last == 3199);
  CHECK(web->description == "Web Applications");
  // dynamic removed, a new type added, the others untouched.
  CHECK(c.find_type("dynamic") == nullptr);
  CHECK(c.find_type("temp") == nullptr);
  const ServiceType* games = c.find_type("games");
  REQUIRE(games);
  CHECK(games->range.first == 7000);
  CHECK(games->range.last == 7099);
  CHECK(games->description == "Game servers");
  CHECK(games->aliases == std::vector<std::string>{"play"});
  const ServiceType* ml = c.find_type("ml");
  REQUIRE(ml);
  CHECK(ml->range.first == 8100);
  CHECK(ml->aliases == std::vector<std::string>{"ai"});
  CHECK(c.types.size() == 6);  // 6 defaults - dynamic + games
  // Types stay ordered by range.
  for (size_t i = 1; i < c.types.size(); ++i)
    CHECK(c.types[i - 1].range.last < c.types[i].range.first);
  // Keys the file did not name keep their defaults.
  Config d = default_config();
  CHECK(c.reserved == d.reserved);
  CHECK(c.statuses == d.statuses);
  CHECK(c.environments == d.environments);
  CHECK(c.lock_timeout == d.lock_timeout);
  // ...and the ones it named changed.
  CHECK(c.quarantine == 36h);
  CHECK_FALSE(c.registry.has_value());
}

TEST_CASE("a new type without a range is refused", "[config]") {
  auto msg = parse_error("types:\n  games: { description: Games }\n");
  CHECK_THAT(msg, Catch::StartsWith("test.yml:2:"));
  CHECK_THAT(msg, Catch::Contains("needs a range"));
}

TEST_CASE("config errors name file, line and column, and what is valid", "[config]") {
  SECTION("unknown top-level key") {
    auto msg = parse_error("quarantine: 7d\nregistery: /tmp/x.json\n");
    CHECK_THAT(msg, Catch::StartsWith("test.yml:2:1: "));
    CHECK_THAT(msg, Catch::Contains("unknown key 'registery'"));
    CHECK_THAT(msg, Catch::Contains("registry, types"));
    CHECK_THAT(msg, Catch::Contains("lock_timeout"));
  }
  SECTION("unknown key inside a type") {
    auto msg = parse_error("types:\n  web:\n    range: 3000-3099\n    port: 3000\n");
    CHECK_THAT(msg, Catch::StartsWith("test.yml:4:5: "));
    CHECK_THAT(msg, Catch::Contains("types.web.port"));
    CHECK_THAT(msg, Catch::Contains("range, description, aliases"));
  }
  SECTION("unknown key inside ignore") {
    auto msg = parse_error("ignore:\n  pids: [1]\n");
    CHECK_THAT(msg, Catch::StartsWith("test.yml:2:3: "));
    CHECK_THAT(msg, Catch::Contains("ports, addresses, processes"));
  }
  SECTION("overlapping ranges") {
    auto msg = parse_error("types:\n  web2: { range: 3050-3150 }\n");
    CHECK_THAT(msg, Catch::StartsWith("test.yml:2:3: "));
    CHECK_THAT(msg, Catch::Contains("overlaps"));
    CHECK_THAT(msg, Catch::Contains("3000-3099"));
    CHECK_THAT(msg, Catch::Contains("3050-3150"));
  }
  SECTION("inverted range") {
    auto msg = parse_error("types:\n  web: { range: 3099-3000 }\n");
    CHECK_THAT(msg, Catch::StartsWith("test.yml:2:17: "));
    CHECK_THAT(msg, Catch::Contains("'3099-3000'"));
    CHECK_THAT(msg, Catch::Contains("FIRST <= LAST"));
  }
  SECTION("port outside 1-65535 in reserved") {
    auto msg = parse_error("reserved: [22, 70000]\n");
    CHECK_THAT(msg, Catch::StartsWith("test.yml:1:16: "));
    CHECK_THAT(msg, Catch::Contains("'70000'"));
    CHECK_THAT(msg, Catch::Contains("1-65535"));
  }
  SECTION("reserved is a string, not a list") {
    auto msg = parse_error("reserved: \"abc\"\n");
    CHECK_THAT(msg, Catch::StartsWith("test.yml:1:11: "));
    CHECK_THAT(msg, Catch::Contains("reserved: expected a list of ports"));
  }
  SECTION("quarantine is a list, not a duration") {
    auto msg = parse_error("\nquarantine: [1]\n");
    CHECK_THAT(msg, Catch::StartsWith("test.yml:2:13: "));
    CHECK_THAT(msg, Catch::Contains("quarantine: expected a single value"));
  }
  SECTION("types is a number, not a map") {
    auto msg = parse_error("types: 5\n");
    CHECK_THAT(msg, Catch::StartsWith("test.yml:1:8: "));
    CHECK_THAT(msg, Catch::Contains("types: expected a map"));
  }
  SECTION("bad duration") {
    auto msg = parse_error("lock_timeout: 10 seconds\n");
    CHECK_THAT(msg, Catch::StartsWith("test.yml:1:15: "));
    CHECK_THAT(msg, Catch::Contains("'10 seconds'"));
    CHECK_THAT(msg, Catch::Contains("500ms, 5s"));
  }
  SECTION("bad ignored address") {
    auto msg = parse_error("ignore:\n  addresses: [127.0.0.1, 10.0.0.0/40]\n");
    CHECK_THAT(msg, Catch::StartsWith("test.yml:2:26: "));
    CHECK_THAT(msg, Catch::Contains("10.0.0.0/40"));
  }
  SECTION("YAML syntax error") {
    auto msg = parse_error("types:\n  web: { range: 3000-3099\nreserved: [22]\n");
    CHECK_THAT(msg, Catch::Matches("test\\.yml:[0-9]+:[0-9]+: YAML syntax error: .+"));
  }
  SECTION("a name or alias used by two types") {
    auto msg = parse_error("types:\n  games: { range: 7000-7099, aliases: [AI] }\n");
    CHECK_THAT(msg, Catch::Contains("'ai' names two types", Catch::CaseSensitive::No));
  }
}

TEST_CASE("find_type resolves names and aliases case-insensitively", "[config]") {
  Config c = default_config();
  REQUIRE(c.find_type("AI"));
  CHECK(c.find_type("AI")->name == "ml");
  CHECK(c.find_type("ai")->name == "ml");
  CHECK(c.find_type("Internal")->name == "monitoring");
  CHECK(c.find_type("TEMP")->name == "dynamic");
  CHECK(c.find_type("Web")->name == "web");
  CHECK(c.find_type("mail") == nullptr);
  CHECK(c.find_type("") == nullptr);
  CHECK(c.type_names() ==
        "web, database, api, ml, monitoring, dynamic (aliases: ai, internal, temp)");
}

TEST_CASE("type_of_port finds the type whose range holds the port", "[config]") {
  Config c = default_config();
  CHECK(c.type_of_port(3000)->name == "web");
  CHECK(c.type_of_port(3099)->name == "web");
  CHECK(c.type_of_port(3100) == nullptr);
  CHECK(c.type_of_port(10999)->name == "dynamic");
  CHECK(c.type_of_port(11000) == nullptr);
  CHECK(c.is_reserved(22));
  CHECK_FALSE(c.is_reserved(23));
  CHECK(c.has_status("needs_pairing"));
  CHECK_FALSE(c.has_status("Active"));
  CHECK(c.has_environment("staging"));
  CHECK_FALSE(c.has_environment("prod"));
}

TEST_CASE("ignore rules match ports and ranges, v4 and v6 networks, and process names",
          "[config]") {
  Config c = parse_ok(
      "ignore:\n"
      "  ports: [111, 32768-60999]\n"
      "  addresses: [10.0.0.0/8, 192.168.1.7, 'fd00::/8', '::1']\n"
      "  processes: [rpcbind]\n");
  const IgnoreRules& ig = c.ignore;
  REQUIRE(ig.ports.size() == 2);
  CHECK(ig.port_ignored(111));
  CHECK(ig.port_ignored(32768));
  CHECK(ig.port_ignored(60999));
  CHECK_FALSE(ig.port_ignored(110));
  CHECK_FALSE(ig.port_ignored(61000));

  CHECK(ig.ignores(socket_on("0.0.0.0", 111, "whatever")));
  CHECK(ig.ignores(socket_on("10.20.30.40", 80, "nginx")));
  CHECK_FALSE(ig.ignores(socket_on("11.0.0.1", 80, "nginx")));
  CHECK(ig.ignores(socket_on("192.168.1.7", 80, "nginx")));
  CHECK_FALSE(ig.ignores(socket_on("192.168.1.8", 80, "nginx")));
  CHECK(ig.ignores(socket_on("fd12:3456::1", 80, "nginx")));
  CHECK_FALSE(ig.ignores(socket_on("fe80::1", 80, "nginx")));
  CHECK(ig.ignores(socket_on("::1", 80, "nginx")));
  CHECK_FALSE(ig.ignores(socket_on("::", 80, "nginx")));
  CHECK(ig.ignores(socket_on("0.0.0.0", 2049, "rpcbind")));
  CHECK_FALSE(ig.ignores(socket_on("0.0.0.0", 2049, "rpcbind2")));
  CHECK_FALSE(ig.ignores(socket_on("0.0.0.0", 2049, "")));  // owner unknown
}

TEST_CASE("address patterns match on the prefix bits only", "[config]") {
  auto p = parse_address_pattern("172.16.0.0/12");
  REQUIRE(p.ok());
  CHECK_FALSE(p->ipv6);
  CHECK(p->prefix == 12);
  CHECK(p->matches("172.16.0.1"));
  CHECK(p->matches("172.31.255.255"));
  CHECK_FALSE(p->matches("172.32.0.0"));
  CHECK_FALSE(p->matches("::1"));  // other family never matches
  auto all = parse_address_pattern("0.0.0.0/0");
  REQUIRE(all.ok());
  CHECK(all->matches("8.8.8.8"));
  auto v6 = parse_address_pattern("2001:db8::/32");
  REQUIRE(v6.ok());
  CHECK(v6->ipv6);
  CHECK(v6->matches("2001:db8:ffff::1"));
  CHECK_FALSE(v6->matches("2001:db9::1"));
  CHECK_FALSE(v6->matches("10.0.0.1"));
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0/8", "host", "10.0.0.0/x", ""}) {
    INFO(bad);
    CHECK_FALSE(parse_address_pattern(bad).ok());
  }
}

TEST_CASE("port ranges parse as FIRST-LAST or one port", "[config]") {
  auto r = parse_port_range("3000-3099");
  REQUIRE(r.ok());
  CHECK(r->first == 3000);
  CHECK(r->last == 3099);
  CHECK(r->size() == 100);
  CHECK(r->to_string() == "3000-3099");
  auto one = parse_port_range("22");
  REQUIRE(one.ok());
  CHECK(one->size() == 1);
  CHECK(one->to_string() == "22");
  for (const char* bad : {"3099-3000", "0-10", "1-65536", "a-b", "3000-", "-3000", ""}) {
    INFO(bad);
    CHECK_FALSE(parse_port_range(bad).ok());
  }
}

TEST_CASE("load_config refuses a named file that is missing, and reads one that exists",
          "[config]") {
  auto missing = load_config(std::string("/nonexistent/portman.yml"));
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::Contains("/nonexistent/portman.yml"));

  const std::string partial = kFixtures + "/config/partial.yml";
  auto named = load_config(partial);
  REQUIRE(named.ok());
  CHECK(named->source == partial);
  CHECK(named->quarantine == 36h);

  EnvVar env("PORTMAN_CONFIG", partial.c_str());
  auto from_env = load_config(std::nullopt);
  REQUIRE(from_env.ok());
  CHECK(from_env->source == partial);
}

TEST_CASE("registry path precedence: flag, then PORT_REGISTRY_PATH, then config, then default",
          "[config]") {
  Config c = default_config();
  c.registry = "/from/config.json";
  EnvVar env("PORT_REGISTRY_PATH", "/from/env.json");
  CHECK(resolve_registry_path(std::string("/from/flag.json"), c) == "/from/flag.json");
  CHECK(resolve_registry_path(std::nullopt, c) == "/from/env.json");
  {
    EnvVar cleared("PORT_REGISTRY_PATH", nullptr);
    CHECK(resolve_registry_path(std::nullopt, c) == "/from/config.json");
    Config d = default_config();
    EnvVar xdg("XDG_STATE_HOME", "/xdg/state");
    if (::geteuid() == 0)
      CHECK(resolve_registry_path(std::nullopt, d) == "/var/lib/portman/port_registry.json");
    else
      CHECK(resolve_registry_path(std::nullopt, d) == "/xdg/state/portman/port_registry.json");
  }
  {
    EnvVar empty("PORT_REGISTRY_PATH", "");  // an empty variable counts as unset
    CHECK(resolve_registry_path(std::nullopt, c) == "/from/config.json");
  }
  CHECK(std::string(std::getenv("PORT_REGISTRY_PATH")) == "/from/env.json");
}

TEST_CASE("a key written with no value keeps its default", "[config]") {
  auto c = parse_config("ignore:\nquarantine:\nreserved: [22]\n", "test.yml");
  REQUIRE(c);
  CHECK(c->quarantine == default_config().quarantine);
  CHECK(c->ignore.ports.empty());
  CHECK(c->reserved == std::vector<std::uint16_t>{22});
}

TEST_CASE("the agent section merges over its defaults and refuses what would be invalid",
          "[config]") {
  auto c =
      parse_config("agent:\n  scan_min_interval: 5s\n  collectors: { owners: false }\n", "t.yml");
  REQUIRE(c);
  CHECK(c->agent.scan_min_interval == std::chrono::seconds(5));
  CHECK(c->agent.collectors.at("owners") == false);
  auto plan = plan_sources(*c, {}, [](const char*) { return nullptr; });
  REQUIRE(plan);
  CHECK(plan->enabled("sockets"));  // the default stands
  CHECK_FALSE(plan->enabled("owners"));
  auto flagged = plan_sources(*c, {{{"owners", true}, {"sockets", false}}, {}},
                              [](const char*) { return nullptr; });
  REQUIRE(flagged);
  CHECK(flagged->enabled("owners"));  // the flag wins over the file
  CHECK_FALSE(flagged->enabled("sockets"));
  auto unknown = plan_sources(*c, {{{"dockerz", true}}, {}}, [](const char*) { return nullptr; });
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message.find(
            "--collector.dockerz: no such source; valid: sockets, netns, owners, docker") == 0);
  CHECK(c->agent.listen_addresses == std::vector<std::string>{":9097"});
  auto bad_collector = parse_config("agent:\n  collectors: { dockerz: true }\n", "t.yml");
  REQUIRE_FALSE(bad_collector);
  CHECK(bad_collector.error().message.find("t.yml:2:17: unknown key 'agent.collectors.dockerz'") ==
        0);
  auto bad_level = parse_config("agent:\n  log_level: loud\n", "t.yml");
  REQUIRE_FALSE(bad_level);
  CHECK(bad_level.error().message.find("valid: debug, info, warn, error") != std::string::npos);
  auto bad_path = parse_config("agent:\n  telemetry_path: metrics\n", "t.yml");
  REQUIRE_FALSE(bad_path);
  CHECK(bad_path.error().message.find("t.yml:2:19:") == 0);
  auto bad_key = parse_config("agent:\n  listen: [\":1\"]\n", "t.yml");
  REQUIRE_FALSE(bad_key);
  CHECK(bad_key.error().message.find("unknown key 'agent.listen'") != std::string::npos);
}

namespace {

// A "billion laughs": 10 levels of 10 aliases to the level below, 10^10 nodes from 500 bytes.
std::string alias_bomb(const std::string& key) {
  std::string out = key + ": [&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]";
  for (int i = 1; i <= 9; ++i) {
    out += ", &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) out += (j ? ", *a" : "*a") + std::to_string(i - 1);
    out += "]";
  }
  return out + "]\n";
}

// `[&a [x, ...999 more], *a, *a, ...]` with `aliases` aliases: 1 + 1,000 + aliases * 1,000 nodes.
std::string aliased_list(int aliases) {
  std::string out = "[&a [x";
  for (int i = 1; i < 1000; ++i) out += ", x";
  out += "]";
  for (int i = 0; i < aliases; ++i) out += ", *a";
  return out + "]";
}

}  // namespace

TEST_CASE("a YAML alias bomb is refused at once, wherever it is", "[config]") {
  for (const char* key : {"statuses", "ignore", "agent", "nosuchkey"}) {
    INFO(key);
    std::string msg;
    CHECK(seconds([&] { msg = parse_error(alias_bomb(key)); }) < 1.0);
    CHECK_THAT(msg, Catch::Matches("test\\.yml:1:[0-9]+: the document expands through its "
                                   "aliases to more than 1000000 nodes.*"));
  }
  // The limit itself: 999,001 nodes are read, 1,000,001 are not.
  CHECK(load_yaml(aliased_list(998), "x.yml").ok());
  auto over = load_yaml(aliased_list(999), "x.yml");
  REQUIRE_FALSE(over.ok());
  CHECK_THAT(over.error().message, Catch::Contains("more than 1000000 nodes"));
  // An alias to the node that holds it would be endless.
  CHECK_THAT(parse_error("statuses: &a [x, *a]\n"),
             Catch::StartsWith("test.yml:1:18: an alias inside the node it names"));
}

TEST_CASE("anchors and aliases within the limits are read", "[config]") {
  Config c = parse_ok("environments: &envs [prod, qa]\nstatuses: *envs\n");
  CHECK(c.environments == std::vector<std::string>{"prod", "qa"});
  CHECK(c.statuses == std::vector<std::string>{"prod", "qa"});
}

TEST_CASE("YAML nested deeper than the cap is refused without exhausting the stack", "[config]") {
  auto nested = [](size_t depth) {
    return "x: " + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "\n";
  };
  CHECK(load_yaml(nested(kMaxNestingDepth), "x.yml").ok());  // the top-level map is level 1
  auto deeper = load_yaml(nested(kMaxNestingDepth + 1), "x.yml");
  REQUIRE_FALSE(deeper.ok());
  CHECK(deeper.error().kind == ErrorKind::invalid_data);
  CHECK(deeper.error().message ==
        "x.yml:1:67: nested deeper than 64 levels, the most portman reads");
  std::string msg;
  CHECK(seconds([&] { msg = parse_error(nested(100'000)); }) < 2.0);
  CHECK_THAT(msg, Catch::Contains("nested deeper than 64 levels"));
}

TEST_CASE("a config file over the size cap is refused in one line", "[config]") {
  std::string comment = "# " + std::string(kConfigMaxBytes - 3, 'x') + "\n";
  REQUIRE(comment.size() == kConfigMaxBytes);
  parse_ok(comment);
  CHECK(parse_error(comment + "\n") ==
        "test.yml: larger than 1048576 bytes, the most portman reads of a YAML file");
  // load_config stops reading at the cap: a config that never ends is refused, not read on.
  auto endless = load_config(std::string("/dev/zero"));
  REQUIRE_FALSE(endless.ok());
  CHECK(endless.error().message == "config: /dev/zero is larger than 1048576 bytes");
}
