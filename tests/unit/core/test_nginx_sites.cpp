// The nginx generator against the fixtures' oracle (../shared/fixtures/dokploy/README.md,
// "Expected nginx sites"). That nginx accepts and serves the text:
// tests/integration/test_nginx.cpp.
#include <algorithm>

#include "libportman/nginx_sites.hpp"
#include "unit/dokploy_inventory.hpp"
#include "unit/support.hpp"

namespace portman::test {
namespace {

nginx::SiteOptions with_certificates() {
  nginx::SiteOptions o;
  o.config.certificate = "/etc/letsencrypt/live/{domain}/fullchain.pem";
  o.config.certificate_key = "/etc/letsencrypt/live/{domain}/privkey.pem";
  return o;
}

std::string render(const dokploy::Inventory& inv, const nginx::SiteOptions& o,
                   const std::optional<std::string>& server = std::nullopt) {
  auto text = nginx::render_sites(inv, server, o);
  REQUIRE(text.ok());
  return *text;
}

// The server blocks naming `host`, in order: "server {" up to its closing "}" at line start.
std::vector<std::string> blocks_for(const std::string& text, const std::string& host) {
  std::vector<std::string> out;
  for (std::size_t at = 0; (at = text.find("\nserver {\n", at)) != std::string::npos;) {
    std::size_t end = text.find("\n}\n", at);
    std::string block = text.substr(at + 1, end - at + 2);
    if (block.find("    server_name " + host + ";\n") != std::string::npos) out.push_back(block);
    at = end;
  }
  return out;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The text without its comment lines: what nginx reads.
std::string directives(const std::string& text) {
  std::string out, line;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    line = text.substr(at, end - at);
    at = end == std::string::npos ? text.size() : end + 1;
    if (line.find_first_not_of(' ') != std::string::npos &&
        line[line.find_first_not_of(' ')] == '#')
      continue;
    out += line + "\n";
  }
  return out;
}

const char* const kHeaders =
    "        proxy_http_version 1.1;\n"
    "        proxy_set_header Upgrade $http_upgrade;\n"
    "        proxy_set_header Connection $portman_connection_upgrade;\n"
    "        proxy_set_header Host $host;\n"
    "        proxy_set_header X-Real-IP $remote_addr;\n"
    "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
    "        proxy_set_header X-Forwarded-Proto $scheme;\n";

}  // namespace

TEST_CASE("nginx sites of the Dokploy host follow the fixtures' oracle", "[nginx]") {
  const std::string text = render(fixture_inventory(), with_certificates());
  CHECK(has(text,
            "map $http_upgrade $portman_connection_upgrade {\n    default upgrade;\n"
            "    '' close;\n}\n"));

  // shop.example.com: TLS, to shop-web's port whose target is the domain's 3000.
  auto shop = blocks_for(text, "shop.example.com");
  REQUIRE(shop.size() == 2);
  CHECK(has(shop[0], "    listen 443 ssl;\n"));
  CHECK(has(shop[0],
            "    ssl_certificate \"/etc/letsencrypt/live/shop.example.com/fullchain.pem\";\n"));
  CHECK(has(shop[0],
            "    ssl_certificate_key \"/etc/letsencrypt/live/shop.example.com/privkey.pem\";\n"));
  CHECK(has(shop[0], "    location / {\n"));
  CHECK(has(shop[0], "        proxy_pass http://127.0.0.1:8080;\n"));
  CHECK(has(shop[0], kHeaders));
  CHECK(has(shop[1], "    listen 80;\n"));
  CHECK(has(shop[1], "    return 301 https://$host$request_uri;\n"));

  // staging.shop.example.com: plain HTTP, the same published port, flagged.
  auto staging = blocks_for(text, "staging.shop.example.com");
  REQUIRE(staging.size() == 1);
  CHECK(has(staging[0], "    listen 80;\n"));
  CHECK_FALSE(has(staging[0], "ssl"));
  CHECK(has(staging[0], "        proxy_pass http://127.0.0.1:8080;\n"));
  CHECK(has(staging[0],
            "        # AMBIGUOUS: host port 8080 is published by storefront/shop-web, "
            "storefront/shop-web-staging@staging"));
  CHECK(has(shop[0], "# AMBIGUOUS: host port 8080"));

  // grafana.example.com: compose service grafana's container port 3000 is host port 3001.
  auto grafana = blocks_for(text, "grafana.example.com");
  REQUIRE(grafana.size() == 2);
  CHECK(has(grafana[0], "    listen 443 ssl;\n"));
  CHECK(has(grafana[0], "        proxy_pass http://127.0.0.1:3001;\n"));
  CHECK_FALSE(has(grafana[0], "AMBIGUOUS"));

  // metrics.example.com/prometheus: compose service prometheus, published on 127.0.0.1:9091.
  auto metrics = blocks_for(text, "metrics.example.com");
  REQUIRE(metrics.size() == 1);
  CHECK(has(metrics[0], "    listen 80;\n"));
  CHECK(has(metrics[0], "    location /prometheus {\n"));
  CHECK(has(metrics[0], "        proxy_pass http://127.0.0.1:9091;\n"));
  CHECK_FALSE(has(metrics[0], "rewrite"));

  // otel.example.com runs on edge-01: a comment, no block.
  CHECK(blocks_for(text, "otel.example.com").empty());
  CHECK(has(text,
            "# not served: otel.example.com/v1 (analytics/metrics-collector): runs on "
            "server srvEdge01_Lm4Qw9Zt2Xa, not here\n"));

  // Sorted by host: grafana, metrics, shop, staging.shop.
  auto pos = [&](const std::string& host) { return text.find("server_name " + host + ";"); };
  CHECK(pos("grafana.example.com") < pos("metrics.example.com"));
  CHECK(pos("metrics.example.com") < pos("shop.example.com"));
  CHECK(pos("shop.example.com") < pos("staging.shop.example.com"));
}

TEST_CASE("nginx sites on edge-01 serve otel from the local host port", "[nginx]") {
  const std::string text = render(fixture_inventory(), with_certificates(), std::string(kEdge01));
  auto otel = blocks_for(text, "otel.example.com");
  REQUIRE(otel.size() == 2);
  CHECK(has(otel[0], "    location /v1 {\n"));
  CHECK(has(otel[0], "        proxy_pass http://127.0.0.1:4318;\n"));
  CHECK(blocks_for(text, "shop.example.com").empty());
  CHECK(
      has(text, "# not served: shop.example.com (storefront/shop-web): runs on the Dokploy host"));
}

TEST_CASE("without a certificate no block listens on 443 and HTTPS domains say why", "[nginx]") {
  const std::string text = render(fixture_inventory(), nginx::SiteOptions{});
  CHECK_FALSE(has(text, "443"));
  CHECK_FALSE(has(text, "ssl"));
  CHECK_FALSE(has(text, "return 301"));
  auto shop = blocks_for(text, "shop.example.com");
  REQUIRE(shop.size() == 1);
  CHECK(has(shop[0], "    listen 80;\n"));
  CHECK(has(shop[0], "# HTTPS in Dokploy; plain HTTP here until nginx.certificate"));
}

TEST_CASE("nginx output does not depend on the order of Dokploy's listing", "[nginx]") {
  auto inv = fixture_inventory();
  const std::string first = render(inv, with_certificates());
  std::reverse(inv.services.begin(), inv.services.end());
  for (auto& s : inv.services) std::reverse(s.domains.begin(), s.domains.end());
  CHECK(render(inv, with_certificates()) == first);
}

TEST_CASE("a domain without a host port becomes a comment", "[nginx]") {
  auto inv = fixture_inventory();
  auto* observ = find_service(inv, "observability");
  observ->ports.erase(observ->ports.begin());  // grafana's 3001:3000
  const std::string text = render(inv, with_certificates());
  CHECK(blocks_for(text, "grafana.example.com").empty());
  CHECK(has(text,
            "# not served: grafana.example.com (analytics/observability): no host port "
            "publishes container port 3000 of compose service 'grafana'; it is reachable "
            "only on Docker's networks (through Traefik)\n"));
}

TEST_CASE("Dokploy values that could change the config's meaning are not written", "[nginx]") {
  using K = dokploy::ServiceKind;
  dokploy::Inventory inv;
  auto s = service(K::application, "appEvil", "evil", "p", "production", "2025-01-01T00:00:00Z");
  s.ports = {published(10080, 80)};
  s.domains = {domain("a.example.com;\n}\nserver {", "/", false, 80),
               domain("b.example.com", "/x { return 200; } location /y", false, 80),
               domain("c.example.com", "/ok", false, 80)};
  inv.services = {s};
  const std::string text = render(inv, nginx::SiteOptions{});
  const std::string read = directives(text);
  CHECK_FALSE(has(read, "return 200"));
  CHECK_FALSE(has(read, "a.example.com"));
  CHECK_FALSE(has(read, "b.example.com"));
  CHECK(has(text, "# not served: a.example.com;?}?server { (p/evil): not a host name"));
  CHECK(has(text, "(p/evil): the path holds characters an nginx location cannot take"));
  // Only c's block is read by nginx.
  auto c = blocks_for(text, "c.example.com");
  REQUIRE(c.size() == 1);
  CHECK(has(c[0], "        proxy_pass http://127.0.0.1:10080;\n"));
  std::size_t servers = 0;
  for (std::size_t at = 0; (at = read.find("server {", at)) != std::string::npos; ++at) ++servers;
  CHECK(servers == 1);
}

TEST_CASE("bad nginx settings are refused with the key", "[nginx]") {
  auto inv = fixture_inventory();
  nginx::SiteOptions o;
  o.config.certificate = "/etc/ssl/{domain}.pem";
  auto r = nginx::render_sites(inv, std::nullopt, o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::bad_input);
  CHECK(has(r.error().message, "nginx.certificate and nginx.certificate_key go together"));

  o.config.certificate_key = "/etc/ssl/{domain}\".key";
  r = nginx::render_sites(inv, std::nullopt, o);
  REQUIRE_FALSE(r.ok());
  CHECK(
      has(r.error().message, "nginx.certificate_key: '/etc/ssl/{domain}\".key' holds a character"));

  o.config.certificate_key = "/etc/ssl/{host}.key";
  CHECK_FALSE(nginx::render_sites(inv, std::nullopt, o).ok());

  o.config.certificate_key = "/etc/ssl/{domain}.key";
  o.config.listen_address = "example.com";
  r = nginx::render_sites(inv, std::nullopt, o);
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "nginx.listen_address: 'example.com' is not an IP address"));
}

