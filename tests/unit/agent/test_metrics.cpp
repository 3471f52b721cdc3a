// /metrics: the metric contract (agent/metric_catalog.hpp, documented in docs/metrics.md), checked
// series by series on a hand-built snapshot, and the whole output checked by promtool.
#include <catch2/catch.hpp>

#include "unit/support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <locale>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "agent/metric_catalog.hpp"
#include "agent/metrics.hpp"
#include "collectors/docker_collector.hpp"
#include "collectors/owners.hpp"
#include "libportman/allocation.hpp"

using namespace portman;
using namespace portman::agent;

namespace {

// --- Building a snapshot by hand ---

Owner owner(pid_t pid, std::string process, std::string user, std::string container = {}) {
  Owner o;
  o.pid = pid;
  o.process = std::move(process);
  o.user = std::move(user);
  o.container = std::move(container);
  o.exe = "/usr/bin/" + o.process;
  o.cmdline = o.process + " --password=hunter2";  // must never reach a label
  return o;
}

// Sockets nobody could be attributed to say why, as the owners collector does.
ListeningSocket sock(std::string address, std::uint16_t port, std::vector<Owner> owners,
                     std::uint64_t inode, Protocol protocol = Protocol::tcp, bool v6only = false) {
  ListeningSocket s =
      test::sock(std::move(address), port, std::move(owners), inode, protocol, v6only);
  if (s.owners.empty()) s.owner_unknown = "permission denied";
  return s;
}

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(PORTMAN_FIXTURES_DIR) + "/metrics/" + name);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kContainer = "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899";

// Several sockets (IPv6, UDP, unknown owner, SO_REUSEPORT workers, two programs on one port),
// an entry of every status, findings of every kind, a service name with `"`, `\` and newline.
Snapshot realistic_snapshot(Config config = default_config()) {
  auto reg = Registry::parse(read_fixture("registry.json"), "registry.json");
  REQUIRE(reg.ok());
  Snapshot snap;
  snap.registry = std::make_shared<const Registry>(std::move(reg).value());
  snap.config = std::make_shared<const Config>(std::move(config));
  auto taken = parse_timestamp("2025-11-02T12:00:00");
  REQUIRE(taken);
  snap.taken_at = *taken;

  LiveState& live = snap.live;
  live.sockets = {
      sock("0.0.0.0", 3000, {owner(100, "node", "www")}, 1),
      sock("::", 3000, {owner(100, "node", "www")}, 2, Protocol::tcp, true),
      sock("127.0.0.1", 5432, {owner(200, "postgres", "postgres")}, 3),
      sock("::1", 5432, {owner(200, "postgres", "postgres")}, 4),
      sock("0.0.0.0", 8100, {owner(300, "python3", "ml")}, 5),
      sock("0.0.0.0", 9000, {owner(400, "nginx", "www-data")}, 6),
      sock("127.0.0.53", 53, {}, 7, Protocol::udp),
      sock("0.0.0.0", 4000, {owner(500, "node", "alice", kContainer)}, 8),
      sock("0.0.0.0", 4001, {owner(600, "worker", "app")}, 9),  // SO_REUSEPORT pair
      sock("0.0.0.0", 4001, {owner(601, "worker", "app")}, 10),
      sock("0.0.0.0", 8080, {owner(700, "envoy", "envoy")}, 11),
      sock("::", 8080, {owner(701, "haproxy", "haproxy")}, 12),
      sock("::", 5353, {owner(800, "avahi-daemon", "avahi")}, 13, Protocol::udp),
      sock("0.0.0.0", 10500, {}, 14, Protocol::udp),
  };
  live.runs = {{"sockets", true, 0.5, ""}, {"owners", false, 0.25, "permission denied"}};
  live.processes_unreadable = 3;
  live.socket_source = "netlink";
  live.owner_source = "bpf";
  live.samples.push_back({&kOwnerSourceInfoMetric, {"bpf"}, 1});  // what sources report
  live.samples.push_back({&kDockerUpMetric, {}, 1});              // about themselves
  snap.findings = compare(*snap.registry, snap.live, *snap.config);
  // The inventory sources' series, written by their rows: one Dokploy service publishing 8080.
  dokploy::Service shop;
  shop.name = "shop-web";
  shop.project = "storefront";
  shop.ports.push_back({8080, 3000, Protocol::tcp, "ingress", "", ""});
  auto inventory = std::make_shared<dokploy::Inventory>();
  inventory->services.push_back(shop);
  InventoryState state{"dokploy", inventory, true, 1762084800, ""};
  for (const InventorySpec& i : inventory_table())
    i.samples(state, SourceSettings(std::string(i.name), i.options), snap.inventory_samples);
  snap.registry_valid = false;
  snap.registry_last_reload_success = 1762084800;
  snap.listener_changes_total = 42;
  return snap;
}

