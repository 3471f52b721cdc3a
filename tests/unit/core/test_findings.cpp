// The comparison of registry and live state: every kind of finding, and check's verdict.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "libportman/findings.hpp"
#include "unit/support.hpp"

using namespace portman;
using namespace portman::test;

namespace {

LiveState live(std::vector<ListeningSocket> sockets) {
  LiveState l;
  l.sockets = std::move(sockets);
  return l;
}

std::vector<Finding> of_kind(const std::vector<Finding>& all, FindingKind kind) {
  std::vector<Finding> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out),
               [&](const Finding& f) { return f.kind == kind; });
  return out;
}

std::vector<Finding> for_port(const std::vector<Finding>& all, PortKey key) {
  std::vector<Finding> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out),
               [&](const Finding& f) { return f.key == key; });
  return out;
}

// Findings for two sockets of different processes on one port, with nothing registered.
std::vector<Finding> duplicates_of(ListeningSocket a, ListeningSocket b) {
  return of_kind(compare(registry("{}"), live({std::move(a), std::move(b)}), default_config()),
                 FindingKind::duplicate);
}

}  // namespace

TEST_CASE("a listening port that is not registered is an unregistered finding", "[findings]") {
  auto f = compare(registry("{}"), live({sock("0.0.0.0", 4000, {owner(321, "node")}, 1)}),
                   default_config());
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == FindingKind::unregistered);
  CHECK(f[0].key == PortKey{4000, Protocol::tcp});
  CHECK(f[0].process == "node");
  CHECK(f[0].service_name.empty());
  CHECK_THAT(f[0].detail, Catch::Contains("node (pid 321) on 0.0.0.0"));
  CHECK_THAT(f[0].detail, Catch::EndsWith("allocate NAME -p 4000"));

  auto udp = compare(registry("{}"),
                     live({sock("::", 5353, {owner(9, "avahi-daemon")}, 2, Protocol::udp)}),
                     default_config());
  REQUIRE(udp.size() == 1);
  CHECK(udp[0].key == PortKey{5353, Protocol::udp});
  CHECK_THAT(udp[0].detail, Catch::Contains("on [::]"));
  CHECK_THAT(udp[0].detail, Catch::EndsWith("-p 5353 --udp"));
}

TEST_CASE("a port registered for tcp only is unregistered when udp listens on it", "[findings]") {
  auto f = compare(registry(R"({"53": {"service": "dns", "status": "active"}})"),
                   live({sock("0.0.0.0", 53, {owner(5, "dnsmasq")}, 1),
                         sock("0.0.0.0", 53, {owner(5, "dnsmasq")}, 2, Protocol::udp)}),
                   default_config());
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == FindingKind::unregistered);
  CHECK(f[0].key == PortKey{53, Protocol::udp});
}

TEST_CASE("ignored ports, addresses and processes are never reported as unregistered",
          "[findings]") {
  Config c = default_config();
  c.ignore.ports.push_back(*parse_port_range("32768-60999"));
  c.ignore.addresses.push_back(*parse_address_pattern("10.0.0.0/8"));
  c.ignore.addresses.push_back(*parse_address_pattern("fd00::/8"));
  c.ignore.processes.push_back("rpcbind");
  auto f = compare(registry("{}"),
                   live({sock("0.0.0.0", 40000, {owner(10, "java")}, 1),
                         sock("10.1.2.3", 7000, {owner(11, "etcd")}, 2),
                         sock("fd00::5", 7001, {owner(12, "etcd")}, 3),
                         sock("0.0.0.0", 111, {owner(13, "rpcbind")}, 4),
                         sock("0.0.0.0", 7002, {owner(14, "redis-server")}, 5)}),
                   c);
  REQUIRE(f.size() == 1);  // only the one that no rule covers
  CHECK(f[0].kind == FindingKind::unregistered);
  CHECK(f[0].key.port == 7002);

  // A port is reported when any of its sockets is not ignored.
  auto partly = compare(registry("{}"),
                        live({sock("10.1.2.3", 7000, {owner(11, "etcd")}, 1),
                              sock("192.168.0.1", 7000, {owner(11, "etcd")}, 2)}),
                        c);
  REQUIRE(partly.size() == 1);
  CHECK(partly[0].kind == FindingKind::unregistered);
}