TEST_CASE("listen address and ports are used in every block and the redirect", "[nginx]") {
  auto o = with_certificates();
  o.config.listen_address = "::1";
  o.http_port = 18080;
  o.https_port = 18443;
  const std::string text = render(fixture_inventory(), o);
  auto shop = blocks_for(text, "shop.example.com");
  REQUIRE(shop.size() == 2);
  CHECK(has(shop[0], "    listen [::1]:18443 ssl;\n"));
  CHECK(has(shop[1], "    listen [::1]:18080;\n"));
  CHECK(has(shop[1], "    return 301 https://$host:18443$request_uri;\n"));
}

TEST_CASE("strip path and internal path rewrite the upstream path", "[nginx]") {
  using K = dokploy::ServiceKind;
  dokploy::Inventory inv;
  auto s = service(K::application, "appApi", "api", "p", "production", "2025-01-01T00:00:00Z");
  s.ports = {published(10080, 80)};
  auto strip = domain("api.example.com", "/v1", false, 80);
  strip.strip_path = true;
  auto both = domain("api.example.com", "/v2.x", false, 80);
  both.strip_path = true;
  both.internal_path = "/internal/";
  auto prefix = domain("api.example.com", "/v3", false, 80);
  prefix.internal_path = "/base";
  s.domains = {strip, both, prefix};
  inv.services = {s};
  const std::string text = render(inv, nginx::SiteOptions{});
  CHECK(has(text,
            "    location /v1 {\n        # p/api, container port 80\n"
            "        rewrite ^/v1/?(.*)$ /$1 break;\n"));
  CHECK(has(text, "        rewrite ^/v2\\.x/?(.*)$ /internal/$1 break;\n"));
  CHECK(has(text, "        rewrite ^(.*)$ /base$1 break;\n"));
}

TEST_CASE("a compose port on a host address proxies to that address", "[nginx]") {
  using K = dokploy::ServiceKind;
  dokploy::Inventory inv;
  auto s = service(K::compose, "cmpA", "a", "p", "production", "2025-01-01T00:00:00Z");
  s.ports = {published(10081, 80, Protocol::tcp, "host", "web", "10.1.2.3"),
             published(10082, 80, Protocol::tcp, "host", "other")};
  s.domains = {domain("a.example.com", "/", false, 80, "web")};
  inv.services = {s};
  const std::string text = render(inv, nginx::SiteOptions{});
  CHECK(has(text, "        proxy_pass http://10.1.2.3:10081;\n"));
  CHECK_FALSE(has(text, "10082"));
}

}  // namespace portman::test