const BuildInfo kBuild{"0.1.0", "abc123def456"};

// --- Reading the exposition back ---

struct Series {
  std::string name;
  std::map<std::string, std::string> labels;
  std::vector<std::pair<std::string, std::string>> labels_in_order;
  std::string value;
};

struct Exposition {
  std::vector<Series> samples;
  std::map<std::string, std::string> help, type;  // by family name
  std::vector<std::string> families;              // in the order of their TYPE lines
};

// A small reader of the text format 0.0.4: enough to check what we write, strict enough to fail
// on anything malformed.
Exposition parse_exposition(const std::string& text) {
  Exposition out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      std::string rest = line.substr(7);
      auto sp = rest.find(' ');
      REQUIRE(sp != std::string::npos);
      (line[2] == 'H' ? out.help : out.type)[rest.substr(0, sp)] = rest.substr(sp + 1);
      if (line[2] == 'T') out.families.push_back(rest.substr(0, sp));
      continue;
    }
    REQUIRE(line[0] != '#');
    Series s;
    size_t i = line.find_first_of("{ ");
    REQUIRE(i != std::string::npos);
    s.name = line.substr(0, i);
    if (line[i] == '{') {
      ++i;
      while (line.at(i) != '}') {
        size_t eq = line.find('=', i);
        REQUIRE(eq != std::string::npos);
        std::string name = line.substr(i, eq - i);
        REQUIRE(line.at(eq + 1) == '"');
        std::string value;
        for (i = eq + 2; line.at(i) != '"'; ++i) {
          if (line[i] == '\\') {
            char c = line.at(++i);
            REQUIRE((c == '\\' || c == '"' || c == 'n'));
            value += c == 'n' ? '\n' : c;
          } else {
            value += line[i];
          }
        }
        ++i;  // closing quote
        if (line.at(i) == ',') ++i;
        REQUIRE(s.labels.emplace(name, value).second);
        s.labels_in_order.emplace_back(name, value);
      }
      ++i;  // closing brace
    }
    REQUIRE(line.at(i) == ' ');
    s.value = line.substr(i + 1);
    out.samples.push_back(std::move(s));
  }
  return out;
}

// Samples of `name` whose labels include all of `want`.
std::vector<Series> find(const Exposition& e, const std::string& name,
                         const std::map<std::string, std::string>& want = {}) {
  std::vector<Series> out;
  for (const Series& s : e.samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : want) {
      auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (match) out.push_back(s);
  }
  return out;
}

// The value of the one sample that matches; fails unless exactly one does.
std::string value_of(const Exposition& e, const std::string& name,
                     const std::map<std::string, std::string>& want = {}) {
  auto found = find(e, name, want);
  INFO(name);
  REQUIRE(found.size() == 1);
  return found[0].value;
}

Exposition render(const Snapshot& snap) {
  return parse_exposition(render_metrics(snap, kBuild));
}

}  // namespace

std::string type_name(MetricType type) {
  return type == MetricType::counter ? "counter" : "gauge";
}

std::string label_list(const MetricSpec& spec) {  // "port,protocol"
  std::string out;
  for (auto l : spec.labels) (out += out.empty() ? "" : ",") += l;
  return out;
}

TEST_CASE("every family of the catalog has its HELP, TYPE and labels, and nothing else is served",
          "[metrics]") {
  std::string text = render_metrics(realistic_snapshot(), kBuild);
  Exposition e = parse_exposition(text);
  std::set<std::string> names;
  for (const MetricSpec* spec : metric_catalog()) {
    const std::string name(spec->name);
    INFO(name);
    CHECK(names.insert(name).second);  // one entry each
    CHECK(e.type[name] == type_name(spec->type));
    CHECK(e.help[name] == std::string(spec->help));
    CHECK(spec->help.size() > 10);
    auto samples = find(e, name);
    CHECK_FALSE(samples.empty());  // the realistic snapshot has a series of every family
    std::set<std::string> want(spec->labels.begin(), spec->labels.end());
    for (const Series& s : samples) {
      std::set<std::string> got;
      for (const auto& [k, v] : s.labels) got.insert(k);
      CHECK(got == want);
    }
  }
  // Nothing outside the catalog, in the catalog's order, one family each.
  CHECK(e.type.size() == names.size());
  for (const Series& s : e.samples) {
    INFO(s.name);
    CHECK(names.count(s.name) == 1);
  }
  std::istringstream in(text);
  std::vector<std::string> type_lines;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("# TYPE ", 0) == 0) type_lines.push_back(line.substr(7, line.find(' ', 7) - 7));
  std::vector<std::string> catalog_order;
  for (const MetricSpec* spec : metric_catalog()) catalog_order.emplace_back(spec->name);
  CHECK(type_lines == catalog_order);
}