TEST_CASE("an active entry with nothing listening is registered_down but other statuses are not",
          "[findings]") {
  auto f = compare(registry(R"({
      "3000": {"service": "web", "status": "active"},
      "3001": {"service": "new", "status": "allocated"},
      "3002": {"service": "off", "status": "inactive"},
      "3003": {"service": "nostatus"},
      "3004/udp": {"service": "syslog", "status": "active"}})"),
                   live({sock("0.0.0.0", 3004, {owner(7, "rsyslogd")}, 1)}),  // tcp, not udp
                   default_config());
  auto down = of_kind(f, FindingKind::registered_down);
  REQUIRE(down.size() == 2);
  CHECK(down[0].key == PortKey{3000, Protocol::tcp});
  CHECK(down[0].service_name == "web");
  CHECK(down[0].process.empty());
  CHECK(down[0].detail == "status active but nothing listens on 3000/tcp");
  CHECK(down[1].key == PortKey{3004, Protocol::udp});
  CHECK(down[1].detail == "status active but nothing listens on 3004/udp");
}

TEST_CASE("a listening entry whose status is not active is a status_mismatch", "[findings]") {
  auto f = compare(registry(R"({
      "3001": {"service": "new", "status": "allocated"},
      "3002": {"service": "nostatus"},
      "3003": {"service": "ok", "status": "active"}})"),
                   live({sock("0.0.0.0", 3001, {owner(21, "node")}, 1),
                         sock("0.0.0.0", 3002, {owner(22, "node")}, 2),
                         sock("0.0.0.0", 3003, {owner(23, "node")}, 3)}),
                   default_config());
  REQUIRE(f.size() == 2);
  CHECK(f[0].kind == FindingKind::status_mismatch);
  CHECK(f[0].key.port == 3001);
  CHECK(f[0].service_name == "new");
  CHECK(f[0].process == "node");
  CHECK_THAT(f[0].detail, Catch::Contains("status is allocated"));
  CHECK_THAT(f[0].detail, Catch::EndsWith("portman update 3001 active"));
  CHECK(f[1].kind == FindingKind::status_mismatch);
  CHECK(f[1].key.port == 3002);
  CHECK_THAT(f[1].detail, Catch::Contains("status is unset"));
}

TEST_CASE("owner_mismatch when the entry names a process and another one listens", "[findings]") {
  auto reg = registry(R"({
      "3000": {"service": "web", "status": "active", "process": "nginx"},
      "3001": {"service": "ok", "status": "active", "process": "nginx"},
      "3002": {"service": "long", "status": "active", "process": "prometheus-node-exporter"},
      "3003": {"service": "exe", "status": "active", "process": "python3.11"},
      "3004": {"service": "argv0", "status": "active", "process": "gunicorn"},
      "3005": {"service": "unknown", "status": "active", "process": "nginx"},
      "3006": {"service": "longbad", "status": "active", "process": "prometheus-node-exporter"}})");
  auto unknown_owner = sock("0.0.0.0", 3005, {}, 6);
  unknown_owner.owner_unknown = "permission denied";
  auto f = compare(
      reg,
      live({sock("0.0.0.0", 3000, {owner(31, "apache2")}, 1),
            sock("0.0.0.0", 3001, {owner(32, "nginx")}, 2),
            // comm is cut at 15 characters by the kernel
            sock("0.0.0.0", 3002, {owner(33, "prometheus-node")}, 3),
            sock("0.0.0.0", 3003, {owner(34, "MainThread", "/usr/bin/python3.11")}, 4),
            sock("0.0.0.0", 3004,
                 {owner(35, "python3", "/usr/bin/python3.11", "/opt/venv/bin/gunicorn app:wsgi")},
                 5),
            std::move(unknown_owner), sock("0.0.0.0", 3006, {owner(37, "prometheus")}, 7)}),
      default_config());
  auto mismatch = of_kind(f, FindingKind::owner_mismatch);
  REQUIRE(mismatch.size() == 2);
  CHECK(mismatch[0].key.port == 3000);
  CHECK(mismatch[0].service_name == "web");
  CHECK(mismatch[0].process == "apache2");
  CHECK(mismatch[0].detail == "expected process nginx, found apache2 (pid 31) on 0.0.0.0");
  CHECK(mismatch[1].key.port == 3006);
  CHECK(f.size() == 2);  // nothing else: all active and listening
}

TEST_CASE("an entry outside its service_type's range is out_of_range", "[findings]") {
  auto f = compare(registry(R"({
      "4000": {"service": "misplaced", "service_type": "web"},
      "8150": {"service": "model", "service_type": "AI"},
      "3050": {"service": "fine", "service_type": "web"},
      "6000": {"service": "custom", "service_type": "something-else"},
      "7000": {"service": "untyped"}})"),
                   live({}), default_config());
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == FindingKind::out_of_range);
  CHECK(f[0].key.port == 4000);
  CHECK(f[0].service_name == "misplaced");
  CHECK(f[0].detail == "type web uses 3000-3099, port 4000 is outside it");

  auto alias =
      compare(registry(R"({"9500": {"service_type": "internal"}})"), live({}), default_config());
  REQUIRE(alias.size() == 1);
  CHECK(alias[0].kind == FindingKind::out_of_range);
  CHECK_THAT(alias[0].detail, Catch::StartsWith("type monitoring uses 9000-9099"));
}

