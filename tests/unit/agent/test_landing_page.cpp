// `/`: the landing page. Every value a registry or a process can choose is escaped; the page is
// whole without any other request.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "agent/landing_page.hpp"
#include "unit/support.hpp"

using namespace portman;
using namespace portman::agent;

namespace {

ListeningSocket sock(std::string address, std::uint16_t port, std::string process,
                     std::uint64_t inode, Protocol protocol = Protocol::tcp) {
  std::vector<Owner> owners;
  if (!process.empty()) {
    owners.push_back(test::owner(static_cast<pid_t>(1000 + inode), process));
    owners.back().cmdline = process + " --token=s3cret";
  }
  return test::sock(std::move(address), port, std::move(owners), inode, protocol);
}

Snapshot snapshot(const std::string& allocations, std::vector<ListeningSocket> sockets) {
  auto reg = Registry::parse("{\"allocations\": " + allocations + "}", "test-registry.json");
  REQUIRE(reg.ok());
  Snapshot snap;
  snap.registry = std::make_shared<const Registry>(std::move(reg).value());
  snap.config = std::make_shared<const Config>(default_config());
  snap.live.sockets = std::move(sockets);
  snap.live.runs = {{"sockets", true, 0.0021, ""}, {"owners", false, 0.5, "EACCES <denied>"}};
  snap.findings = compare(*snap.registry, snap.live, *snap.config);
  return snap;
}

const BuildInfo kBuild{"0.1.0<b>", "deadbeef"};

// The <tr> element that contains `needle`.
std::string row_with(const std::string& page, const std::string& needle) {
  auto at = page.find(needle);
  REQUIRE(at != std::string::npos);
  auto start = page.rfind("<tr", at);
  auto end = page.find("</tr>", at);
  REQUIRE(start != std::string::npos);
  REQUIRE(end != std::string::npos);
  return page.substr(start, end - start);
}

}  // namespace

TEST_CASE("html_escape replaces the five special characters", "[landing]") {
  CHECK(html_escape("") == "");
  CHECK(html_escape("plain text 123") == "plain text 123");
  CHECK(html_escape("<a href=\"x\">Tom & Jerry's</a>") ==
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  CHECK(html_escape("&amp;") == "&amp;amp;");        // escaped again, never trusted
  CHECK(html_escape("Zoë 運用 🚀") == "Zoë 運用 🚀");  // UTF-8 passes through
}

TEST_CASE("the landing page is a whole HTML5 page with the links", "[landing]") {
  Snapshot snap = snapshot(R"({"3000": {"service": "web", "status": "active"}})",
                           {sock("0.0.0.0", 3000, "node", 1)});
  std::string page = render_landing_page(snap, kBuild, "/metrics");
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK_THAT(page, Catch::Contains("<title>portman agent</title>"));
  CHECK_THAT(page, Catch::Contains("<meta charset=\"utf-8\">"));
  CHECK_THAT(page, Catch::EndsWith("</html>\n"));
  CHECK_THAT(page, Catch::Contains("href=\"/metrics\""));
  CHECK_THAT(page, Catch::Contains("href=\"/api/scan\""));
  CHECK_THAT(page, Catch::Contains("href=\"/healthz\""));
  CHECK_THAT(page, Catch::Contains("version 0.1.0&lt;b&gt;, revision deadbeef"));
  CHECK_THAT(page, Catch::Contains("1 listening, 1 registered, 0 unregistered, 0 findings"));
  // Self-contained: no scripts, no external assets.
  CHECK_THAT(page, !Catch::Contains("<script"));
  CHECK_THAT(page, !Catch::Contains("src="));
  CHECK_THAT(page, !Catch::Contains("<link"));
  CHECK_THAT(page, !Catch::Contains("http://"));
  CHECK_THAT(page, !Catch::Contains("https://"));

  // A telemetry path chosen by the operator is escaped too.
  std::string other = render_landing_page(snap, kBuild, "/m\"etrics");
  CHECK_THAT(other, Catch::Contains("href=\"/m&quot;etrics\""));
}

TEST_CASE("the landing page says where the sockets and their owners came from", "[landing]") {
  Snapshot snap = snapshot("{}", {sock("0.0.0.0", 3000, "node", 1)});
  snap.live.socket_source = "netlink";
  snap.live.owner_source = "bpf";
  CHECK_THAT(render_landing_page(snap, kBuild, "/metrics"),
             Catch::Contains("(sockets from netlink, owners from bpf)"));
  snap.live.owner_source = "procfs";
  CHECK_THAT(render_landing_page(snap, kBuild, "/metrics"),
             Catch::Contains("(sockets from netlink, owners from procfs)"));
  snap.live.owner_source.clear();  // the owners collector is off
  CHECK_THAT(render_landing_page(snap, kBuild, "/metrics"),
             Catch::Contains("(sockets from netlink)"));
}

TEST_CASE("names from the registry and from processes are escaped, never raw", "[landing]") {
  Snapshot snap = snapshot(
      R"({"3000": {"service": "<script>alert(1)</script>", "status": "active",
                   "environment": "production", "owner": "o'brien"},
          "8001": {"service": "api & \"co\"", "status": "act<ive"}})",
      {sock("0.0.0.0", 3000, "a&\"'b", 1), sock("::", 4000, "x<y>", 2)});
  std::string page = render_landing_page(snap, kBuild, "/metrics");
  CHECK_THAT(page, !Catch::Contains("<script>"));
  CHECK_THAT(page, !Catch::Contains("alert(1)</script>"));
  CHECK_THAT(page, Catch::Contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK_THAT(page, !Catch::Contains("a&\"'b"));
  CHECK_THAT(page, Catch::Contains("a&amp;&quot;&#39;b"));
  CHECK_THAT(page, Catch::Contains("x&lt;y&gt;"));
  CHECK_THAT(page, Catch::Contains("api &amp; &quot;co&quot;"));
  CHECK_THAT(page, Catch::Contains("act&lt;ive"));
  CHECK_THAT(page, Catch::Contains("EACCES &lt;denied&gt;"));  // collector errors too
  CHECK_THAT(page, !Catch::Contains("s3cret"));                // no command lines
}