TEST_CASE("the catalog has the names the alert rules are written on", "[metrics]") {
  // Spelled out here, not read from the catalog: renaming one is a change of the contract.
  std::map<std::string, std::string> want = {
      {"portman_finding", "kind,port,protocol,service_name,process"},
      {"portman_findings", "kind"},
      {"portman_port_up", "port,protocol"},
      {"portman_registered_port_info",
       "port,protocol,service_name,service_env,service_owner,service_type,status"},
      {"portman_registry_present", ""},
      {"portman_registry_valid", ""},
      {"portman_sockets_owner_unknown", ""},
      {"portman_processes_unreadable", ""}};
  std::map<std::string, std::string> got;
  for (const MetricSpec* spec : metric_catalog()) got[std::string(spec->name)] = label_list(*spec);
  for (const auto& [name, labels] : want) {
    INFO(name);
    REQUIRE(got.count(name) == 1);
    CHECK(got[name] == labels);
  }
  for (const char* gone : {"portman_conflict", "portman_conflicts", "portman_unregistered_ports"})
    CHECK(got.count(gone) == 0);
}

namespace {

// The rows of the table under "## The metrics" in docs/metrics.md: name, type and label names.
std::map<std::string, std::string> documented_metrics() {
  auto docs = std::filesystem::path(PORTMAN_FIXTURES_DIR).parent_path().parent_path() / "docs" /
              "metrics.md";
  std::istringstream in(portman::test::slurp(docs.string()));
  std::map<std::string, std::string> out;  // name -> "type labels"
  bool in_section = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## The metrics";
    if (!in_section || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::istringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) {
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
    }
    REQUIRE(cells.size() >= 4);
    auto strip = [](std::string s) {
      s.erase(std::remove(s.begin(), s.end(), '`'), s.end());
      s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
      return s;
    };
    INFO(line);
    CHECK(out.emplace(strip(cells[0]), cells[1] + " " + strip(cells[2])).second);
  }
  return out;
}

}  // namespace

TEST_CASE("docs/metrics.md lists exactly the catalog: names, types and labels", "[metrics]") {
  auto documented = documented_metrics();
  std::map<std::string, std::string> catalog;
  for (const MetricSpec* spec : metric_catalog())
    catalog[std::string(spec->name)] = type_name(spec->type) + " " + label_list(*spec);
  for (const auto& [name, row] : catalog) {
    INFO(name << " in the catalog: " << row);
    CHECK(documented[name] == row);
  }
  for (const auto& [name, row] : documented) {
    INFO(name << " in docs/metrics.md");
    CHECK(catalog.count(name) == 1);
  }
}

TEST_CASE("build info, registry state and collector runs", "[metrics]") {
  Exposition e = render(realistic_snapshot());
  CHECK(value_of(e, "portman_build_info", {{"version", "0.1.0"}, {"revision", "abc123def456"}}) ==
        "1");
  CHECK(value_of(e, "portman_scrape_collector_success", {{"collector", "sockets"}}) == "1");
  CHECK(value_of(e, "portman_scrape_collector_success", {{"collector", "owners"}}) == "0");
  CHECK(value_of(e, "portman_scrape_collector_duration_seconds", {{"collector", "sockets"}}) ==
        "0.5");
  CHECK(value_of(e, "portman_scrape_collector_duration_seconds", {{"collector", "owners"}}) ==
        "0.25");
  CHECK(value_of(e, "portman_registry_valid") == "0");
  CHECK(value_of(e, "portman_registry_present") == "1");
  CHECK(value_of(e, "portman_registry_last_reload_success_timestamp_seconds") == "1762084800");
  CHECK(value_of(e, "portman_listener_changes_total") == "42");

  Snapshot valid = realistic_snapshot();
  valid.registry_valid = true;
  CHECK(value_of(render(valid), "portman_registry_valid") == "1");

  Snapshot missing = realistic_snapshot();
  missing.registry_present = false;
  Exposition m = render(missing);
  CHECK(value_of(m, "portman_registry_present") == "0");
  CHECK(value_of(m, "portman_registry_valid") == "0");
}