TEST_CASE("a port that sync took from Dokploy is not out of its type's range", "[findings]") {
  auto f = compare(registry(R"({
      "3307": {"service": "analytics/events-db", "service_type": "database", "owner": "dokploy",
               "dokploy": {"kind": "mysql", "id": "myEventsDb_Ga8sK3rV0k"}},
      "4001": {"service": "hand-made", "service_type": "database", "owner": "dokploy"}})"),
                   live({}), default_config());
  // Only the entry without a Dokploy link: its port was meant to come from the range.
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == FindingKind::out_of_range);
  CHECK(f[0].key.port == 4001);
}

TEST_CASE("two programs on 0.0.0.0 and 127.0.0.1 of one port are a duplicate", "[findings]") {
  auto d = duplicates_of(sock("0.0.0.0", 8000, {owner(41, "node")}, 1),
                         sock("127.0.0.1", 8000, {owner(42, "python3")}, 2));
  REQUIRE(d.size() == 1);
  CHECK(d[0].key == PortKey{8000, Protocol::tcp});
  CHECK_THAT(d[0].detail, Catch::Contains("node (pid 41) on 0.0.0.0"));
  CHECK_THAT(d[0].detail, Catch::Contains("python3 (pid 42) on 127.0.0.1"));
}

TEST_CASE("SO_REUSEPORT workers of one program are not a duplicate", "[findings]") {
  CHECK(duplicates_of(sock("0.0.0.0", 8080, {owner(51, "nginx")}, 1),
                      sock("0.0.0.0", 8080, {owner(52, "nginx")}, 2))
            .empty());
}

TEST_CASE("tcp and udp on one port never clash", "[findings]") {
  CHECK(duplicates_of(sock("0.0.0.0", 53, {owner(61, "named")}, 1),
                      sock("0.0.0.0", 53, {owner(62, "dnsmasq")}, 2, Protocol::udp))
            .empty());
}

TEST_CASE("a v6-only :: does not clash with 0.0.0.0 but a dual-stack :: does", "[findings]") {
  CHECK(duplicates_of(sock("::", 9000, {owner(71, "grafana")}, 1, Protocol::tcp, true),
                      sock("0.0.0.0", 9000, {owner(72, "php-fpm")}, 2))
            .empty());
  auto d = duplicates_of(sock("::", 9000, {owner(71, "grafana")}, 1, Protocol::tcp, false),
                         sock("0.0.0.0", 9000, {owner(72, "php-fpm")}, 2));
  REQUIRE(d.size() == 1);
  CHECK_THAT(d[0].detail, Catch::Contains("grafana (pid 71) on [::]"));
}

TEST_CASE("::1 and 127.0.0.1 on one port do not clash", "[findings]") {
  CHECK(duplicates_of(sock("::1", 5432, {owner(81, "postgres")}, 1),
                      sock("127.0.0.1", 5432, {owner(82, "pgbouncer")}, 2))
            .empty());
}

TEST_CASE("one port registered as 3000 and as 3000/tcp is a duplicate", "[findings]") {
  auto f = compare(registry(R"({
      "3000": {"service": "web", "status": "allocated"},
      "3000/tcp": {"service": "web-again", "status": "allocated"}})"),
                   live({}), default_config());
  auto d = of_kind(f, FindingKind::duplicate);
  REQUIRE(d.size() == 1);
  CHECK(d[0].key == PortKey{3000, Protocol::tcp});
  CHECK(d[0].detail == "registered twice: as \"3000\" (web) and \"3000/tcp\" (web-again)");
  // 53 and 53/udp are different entries, not a duplicate.
  auto ok = compare(registry(R"({"53": {}, "53/udp": {}})"), live({}), default_config());
  CHECK(of_kind(ok, FindingKind::duplicate).empty());
}

