// The JSON that scripts read from `scan --json`: keys, values and summary counts.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "libportman/report.hpp"
#include "unit/support.hpp"

using namespace portman;
using namespace portman::test;

namespace {

std::set<std::string> keys_of(const Json& obj) {
  std::set<std::string> out;
  for (const auto& [k, v] : obj.items()) out.insert(k);
  return out;
}

struct Scan {
  Registry reg = registry(R"({
      "3000": {"service": "web", "status": "active", "x-team": "blue"},
      "3001": {"service": "gone", "status": "active"},
      "3002": {"service": "idle", "status": "allocated"},
      "53/udp": {"service": "dns", "status": "active"}})");
  LiveState live;
  std::vector<Finding> findings;

  Scan() {
    Owner master = owner(100, "nginx", "/usr/sbin/nginx", "nginx: master process");
    master.user = "root";
    master.container = "";
    master.unit = "nginx.service";
    Owner worker = owner(101, "nginx", "/usr/sbin/nginx", "nginx: worker process");
    worker.user = "www-data";
    Owner unknown_cont = owner(200, "node", "", "node server.js");
    unknown_cont.container = std::string(64, 'a');
    live.sockets = {sock("0.0.0.0", 3000, {worker, master}, 1),
                    sock("0.0.0.0", 8080, {unknown_cont}, 2),
                    sock("127.0.0.53", 53, {owner(300, "systemd-resolve")}, 3, Protocol::udp),
                    sock("::", 9100, {}, 4)};
    live.sockets[3].owner_unknown = "permission denied reading /proc/4242/fd";
    live.socket_source = "netlink";
    live.owner_source = "bpf";
    live.runs.push_back({"sockets", true, 0.01, ""});
    findings = compare(reg, live, default_config());
  }
};

}  // namespace

TEST_CASE("scan_report has the listening, findings and summary keys scripts rely on", "[report]") {
  Scan s;
  Json j = scan_report(s.reg, s.live, s.findings);
  for (const char* key : {"listening", "findings", "summary"}) {
    INFO(key);
    CHECK(j.contains(key));
  }
  REQUIRE(j["listening"].size() == 4);
  const std::set<std::string> listening_keys = {"port",    "protocol",     "address", "pid",
                                                "process", "user",         "cmdline", "container",
                                                "unit",    "service_name", "owners"};
  for (const auto& l : j["listening"]) {
    auto k = keys_of(l);
    for (const auto& want : listening_keys) {
      INFO(want);
      CHECK(k.count(want) == 1);
    }
  }
  REQUIRE(j["findings"].size() == s.findings.size());
  for (const auto& f : j["findings"])
    CHECK(keys_of(f) ==
          std::set<std::string>{"kind", "port", "protocol", "service_name", "process", "detail"});
  CHECK(keys_of(j["summary"]) ==
        std::set<std::string>{"listening", "registered", "unregistered", "down", "findings"});
}

TEST_CASE("scan_report fills each socket from its main owner and its registry entry", "[report]") {
  Scan s;
  Json j = scan_report(s.reg, s.live, s.findings);
  const Json& web = j["listening"][0];
  CHECK(web["port"] == 3000);
  CHECK(web["protocol"] == "tcp");
  CHECK(web["address"] == "0.0.0.0");
  CHECK(web["pid"] == 100);  // the lowest pid, not the first listed
  CHECK(web["process"] == "nginx");
  CHECK(web["user"] == "root");
  CHECK(web["cmdline"] == "nginx: master process");
  CHECK(web["container"] == "");
  CHECK(web["unit"] == "nginx.service");
  CHECK(web["service_name"] == "web");
  REQUIRE(web["owners"].size() == 2);  // all owners, in the collector's order
  CHECK(web["owners"][0]["pid"] == 101);
  CHECK(web["owners"][0]["user"] == "www-data");
  CHECK(web["owners"][1]["pid"] == 100);
  CHECK(keys_of(web["owners"][0]) ==
        std::set<std::string>{"pid", "process", "user", "cmdline", "container", "unit"});

  const Json& node = j["listening"][1];
  CHECK(node["service_name"] == "");
  CHECK(node["container"] == std::string(64, 'a'));

  const Json& dns = j["listening"][2];
  CHECK(dns["protocol"] == "udp");
  CHECK(dns["service_name"] == "dns");
  CHECK(dns["process"] == "systemd-resolve");

  const Json& unknown = j["listening"][3];
  CHECK(unknown["address"] == "::");
  CHECK(unknown["pid"].is_null());  // owner unknown: no pid rather than a made-up 0
  CHECK(unknown["process"] == "");
  CHECK(unknown["owners"] == Json::array());
  CHECK(unknown["owner_unknown"] == "permission denied reading /proc/4242/fd");
}