TEST_CASE("sockets without a known owner are counted, and unreadable processes are the detail",
          "[metrics]") {
  // 53/udp and 10500/udp have no owner while 3 processes could not be read.
  Exposition e = render(realistic_snapshot());
  CHECK(value_of(e, "portman_sockets_owner_unknown") == "2");
  CHECK(value_of(e, "portman_processes_unreadable") == "3");

  // Every socket has its owner: an unreadable process (PID 1 of a container) is no alarm.
  Snapshot owned = realistic_snapshot();
  std::erase_if(owned.live.sockets, [](const ListeningSocket& s) { return s.owners.empty(); });
  owned.live.processes_unreadable = 1;
  Exposition o = render(owned);
  CHECK(value_of(o, "portman_sockets_owner_unknown") == "0");
  CHECK(value_of(o, "portman_processes_unreadable") == "1");

  // Every process read: a socket without an owner is one no process holds (a kernel socket).
  Snapshot kernel = realistic_snapshot();
  kernel.live.processes_unreadable = 0;
  CHECK(value_of(render(kernel), "portman_sockets_owner_unknown") == "0");
}

TEST_CASE("one listening_port_info series per socket, with owner, container and service",
          "[metrics]") {
  Exposition e = render(realistic_snapshot());
  // 14 sockets; the two SO_REUSEPORT workers of port 4001 give one series, not a duplicate.
  CHECK(find(e, "portman_listening_port_info").size() == 13);
  CHECK(find(e, "portman_listening_port_info", {{"port", "4001"}}).size() == 1);
  // In port order (numeric, not as strings), whatever order the scan found them in.
  std::vector<int> ports;
  for (const Series& s : find(e, "portman_listening_port_info"))
    ports.push_back(std::stoi(s.labels.at("port")));
  CHECK(std::is_sorted(ports.begin(), ports.end()));
  CHECK(ports.front() == 53);
  CHECK(ports.back() == 10500);

  auto v6 = find(e, "portman_listening_port_info",
                 {{"port", "3000"}, {"protocol", "tcp"}, {"address", "::"}});
  REQUIRE(v6.size() == 1);
  CHECK(v6[0].value == "1");
  CHECK(v6[0].labels == std::map<std::string, std::string>{{"port", "3000"},
                                                           {"protocol", "tcp"},
                                                           {"address", "::"},
                                                           {"process", "node"},
                                                           {"user", "www"},
                                                           {"container", ""},
                                                           {"service_name", "frontend"}});

  // Unknown owner: empty process and user; a registered UDP port gets its service name.
  auto dns = find(e, "portman_listening_port_info", {{"port", "53"}, {"protocol", "udp"}});
  REQUIRE(dns.size() == 1);
  CHECK(dns[0].labels.at("process").empty());
  CHECK(dns[0].labels.at("user").empty());
  CHECK(dns[0].labels.at("address") == "127.0.0.53");
  CHECK(dns[0].labels.at("service_name") == "dns");

  // A container shows as its 12-character short id; an unregistered port has no service name.
  auto c = find(e, "portman_listening_port_info", {{"port", "4000"}});
  REQUIRE(c.size() == 1);
  CHECK(c[0].labels.at("container") == "3f4e5d6c7b8a");
  CHECK(c[0].labels.at("user") == "alice");
  CHECK(c[0].labels.at("service_name").empty());

  // 53/tcp is not registered (only 53/udp is): protocols are kept apart.
  Snapshot snap = realistic_snapshot();
  snap.live.sockets.push_back(sock("127.0.0.53", 53, {}, 99));
  auto tcp53 =
      find(render(snap), "portman_listening_port_info", {{"port", "53"}, {"protocol", "tcp"}});
  REQUIRE(tcp53.size() == 1);
  CHECK(tcp53[0].labels.at("service_name").empty());
}