TEST_CASE("addresses_overlap follows wildcards, families and v6only", "[findings]") {
  auto any4 = sock("0.0.0.0", 80, {}, 1);
  auto lo4 = sock("127.0.0.1", 80, {}, 2);
  auto eth4 = sock("192.168.1.10", 80, {}, 3);
  auto any6 = sock("::", 80, {}, 4);
  auto any6only = sock("::", 80, {}, 5, Protocol::tcp, true);
  auto lo6 = sock("::1", 80, {}, 6);
  auto mapped = sock("::ffff:127.0.0.1", 80, {}, 7);
  CHECK(addresses_overlap(any4, lo4));
  CHECK(addresses_overlap(any4, eth4));
  CHECK_FALSE(addresses_overlap(lo4, eth4));
  CHECK(addresses_overlap(lo4, lo4));
  CHECK(addresses_overlap(any6, lo4));  // dual-stack takes IPv4
  CHECK_FALSE(addresses_overlap(any6only, lo4));
  CHECK(addresses_overlap(any6only, lo6));
  CHECK(addresses_overlap(any6, any6only));
  CHECK_FALSE(addresses_overlap(lo6, lo4));
  CHECK(addresses_overlap(mapped, lo4));  // ::ffff:127.0.0.1 is 127.0.0.1
  CHECK_FALSE(addresses_overlap(mapped, eth4));
  CHECK_FALSE(addresses_overlap(any4, sock("0.0.0.0", 81, {}, 8)));
  CHECK_FALSE(addresses_overlap(any4, sock("0.0.0.0", 80, {}, 9, Protocol::udp)));
}

TEST_CASE("exposure_mismatch when an entry bound to one address listens wider", "[findings]") {
  auto reg = registry(R"({
      "6379": {"service": "redis", "status": "active", "bind": "127.0.0.1"},
      "6380": {"service": "redis2", "status": "active", "bind": "127.0.0.1"},
      "6381": {"service": "public", "status": "active", "bind": "0.0.0.0"},
      "6382": {"service": "v6", "status": "active", "bind": "::1"},
      "6383": {"service": "lan", "status": "active", "bind": "127.0.0.1"}})");
  auto f = compare(reg,
                   live({sock("0.0.0.0", 6379, {owner(91, "redis-server")}, 1),
                         sock("127.0.0.1", 6380, {owner(92, "redis-server")}, 2),
                         sock("0.0.0.0", 6381, {owner(93, "redis-server")}, 3),
                         sock("::", 6382, {owner(94, "redis-server")}, 4),
                         sock("10.0.0.5", 6383, {owner(95, "redis-server")}, 5)}),
                   default_config());
  auto e = of_kind(f, FindingKind::exposure_mismatch);
  REQUIRE(e.size() == 3);
  CHECK(e[0].key.port == 6379);
  CHECK(e[0].service_name == "redis");
  CHECK(e[0].process == "redis-server");
  CHECK_THAT(e[0].detail, Catch::StartsWith("should listen on 127.0.0.1 only"));
  CHECK(e[1].key.port == 6382);
  CHECK(e[2].key.port == 6383);
  CHECK(f.size() == 3);
}

TEST_CASE("findings are sorted by port, protocol, then kind", "[findings]") {
  auto f = compare(registry(R"({
      "9999": {"service": "x", "status": "inactive", "service_type": "web", "process": "a"},
      "100": {"service": "down", "status": "active"}})"),
                   live({sock("0.0.0.0", 9999, {owner(2, "b")}, 1),
                         sock("0.0.0.0", 50, {owner(3, "c")}, 2, Protocol::udp),
                         sock("0.0.0.0", 50, {owner(3, "c")}, 3)}),
                   default_config());
  std::vector<std::pair<int, FindingKind>> got;
  for (const auto& x : f) got.emplace_back(x.key.port, x.kind);
  CHECK(got == std::vector<std::pair<int, FindingKind>>{{50, FindingKind::unregistered},
                                                        {50, FindingKind::unregistered},
                                                        {100, FindingKind::registered_down},
                                                        {9999, FindingKind::status_mismatch},
                                                        {9999, FindingKind::owner_mismatch},
                                                        {9999, FindingKind::out_of_range}});
  CHECK(f[0].key.protocol == Protocol::tcp);
  CHECK(f[1].key.protocol == Protocol::udp);
}