TEST_CASE("the ports table joins registered and listening ports, in port order", "[landing]") {
  Snapshot snap =
      snapshot(R"({"3000": {"service": "web", "status": "active"},
                               "53/udp": {"service": "dns", "status": "active"},
                               "8001": {"service": "api", "status": "active"}})",
               {sock("0.0.0.0", 3000, "node", 1), sock("::", 3000, "node", 2),
                sock("127.0.0.53", 53, "", 3, Protocol::udp), sock("0.0.0.0", 4000, "rogue", 4)});
  std::string page = render_landing_page(snap, kBuild, "/metrics");

  auto p53 = page.find("<td>53</td>");
  auto p3000 = page.find("<td>3000</td>");
  auto p4000 = page.find("<td>4000</td>");
  auto p8001 = page.find("<td>8001</td>");
  REQUIRE(p53 != std::string::npos);
  CHECK(p53 < p3000);
  CHECK(p3000 < p4000);
  CHECK(p4000 < p8001);

  std::string web = row_with(page, "<td>3000</td>");
  CHECK_THAT(web, Catch::Contains("<td>0.0.0.0, [::]</td>"));
  CHECK_THAT(web, Catch::Contains("<td>node</td>"));  // one program, named once
  CHECK_THAT(web, Catch::Contains("<td class=\"up yes\">yes</td>"));
  CHECK_THAT(web, !Catch::Contains("class=\"finding"));

  std::string dns = row_with(page, "<td>53</td>");
  CHECK_THAT(dns, Catch::Contains("<td>udp</td>"));
  CHECK_THAT(dns, Catch::Contains("<em>unknown</em>"));

  std::string rogue = row_with(page, "<td>4000</td>");
  CHECK_THAT(rogue, Catch::Contains("<em>unregistered</em>"));

  std::string api = row_with(page, "<td>8001</td>");
  CHECK_THAT(api, Catch::Contains("<td class=\"up no\">no</td>"));

  // An inactive entry that does not listen is not shown as down.
  Snapshot idle = snapshot(R"({"9001": {"service": "idle", "status": "inactive"}})", {});
  CHECK_THAT(row_with(render_landing_page(idle, kBuild, "/metrics"), "<td>9001</td>"),
             Catch::StartsWith("<tr>"));
}

TEST_CASE("ports with findings are highlighted with their kinds and details", "[landing]") {
  Snapshot snap = snapshot(R"({"3000": {"service": "web", "status": "active"},
                               "8001": {"service": "api", "status": "active"}})",
                           {sock("0.0.0.0", 3000, "node", 1), sock("0.0.0.0", 4000, "rogue", 2)});
  REQUIRE(snap.findings.size() == 2);  // 4000 unregistered, 8001 registered_down
  std::string page = render_landing_page(snap, kBuild, "/metrics");

  std::string rogue = row_with(page, "<td>4000</td>");
  CHECK_THAT(rogue, Catch::StartsWith("<tr class=\"finding\">"));
  CHECK_THAT(rogue, Catch::Contains("<span class=\"kind\">unregistered</span>"));
  CHECK_THAT(rogue, Catch::Contains("allocate NAME -p 4000"));

  std::string api = row_with(page, "<td>8001</td>");
  CHECK_THAT(api, Catch::StartsWith("<tr class=\"finding down\">"));
  CHECK_THAT(api, Catch::Contains("registered_down"));

  CHECK_THAT(row_with(page, "<td>3000</td>"), Catch::StartsWith("<tr>"));
  CHECK_THAT(page, Catch::Contains("2 listening, 2 registered, 1 unregistered, 2 findings"));

  // The findings section lists each one.
  auto section = page.substr(page.find("<h2>Findings</h2>"));
  CHECK_THAT(section, Catch::Contains("<td class=\"kind\">unregistered</td><td>4000</td>"));
  CHECK_THAT(section, Catch::Contains("<td class=\"kind\">registered_down</td><td>8001</td>"));
}