TEST_CASE("a series seen before is dropped however far apart the two are", "[metrics]") {
  // 3,000 sockets, each twice (SO_REUSEPORT workers), with owners long enough that the family's
  // text outgrows what was reserved for it and moves: each second copy must still be known.
  Snapshot snap = realistic_snapshot();
  snap.live.sockets.clear();
  const Owner o = owner(7, std::string(300, 'w'), "www");
  for (std::uint16_t i = 0; i < 3000; ++i) {
    snap.live.sockets.push_back(sock("10.0.0.1", static_cast<std::uint16_t>(20000 + i), {o}, i));
    snap.live.sockets.push_back(
        sock("10.0.0.1", static_cast<std::uint16_t>(20000 + i), {o}, 100000 + i));
  }
  // One more on a port seen at the start, with another user: a series of its own.
  snap.live.sockets.push_back(sock("10.0.0.1", 20000, {owner(8, std::string(300, 'w'), "x")}, 9));
  Exposition e = render(snap);
  CHECK(find(e, "portman_listening_port_info").size() == 3001);
  CHECK(find(e, "portman_listening_port_info", {{"port", "20000"}}).size() == 2);
  CHECK(find(e, "portman_listening_port_info", {{"port", "22999"}}).size() == 1);
}

TEST_CASE("registered_port_info and port_up, one series per registry entry", "[metrics]") {
  Snapshot snap = realistic_snapshot();
  Exposition e = render(snap);
  CHECK(find(e, "portman_registered_port_info").size() == snap.registry->entries().size());
  CHECK(find(e, "portman_port_up").size() == snap.registry->entries().size());

  auto front = find(e, "portman_registered_port_info", {{"port", "3000"}});
  REQUIRE(front.size() == 1);
  CHECK(front[0].value == "1");
  CHECK(front[0].labels == std::map<std::string, std::string>{{"port", "3000"},
                                                              {"protocol", "tcp"},
                                                              {"service_name", "frontend"},
                                                              {"service_env", "production"},
                                                              {"service_owner", "web-team"},
                                                              {"service_type", "web"},
                                                              {"status", "active"}});
  // An alias in the file ("ai") is reported as the type's name, to join with range_ports.
  CHECK(value_of(e, "portman_registered_port_info",
                 {{"port", "8100"}, {"service_type", "ml"}, {"status", "inactive"}}) == "1");
  // Every status of the default config appears.
  for (const char* status : {"allocated", "active", "inactive", "needs_pairing", "maintenance",
                             "deprecated", "reserved"}) {
    INFO(status);
    CHECK_FALSE(find(e, "portman_registered_port_info", {{"status", status}}).empty());
  }

  CHECK(value_of(e, "portman_port_up", {{"port", "3000"}, {"protocol", "tcp"}}) == "1");
  CHECK(value_of(e, "portman_port_up", {{"port", "53"}, {"protocol", "udp"}}) == "1");
  CHECK(value_of(e, "portman_port_up", {{"port", "8001"}, {"protocol", "tcp"}}) == "0");
  CHECK(value_of(e, "portman_port_up", {{"port", "9001"}}) == "0");
  CHECK(find(e, "portman_port_up", {{"port", "9000"}})[0].labels ==
        std::map<std::string, std::string>{{"port", "9000"}, {"protocol", "tcp"}});
}

TEST_CASE("port_up keeps its series when the service is renamed or changes status", "[metrics]") {
  auto port_up_lines = [](const Snapshot& snap) {
    std::istringstream in(render_metrics(snap, kBuild));
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
      if (line.rfind("portman_port_up{", 0) == 0) out.push_back(line);
    return out;
  };
  auto with_registry = [](const std::string& json) {
    Snapshot snap = realistic_snapshot();
    auto reg = Registry::parse(json, "registry.json");
    REQUIRE(reg.ok());
    snap.registry = std::make_shared<const Registry>(std::move(reg).value());
    return snap;
  };
  Snapshot before = with_registry(
      R"({"allocations": {"3000": {"service": "shop", "status": "active", "environment": "production"}}})");
  Snapshot after = with_registry(
      R"({"allocations": {"3000": {"service": "storefront", "status": "maintenance", "environment": "staging"}}})");
  REQUIRE(port_up_lines(before) ==
          std::vector<std::string>{"portman_port_up{port=\"3000\",protocol=\"tcp\"} 1"});
  CHECK(port_up_lines(after) == port_up_lines(before));
  // The metadata moved to the info metric, where the rename shows.
  CHECK(value_of(render(after), "portman_registered_port_info",
                 {{"port", "3000"}, {"service_name", "storefront"}, {"status", "maintenance"}}) ==
        "1");
}