TEST_CASE("verdict_for gives check's verdict for each situation", "[findings]") {
  auto reg = registry(R"({
      "3000": {"service": "ok", "status": "active"},
      "3001": {"service": "down", "status": "active"},
      "3002": {"service": "idle", "status": "allocated"},
      "3003": {"service": "starting", "status": "allocated"},
      "3004": {"service": "wrong", "status": "active", "process": "nginx"},
      "3005": {"service": "both", "status": "inactive", "process": "nginx"}})");
  auto state = live({sock("0.0.0.0", 3000, {owner(1000, "node")}, 1),
                     sock("0.0.0.0", 3003, {owner(1003, "node")}, 2),
                     sock("0.0.0.0", 3004, {owner(1004, "apache2")}, 3),
                     sock("0.0.0.0", 3005, {owner(1005, "apache2")}, 4),
                     sock("0.0.0.0", 3006, {owner(1006, "node")}, 5)});
  auto all = compare(reg, state, default_config());
  auto verdict = [&](std::uint16_t port) {
    PortKey key{port, Protocol::tcp};
    bool listening = std::any_of(state.sockets.begin(), state.sockets.end(),
                                 [&](const ListeningSocket& s) { return s.key() == key; });
    auto f = for_port(all, key);
    return verdict_for(reg.find(key), listening, f);
  };
  CHECK(verdict(3000) == Verdict::ok);
  CHECK(verdict(3001) == Verdict::down);
  CHECK(verdict(3002) == Verdict::idle);
  CHECK(verdict(3003) == Verdict::status_mismatch);
  CHECK(verdict(3004) == Verdict::conflict);
  CHECK(verdict(3005) == Verdict::conflict);  // status_mismatch plus another finding
  CHECK(verdict(3006) == Verdict::unregistered);
  CHECK(verdict(3007) == Verdict::free);

  // Registered, not listening, but with another finding (out of range): a conflict.
  auto odd = registry(R"({"4000": {"status": "allocated", "service_type": "web"}})");
  auto f = compare(odd, live({}), default_config());
  CHECK(verdict_for(odd.find({4000, Protocol::tcp}), false, f) == Verdict::conflict);

  CHECK(to_string(Verdict::ok) == "ok");
  CHECK(to_string(Verdict::status_mismatch) == "status_mismatch");
  CHECK(to_string(Verdict::free) == "free");
}

TEST_CASE("every finding kind has its snake_case name", "[findings]") {
  std::vector<std::string> names;
  for (FindingKind k : kAllFindingKinds) names.emplace_back(to_string(k));
  CHECK(names == std::vector<std::string>{"unregistered", "registered_down", "status_mismatch",
                                          "owner_mismatch", "out_of_range", "duplicate",
                                          "exposure_mismatch", "dokploy_unregistered",
                                          "dokploy_mismatch", "dokploy_collision"});
}

TEST_CASE("main_owner prefers the lowest pid that is not PID 1", "[findings]") {
  auto activated = sock("0.0.0.0", 80, {owner(1, "systemd"), owner(700, "nginx")}, 1);
  REQUIRE(activated.main_owner());
  CHECK(activated.main_owner()->pid == 700);
  auto alone = sock("0.0.0.0", 81, {owner(1, "systemd")}, 2);
  REQUIRE(alone.main_owner());
  CHECK(alone.main_owner()->pid == 1);
  auto workers = sock("0.0.0.0", 82, {owner(902, "nginx"), owner(900, "nginx")}, 3);
  CHECK(workers.main_owner()->pid == 900);
  CHECK(sock("0.0.0.0", 83, {}, 4).main_owner() == nullptr);

  // The socket-activated service is what the findings name.
  auto f = compare(registry("{}"), live({activated}), default_config());
  REQUIRE(f.size() == 1);
  CHECK(f[0].process == "nginx");
}

TEST_CASE("an unbound UDP client's ephemeral port is listed, not an unregistered finding",
          "[findings]") {
  LiveState l = live({sock("0.0.0.0", 41234, {owner(77, "dig")}, 1, Protocol::udp),
                      sock("127.0.0.1", 41235, {owner(78, "dnsmasq")}, 2, Protocol::udp),
                      sock("0.0.0.0", 41236, {owner(79, "nginx")}, 3),
                      sock("::", 20000, {owner(80, "syslogd")}, 4, Protocol::udp)});
  l.ephemeral_ports = std::pair<std::uint16_t, std::uint16_t>{32768, 60999};
  Config config = default_config();
  auto found = of_kind(compare(registry("{}"), l, config), FindingKind::unregistered);
  std::vector<PortKey> keys;
  for (const auto& f : found) keys.push_back(f.key);
  // Reported: a UDP socket on one address (bound on purpose), TCP, and UDP outside the range.
  CHECK(keys == std::vector<PortKey>{
                    {20000, Protocol::udp}, {41235, Protocol::udp}, {41236, Protocol::tcp}});

  SECTION("the config key turns the rule off") {
    config.ignore.ephemeral_udp = false;
    CHECK(of_kind(compare(registry("{}"), l, config), FindingKind::unregistered).size() == 4);
  }
  SECTION("without a known range every socket is reported") {
    l.ephemeral_ports.reset();
    CHECK(of_kind(compare(registry("{}"), l, config), FindingKind::unregistered).size() == 4);
  }
}