TEST_CASE("scan_report findings and summary counts match the comparison", "[report]") {
  Scan s;
  Json j = scan_report(s.reg, s.live, s.findings);
  // 3001 down; 8080 and 9100 unregistered; nothing else.
  REQUIRE(s.findings.size() == 3);
  const Json& f = j["findings"];
  CHECK(f[0]["kind"] == "registered_down");
  CHECK(f[0]["port"] == 3001);
  CHECK(f[0]["protocol"] == "tcp");
  CHECK(f[0]["service_name"] == "gone");
  CHECK(f[0]["process"] == "");
  CHECK(f[0]["detail"] == "status active but nothing listens on 3001/tcp");
  CHECK(f[1]["kind"] == "unregistered");
  CHECK(f[1]["port"] == 8080);
  CHECK(f[1]["process"] == "node");
  CHECK(f[2]["kind"] == "unregistered");
  CHECK(f[2]["port"] == 9100);

  const Json& sum = j["summary"];
  CHECK(sum["listening"] == 4);
  CHECK(sum["registered"] == 4);
  CHECK(sum["unregistered"] == 2);
  CHECK(sum["down"] == 1);
  CHECK(sum["findings"] == 3);
  CHECK(j["socket_source"] == "netlink");
  CHECK(j["owner_source"] == "bpf");
}

TEST_CASE("scan_report counts the sockets whose owner is unknown, unreadable processes apart",
          "[report]") {
  Scan s;
  s.live.processes_unreadable = 2;  // 9100 has no owner: its owner may be one of them
  Json j = scan_report(s.reg, s.live, s.findings);
  CHECK(j["sockets_owner_unknown"] == 1);
  CHECK(j["processes_unreadable"] == 2);
  s.live.sockets.pop_back();  // every socket has its owner: nothing is unknown
  CHECK(scan_report(s.reg, s.live, s.findings)["sockets_owner_unknown"] == 0);
}

TEST_CASE("scan_report names an agent's own socket portman-agent", "[report]") {
  Scan s;
  s.live.sockets.push_back(
      sock("0.0.0.0", 9097, {owner(500, "portman", "/usr/bin/portman", "portman agent")}, 5));
  s.findings = compare(s.reg, s.live, default_config());
  Json j = scan_report(s.reg, s.live, s.findings);
  CHECK(j["listening"][4]["port"] == 9097);
  CHECK(j["listening"][4]["service_name"] == "portman-agent");
  CHECK(j["summary"]["unregistered"] == 2);  // 8080 and 9100, not the agent
  CHECK(j["summary"]["registered"] == 4);    // the registry's entries, nothing added
}

TEST_CASE("an empty scan reports empty lists and zero counts", "[report]") {
  Registry empty;
  LiveState none;
  Json j = scan_report(empty, none, {});
  CHECK(j["listening"] == Json::array());
  CHECK(j["findings"] == Json::array());
  CHECK(
      j["summary"] ==
      Json{{"listening", 0}, {"registered", 0}, {"unregistered", 0}, {"down", 0}, {"findings", 0}});
}

TEST_CASE("entry_json is the registry object plus port and protocol", "[report]") {
  Scan s;
  Json web = entry_json(*s.reg.find({3000, Protocol::tcp}));
  CHECK(web["service"] == "web");
  CHECK(web["x-team"] == "blue");  // unknown fields pass through
  CHECK(web["port"] == 3000);
  CHECK(web["protocol"] == "tcp");
  Json dns = entry_json(*s.reg.find({53, Protocol::udp}));
  CHECK(dns["port"] == 53);
  CHECK(dns["protocol"] == "udp");
}

TEST_CASE("stream_scan_report hands on the same report in pieces of bounded size", "[report]") {
  Scan s;
  // Enough sockets for a report of several pieces (each socket writes about 600 bytes).
  const ListeningSocket model = s.live.sockets[0];
  for (std::uint16_t port = 10000; port < 10400; ++port) {
    ListeningSocket copy = model;
    copy.port = port;
    s.live.sockets.push_back(copy);
  }
  s.findings = compare(s.reg, s.live, default_config());
  const std::string whole = scan_report_text(s.reg, s.live, s.findings);
  REQUIRE(whole.size() > 3 * 64 * 1024);

  std::vector<std::size_t> sizes;
  std::string joined;
  stream_scan_report(s.reg, s.live, s.findings, [&](std::string_view piece) {
    sizes.push_back(piece.size());
    joined += piece;
  });
  CHECK(joined == whole);
  CHECK(sizes.size() >= 3);
  // A piece ends at the first socket or finding past 64 KiB: never much more.
  for (std::size_t n : sizes) CHECK(n < 64 * 1024 + 4096);
}