TEST_CASE("finding series per finding, and findings counted per kind", "[metrics]") {
  Snapshot snap = realistic_snapshot();
  Exposition e = render(snap);

  const std::map<std::string, std::string> counts = {
      {"unregistered", "5"},     {"registered_down", "1"}, {"status_mismatch", "2"},
      {"owner_mismatch", "1"},   {"out_of_range", "1"},    {"duplicate", "1"},
      {"exposure_mismatch", "1"}};
  CHECK(find(e, "portman_findings").size() == std::size(kAllFindingKinds));
  for (const auto& [kind, n] : counts) {
    INFO(kind);
    CHECK(value_of(e, "portman_findings", {{"kind", kind}}) == n);
  }
  CHECK(find(e, "portman_finding").size() == snap.findings.size());

  CHECK(find(e, "portman_finding", {{"port", "4000"}})[0].labels ==
        std::map<std::string, std::string>{{"kind", "unregistered"},
                                           {"port", "4000"},
                                           {"protocol", "tcp"},
                                           {"service_name", ""},
                                           {"process", "node"}});
  CHECK(value_of(e, "portman_finding",
                 {{"kind", "owner_mismatch"}, {"port", "9000"}, {"process", "nginx"}}) == "1");
  CHECK(value_of(e, "portman_finding",
                 {{"kind", "registered_down"}, {"port", "8001"}, {"process", ""}}) == "1");
  CHECK(value_of(e, "portman_finding",
                 {{"kind", "unregistered"}, {"port", "10500"}, {"protocol", "udp"}}) == "1");
  CHECK(value_of(e, "portman_finding", {{"kind", "duplicate"}, {"port", "8080"}}) == "1");

  // With no findings every kind is still there, at 0; identical findings give one series.
  Snapshot clean = realistic_snapshot();
  clean.findings.clear();
  Exposition c = render(clean);
  for (FindingKind kind : kAllFindingKinds)
    CHECK(value_of(c, "portman_findings", {{"kind", std::string(to_string(kind))}}) == "0");
  CHECK(find(c, "portman_finding").empty());

  Snapshot twice = realistic_snapshot();
  twice.findings.push_back(twice.findings.front());
  CHECK(find(render(twice), "portman_finding").size() == snap.findings.size());
}

TEST_CASE("an agent's own socket is portman-agent's, not an unregistered finding", "[metrics]") {
  Snapshot snap = realistic_snapshot();
  Owner agent = owner(900, "portman", "prometheus");
  agent.cmdline = "/usr/bin/portman --config /etc/portman/portman.yml agent";
  snap.live.sockets.push_back(sock("0.0.0.0", 9097, {agent}, 90));
  snap.findings = compare(*snap.registry, snap.live, *snap.config);
  Exposition e = render(snap);
  CHECK(value_of(e, "portman_listening_port_info", {{"port", "9097"}}) == "1");
  CHECK(find(e, "portman_listening_port_info", {{"port", "9097"}})[0].labels.at("service_name") ==
        "portman-agent");
  CHECK(find(e, "portman_finding", {{"port", "9097"}}).empty());
  CHECK(value_of(e, "portman_findings", {{"kind", "unregistered"}}) == "5");  // as without it

  // A process named portman that is not the agent gets no such pass.
  Snapshot cli = realistic_snapshot();
  Owner other = owner(901, "portman", "root");
  other.cmdline = "portman scan --json";
  cli.live.sockets.push_back(sock("0.0.0.0", 9097, {other}, 91));
  cli.findings = compare(*cli.registry, cli.live, *cli.config);
  CHECK(value_of(render(cli), "portman_finding", {{"kind", "unregistered"}, {"port", "9097"}}) ==
        "1");
}

TEST_CASE("range_ports: each type's range by state, adding up to its size", "[metrics]") {
  Snapshot snap = realistic_snapshot();
  Exposition e = render(snap);
  auto range = [&](const std::string& type, const std::string& state) {
    return value_of(e, "portman_range_ports", {{"service_type", type}, {"state", state}});
  };
  CHECK(find(e, "portman_range_ports").size() == 4 * snap.config->types.size());
  for (const ServiceType& t : snap.config->types) {
    long sum = 0;
    for (const char* state : {"allocated", "unregistered", "unavailable", "free"})
      sum += std::stol(range(t.name, state));
    INFO(t.name);
    CHECK(sum == t.range.size());
  }
  CHECK(range("web", "allocated") == "1");
  CHECK(range("web", "free") == "99");
  CHECK(range("database", "allocated") == "1");
  CHECK(range("database", "unregistered") == "1");  // avahi on 5353/udp
  CHECK(range("api", "unregistered") == "1");       // 8080 listens: reserved does not hide it
  CHECK(range("api", "free") == "98");
  CHECK(range("monitoring", "allocated") == "4");
  CHECK(range("dynamic", "allocated") == "1");
  CHECK(range("dynamic", "unregistered") == "1");  // 10500/udp
  CHECK(range("dynamic", "unavailable") == "1");   // 10005 released a day ago, 10006 long ago
  CHECK(range("dynamic", "free") == "997");
}