TEST_CASE("collector status shows success, duration and error", "[landing]") {
  Snapshot snap = snapshot("{}", {});
  std::string page = render_landing_page(snap, kBuild, "/metrics");
  auto section = page.substr(page.find("<h2>Collectors</h2>"));
  CHECK_THAT(section, Catch::Contains(
                          "<tr><td>sockets</td><td class=\"ok\">yes</td><td>0.0021</td><td></td>"));
  CHECK_THAT(section, Catch::Contains("<tr><td>owners</td><td class=\"failed\">no</td>"
                                      "<td>0.5</td><td>EACCES &lt;denied&gt;</td>"));
}

TEST_CASE("a snapshot with no sockets, or nothing at all, renders", "[landing]") {
  Snapshot snap = snapshot(R"({"3000": {"service": "web", "status": "inactive"}})", {});
  std::string page = render_landing_page(snap, kBuild, "/metrics");
  CHECK_THAT(page, Catch::Contains("0 listening, 1 registered, 0 unregistered, 0 findings"));
  CHECK_THAT(page, Catch::Contains("No findings"));
  CHECK_THAT(page, Catch::EndsWith("</html>\n"));

  Snapshot empty;
  empty.registry_valid = false;
  std::string bare = render_landing_page(empty, BuildInfo{}, "/metrics");
  CHECK_THAT(bare, Catch::Contains("No registered or listening ports."));
  CHECK_THAT(bare, Catch::Contains("No collector has run yet."));
  CHECK_THAT(bare, Catch::Contains("registry file on disk is invalid"));
  CHECK_THAT(bare, Catch::EndsWith("</html>\n"));
}

TEST_CASE("the page warns about unreadable processes only when a socket is left without an owner") {
  Snapshot owned = snapshot("{}", {sock("0.0.0.0", 8080, "nginx", 1)});
  owned.live.processes_unreadable = 3;
  CHECK(render_landing_page(owned, {"1", "r"}, "/metrics").find("could not be read") ==
        std::string::npos);
  Snapshot orphan =
      snapshot("{}", {sock("0.0.0.0", 8080, "nginx", 1), sock("0.0.0.0", 9000, "", 2)});
  orphan.live.processes_unreadable = 3;
  CHECK(render_landing_page(orphan, {"1", "r"}, "/metrics")
            .find("1 socket has no known owner: 3 processes could not be read") !=
        std::string::npos);
}

TEST_CASE("a missing registry file is said on the page, naming the path", "[landing]") {
  Snapshot fresh = snapshot("{}", {sock("0.0.0.0", 8080, "nginx", 1)});
  fresh.registry_path = "/srv/typo/<reg>.json";
  fresh.registry_present = false;
  fresh.registry_valid = false;
  std::string page = render_landing_page(fresh, kBuild, "/metrics");
  CHECK_THAT(page, Catch::Contains("No registry file at <code>/srv/typo/&lt;reg&gt;.json</code>: "
                                   "every listening port shows as unregistered"));
  CHECK_THAT(page, !Catch::Contains("registry file on disk is invalid"));

  // Removed after a good load: the last good registry stays in use.
  Snapshot removed = fresh;
  removed.registry_last_reload_success = 1762084800;
  CHECK_THAT(render_landing_page(removed, kBuild, "/metrics"),
             Catch::Contains("the last good registry is in use"));

  Snapshot present = snapshot("{}", {});
  present.registry_path = "/srv/reg.json";
  CHECK_THAT(render_landing_page(present, kBuild, "/metrics"), !Catch::Contains("No registry"));
}

TEST_CASE("the agent's own port shows as portman-agent, not unregistered", "[landing]") {
  ListeningSocket own = sock("0.0.0.0", 9097, "portman", 1);
  Owner agent = own.owners[0];
  agent.cmdline = "/usr/bin/portman agent";
  own.owners = {agent};
  Snapshot snap = snapshot("{}", {own});
  std::string page = render_landing_page(snap, kBuild, "/metrics");
  std::string row = row_with(page, "<td>9097</td>");
  CHECK_THAT(row, Catch::Contains("<td>portman-agent</td>"));
  CHECK_THAT(row, Catch::Contains("<em>own port</em>"));
  CHECK_THAT(row, !Catch::Contains("unregistered"));
  CHECK_THAT(page, Catch::Contains("1 listening, 0 registered, 0 unregistered, 0 findings"));
}
