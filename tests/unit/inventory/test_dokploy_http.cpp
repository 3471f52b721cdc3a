// The Dokploy client over real HTTP (libcurl) against the fake Dokploy: the three layouts, and
// every fault as one line, within the timeout and the size cap.
#include <catch2/catch.hpp>

#include "integration/fake_dokploy.hpp"
#include "inventory/dokploy_client.hpp"
#include "unit/support.hpp"

using namespace portman;
using namespace portman::dokploy;

namespace {

ClientOptions options_for(const itest::FakeDokploy& fake, std::string key = "test-key") {
  ClientOptions o;
  o.base_url = fake.url();
  o.api_key = std::move(key);
  o.timeout = std::chrono::milliseconds(3000);
  return o;
}

std::string fails(const std::vector<std::string>& args,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
  itest::FakeDokploy fake(args);
  auto o = options_for(fake);
  o.timeout = timeout;
  auto inv = fetch_inventory(o, http_transport());
  REQUIRE(!inv);
  INFO(inv.error().message);
  CHECK(inv.error().message.find('\n') == std::string::npos);
  CHECK(inv.error().message.find("test-key") == std::string::npos);
  return inv.error().message;
}

}  // namespace

TEST_CASE("over HTTP: every layout, the key sent as x-api-key", "[dokploy][http]") {
  for (std::string layout : {"v1", "v2", "v3"}) {
    INFO(layout);
    itest::FakeDokploy fake({"--layout", layout});
    auto inv = fetch_inventory(options_for(fake), http_transport());
    if (!inv) FAIL(inv.error().message);
    CHECK(inv->layout == layout[1] - '0');
    CHECK(inv->services.size() == 10);
    std::size_t host_ports = 0, edge_ports = 0;
    for (const Service* s : inv->on_server(std::nullopt)) host_ports += s->ports.size();
    for (const Service* s : inv->on_server("srvEdge01_Lm4Qw9Zt2Xa")) edge_ports += s->ports.size();
    CHECK(host_ports == 9);
    CHECK(edge_ports == 3);
  }
}

TEST_CASE("over HTTP: a wrong key and Dokploy's errors", "[dokploy][http]") {
  {
    itest::FakeDokploy fake;
    auto inv = fetch_inventory(options_for(fake, "wrong-key"), http_transport());
    REQUIRE(!inv);
    CHECK_THAT(inv.error().message,
               Catch::Contains("/api/project.all: Dokploy refused the API key (HTTP 401"));
    CHECK_THAT(inv.error().message, Catch::Contains("Settings → Profile → API/CLI Keys"));
  }
  CHECK_THAT(fails({"--mode", "401"}), Catch::Contains("refused the API key"));
  CHECK_THAT(fails({"--mode", "500"}),
             Catch::Contains("HTTP 500 INTERNAL_SERVER_ERROR: Internal server error"));
}

TEST_CASE("over HTTP: HTML, a cut body, a dropped connection, a redirect", "[dokploy][http]") {
  CHECK_THAT(fails({"--mode", "html"}), Catch::Contains("HTTP 200 with text/html instead of JSON"));
  CHECK_THAT(fails({"--mode", "truncated"}), Catch::Contains("ends early, after 1400 bytes"));
  CHECK_THAT(fails({"--mode", "dropped"}), Catch::StartsWith("Dokploy: GET http://127.0.0.1:"));
  CHECK_THAT(fails({"--mode", "redirect"}),
             Catch::Contains("redirected (HTTP 302) to http://login.example.com/, which portman "
                             "does not follow"));
}

TEST_CASE("over HTTP: a 50 MB answer is refused at the cap", "[dokploy][http]") {
  std::string m;
  double took = test::seconds([&] { m = fails({"--mode", "huge"}); });
  CHECK_THAT(m, Catch::Contains("larger than 8 MiB; refused"));
  CHECK(took < 3);
}

TEST_CASE("over HTTP: a Dokploy that accepts and never answers times out", "[dokploy][http]") {
  std::string m;
  double took = test::seconds([&] {
    m = fails({"--mode", "slow"}, std::chrono::milliseconds(300));
  });
  CHECK_THAT(m, Catch::Contains("/api/project.all: no answer within 300 ms"));
  CHECK(took < 2);
}

TEST_CASE("over HTTP: Dokploy down", "[dokploy][http]") {
  ClientOptions o;
  {
    itest::FakeDokploy fake;
    o = options_for(fake);
  }  // stopped: nothing listens on its port now
  auto inv = fetch_inventory(o, http_transport());
  REQUIRE(!inv);
  CHECK_THAT(inv.error().message,
             Catch::StartsWith("Dokploy: GET " + o.base_url + "/api/project.all: "));
}

TEST_CASE("over HTTP: one service failing or denied is marked, the rest kept", "[dokploy][http]") {
  itest::FakeDokploy fake({"--fail", "appShopWeb_7Hq2LxN0aK", "--deny", "mgRawEvents_Zb2fQ7nWk"});
  auto inv = fetch_inventory(options_for(fake), http_transport());
  if (!inv) FAIL(inv.error().message);
  std::map<std::string, std::string> errors;
  for (const Service& s : inv->services)
    if (!s.error.empty()) errors[s.id] = s.error;
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors["appShopWeb_7Hq2LxN0aK"], Catch::Contains("HTTP 500"));
  CHECK_THAT(errors["mgRawEvents_Zb2fQ7nWk"], Catch::Contains("no permission"));
}