TEST_CASE("range_ports agrees with PortPlanner port by port, ignore rules included", "[metrics]") {
  Config config = default_config();
  config.ignore.ports = {{10100, 10199}, {10150, 10300}, {10990, 11500}, {20, 25}};
  config.reserved.push_back(10400);
  Snapshot snap = realistic_snapshot(config);
  snap.live.sockets.push_back(sock("0.0.0.0", 10160, {owner(900, "ignored", "x")}, 50));
  Exposition e = render(snap);

  PortPlanner planner(*snap.config, *snap.registry, snap.live, snap.taken_at);
  for (const ServiceType& t : snap.config->types) {
    std::map<std::string, long> expected;
    for (int p = t.range.first; p <= t.range.last; ++p) {
      auto port = static_cast<std::uint16_t>(p);
      PortState st =
          std::min(planner.state({port, Protocol::tcp}), planner.state({port, Protocol::udp}));
      ++expected[std::string(to_string(st))];
    }
    for (const char* state : {"allocated", "unregistered", "unavailable", "free"}) {
      INFO(t.name << " " << state);
      CHECK(value_of(e, "portman_range_ports", {{"service_type", t.name}, {"state", state}}) ==
            std::to_string(expected[state]));
    }
  }
  CHECK(
      value_of(e, "portman_range_ports", {{"service_type", "dynamic"}, {"state", "unavailable"}}) ==
      std::to_string(201 - 1 + 10 + 1 + 1));  // ignored minus the listening 10160, 10400, 10005
}

TEST_CASE("label values are escaped as the text format requires", "[metrics]") {
  std::string text = render_metrics(realistic_snapshot(), kBuild);
  CHECK_THAT(text, Catch::Contains(R"(service_name="api \"quoted\" \\ back\nslash")"));
  CHECK_THAT(text, !Catch::Contains("back\nslash"));
  Exposition e = parse_exposition(text);
  CHECK(value_of(e, "portman_registered_port_info",
                 {{"service_name", "api \"quoted\" \\ back\nslash"}}) == "1");
}

// The agent writes the text format itself (agent/exposition.hpp) instead of through
// prometheus-cpp's model: the same series through prometheus-cpp's serializer must give the same
// bytes, hostile label values and fractional values included.
TEST_CASE("the whole output is what prometheus-cpp's serializer writes for the same series",
          "[metrics][exposition]") {
  Snapshot snap = realistic_snapshot();
  Owner evil = snap.live.sockets[0].owners[0];
  evil.process = "evil\"} 1\nportman_fake{a=\"\\";
  snap.live.sockets[0].owners = {evil};
  snap.live.runs[0].duration_seconds = 0.0123456789012345678;
  const std::string text = render_metrics(snap, kBuild);
  Exposition e = parse_exposition(text);
  std::vector<prometheus::MetricFamily> families;
  for (const std::string& name : e.families) {
    const std::string& type = e.type.at(name);
    REQUIRE((type == "gauge" || type == "counter"));
    prometheus::MetricFamily f{
        name,
        e.help.at(name),
        type == "counter" ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge,
        {}};
    for (const Series& s : e.samples) {
      if (s.name != name) continue;
      prometheus::ClientMetric m;
      for (const auto& [k, v] : s.labels_in_order) m.label.push_back({k, v});
      double value = std::strtod(s.value.c_str(), nullptr);
      (type == "counter" ? m.counter.value : m.gauge.value) = value;
      f.metric.push_back(std::move(m));
    }
    families.push_back(std::move(f));
  }
  std::ostringstream reference;
  prometheus::TextSerializer().Serialize(reference, families);
  CHECK(e.samples.size() > 20);
  CHECK(text == reference.str());
}

TEST_CASE("no pid label and no command line anywhere", "[metrics]") {
  std::string text = render_metrics(realistic_snapshot(), kBuild);
  CHECK_THAT(text, !Catch::Contains("hunter2"));
  CHECK_THAT(text, !Catch::Contains("pid="));
  CHECK_THAT(text, !Catch::Contains("/usr/bin/"));
}

TEST_CASE("process metrics describe the agent itself", "[metrics]") {
  Exposition e = render(realistic_snapshot());
  CHECK(std::stod(value_of(e, "process_start_time_seconds")) > 1.6e9);
  CHECK(std::stod(value_of(e, "process_resident_memory_bytes")) > 1e5);
  CHECK(std::stod(value_of(e, "process_virtual_memory_bytes")) >=
        std::stod(value_of(e, "process_resident_memory_bytes")));
  CHECK(std::stod(value_of(e, "process_cpu_seconds_total")) >= 0);
  double open = std::stod(value_of(e, "process_open_fds"));
  CHECK(open >= 3);  // stdin, stdout, stderr at least
  CHECK(std::stod(value_of(e, "process_max_fds")) >= open);
}

TEST_CASE("an empty snapshot renders, without a registry or a config", "[metrics]") {
  Snapshot snap;
  Exposition e = render(snap);
  CHECK(find(e, "portman_listening_port_info").empty());
  CHECK(find(e, "portman_range_ports").empty());
  CHECK(find(e, "portman_findings").size() == std::size(kAllFindingKinds));
  CHECK(value_of(e, "portman_registry_valid") == "1");
  CHECK(value_of(e, "portman_registry_present") == "1");
  CHECK(value_of(e, "portman_sockets_owner_unknown") == "0");
  CHECK(e.type["portman_listening_port_info"] == "gauge");
}

TEST_CASE("promtool check metrics accepts the output", "[metrics][promtool]") {
  const char* promtool = "/usr/bin/promtool";
  if (access(promtool, X_OK) != 0)
    FAIL("promtool not found: install the Debian package prometheus");
  std::string text = render_metrics(realistic_snapshot(), kBuild);

  char path[] = "/tmp/portman-metrics-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);

  std::string command = std::string(promtool) + " check metrics < " + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::string output;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) output.append(buf, n);
  int status = pclose(pipe);
  std::filesystem::remove(path);

  INFO("promtool said: " << output);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(output.empty());
}

namespace {

// A decimal comma for C++ streams, for when no comma locale is installed.
struct CommaDecimal : std::numpunct<char> {
  char do_decimal_point() const override { return ','; }
};

// Sets LC_NUMERIC to a comma-decimal locale: an installed one, else one compiled with localedef
// into `dir` (glibc reads LOCPATH on every setlocale). Empty when neither works.
std::string set_comma_c_locale(const std::filesystem::path& dir) {
  for (const char* name : {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "nl_NL.UTF-8"})
    if (std::setlocale(LC_NUMERIC, name)) return name;
  if (access("/usr/bin/localedef", X_OK) != 0) return {};
  std::string command =
      "/usr/bin/localedef -i de_DE -f UTF-8 " + (dir / "de_DE.UTF-8").string() + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) return {};
  setenv("LOCPATH", dir.c_str(), 1);
  return std::setlocale(LC_NUMERIC, "de_DE.UTF-8") ? "de_DE.UTF-8 (LOCPATH)" : "";
}

}  // namespace

TEST_CASE("the output does not depend on the process locale", "[metrics][locale]") {
  Snapshot snap = realistic_snapshot();
  const std::string plain = render_metrics(snap, kBuild);
  const std::string line = "portman_scrape_collector_duration_seconds{collector=\"sockets\"} 0.5\n";
  REQUIRE_THAT(plain, Catch::Contains(line));

  auto dir =
      std::filesystem::temp_directory_path() / ("portman-locale-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string saved_c = std::setlocale(LC_NUMERIC, nullptr);
  std::locale saved_cpp;

  std::string c_locale = set_comma_c_locale(dir);
  if (c_locale.empty()) {
    WARN("no comma-decimal C locale available; checking the C++ global locale only");
  } else {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f", 0.5);
    CHECK(std::string(buf) == "0,5");  // the locale really is in force
    std::string out = render_metrics(snap, kBuild);
    CHECK_THAT(out, Catch::Contains(line));
    CHECK_THAT(out, !Catch::Contains("0,5"));
  }

  std::locale::global(std::locale(std::locale::classic(), new CommaDecimal));
  std::ostringstream probe;
  probe << 0.5;
  CHECK(probe.str() == "0,5");  // streams made now use the comma
  std::string out = render_metrics(snap, kBuild);
  CHECK_THAT(out, Catch::Contains(line));
  CHECK_THAT(out, !Catch::Contains("0,5"));

  std::locale::global(saved_cpp);
  std::setlocale(LC_NUMERIC, saved_c.c_str());
  unsetenv("LOCPATH");
  std::filesystem::remove_all(dir);
}
