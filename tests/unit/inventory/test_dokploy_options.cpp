// The settings of `dokploy:`: URL, key, durations; each refusal names the setting and its origin.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "inventory/dokploy_client.hpp"
#include "inventory/dokploy_source.hpp"
#include "libportman/sources.hpp"
#include "unit/support.hpp"

using namespace portman;
using namespace portman::dokploy;

namespace {

struct KeyFile {
  std::filesystem::path path;
  KeyFile(const std::string& text, mode_t mode) {
    path = std::filesystem::temp_directory_path() /
           ("portman-dokploy-key-" + std::to_string(::getpid()) + "-" + std::to_string(mode));
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
  }
  ~KeyFile() { std::filesystem::remove(path); }
};

SourceSettings settings() {
  SourceSettings s("dokploy", inventory_spec().options);
  s.set("url", "https://dokploy.example.com/api/", "portman.yml:3:8");
  s.set("api_key", "secret-key", "$DOKPLOY_API_KEY");
  return s;
}

std::string refused(const SourceSettings& s) {
  auto o = client_options(s);
  REQUIRE(!o);
  CHECK(o.error().kind == ErrorKind::bad_input);
  CHECK(o.error().message.find("secret-key") == std::string::npos);
  return o.error().message;
}

}  // namespace

TEST_CASE("dokploy options: defaults and the URL without /api", "[dokploy]") {
  auto o = client_options(settings());
  REQUIRE(o);
  CHECK(o->base_url == "https://dokploy.example.com");
  CHECK(o->api_key == "secret-key");
  CHECK(o->timeout == std::chrono::seconds(5));
  CHECK(o->interval == std::chrono::seconds(60));
  CHECK(o->parallel == 4);
  CHECK(o->server_id == std::nullopt);
  CHECK(configured_server(settings()) == std::nullopt);
  auto s = settings();
  s.set("server_id", "srvEdge01", "--dokploy.server_id");
  CHECK(client_options(s)->server_id == std::optional<std::string>("srvEdge01"));
  CHECK(configured_server(s) == std::optional<std::string>("srvEdge01"));
}

TEST_CASE("dokploy base URLs", "[dokploy]") {
  CHECK(*normalize_base_url("http://203.0.113.5:3000") == "http://203.0.113.5:3000");
  CHECK(*normalize_base_url("http://203.0.113.5:3000/") == "http://203.0.113.5:3000");
  CHECK(*normalize_base_url("HTTPS://d.example.com/api") == "https://d.example.com");
  CHECK(*normalize_base_url("https://example.com/dokploy/api/") == "https://example.com/dokploy");
  CHECK(*normalize_base_url("http://[::1]:3000") == "http://[::1]:3000");
  for (const char* bad :
       {"", "dokploy.example.com", "ftp://d.example.com", "http://", "http://:3000",
        "https://user:pw@d.example.com", "http://d/?x=1", "http://d/a b"}) {
    INFO(bad);
    CHECK(!normalize_base_url(bad));
  }
  auto s = settings();
  s.set("url", "dokploy.example.com", "portman.yml:3:8");
  CHECK(refused(s).rfind("dokploy.url (from portman.yml:3:8): 'dokploy.example.com' has no "
                         "http:// or https://",
                         0) == 0);
}

TEST_CASE("dokploy durations and parallel are checked with their origin", "[dokploy]") {
  auto s = settings();
  s.set("timeout", "5 seconds", "--dokploy.timeout");
  CHECK(refused(s).rfind("dokploy.timeout (from --dokploy.timeout): ", 0) == 0);
  s = settings();
  s.set("interval", "0s", "portman.yml:9:13");
  CHECK(refused(s).rfind("dokploy.interval (from portman.yml:9:13): ", 0) == 0);
  s = settings();
  s.set("parallel", "0", "portman.yml:10:13");
  CHECK(refused(s) ==
        "dokploy.parallel (from portman.yml:10:13): '0' is not a number from 1 to 64");
}

TEST_CASE("dokploy key: from the environment or a private file only", "[dokploy]") {
  auto s = settings();
  s.set("api_key", "secret-key", "--dokploy.api_key");
  CHECK(refused(s).find("dokploy.api_key (from --dokploy.api_key): the key may come only from "
                        "$DOKPLOY_API_KEY") == 0);
  SourceSettings none("dokploy", inventory_spec().options);
  none.set("url", "http://d:3000", "$DOKPLOY_API_URL");
  CHECK(refused(none).find("is set but there is no API key: create one in Dokploy") !=
        std::string::npos);

  KeyFile good("  file-key\n", 0600);
  s = settings();
  s.set("api_key_file", good.path.string(), "portman.yml:4:17");
  auto o = client_options(s);
  REQUIRE(o);
  CHECK(o->api_key == "file-key");  // the file wins over the environment

  KeyFile open_to_all("file-key\n", 0644);
  s.set("api_key_file", open_to_all.path.string(), "portman.yml:4:17");
  CHECK(refused(s) == "dokploy.api_key_file (from portman.yml:4:17): " + open_to_all.path.string() +
                          ": the API key is accessible to group or others (mode 0644); run chmod "
                          "600 on it, as ssh requires for private keys");
  KeyFile empty(" \n", 0600);
  s.set("api_key_file", empty.path.string(), "portman.yml:4:17");
  CHECK(refused(s).find("the file is empty") != std::string::npos);
  KeyFile two_lines("a\nb\n", 0400);
  s.set("api_key_file", two_lines.path.string(), "portman.yml:4:17");
  CHECK(refused(s).find("line break") != std::string::npos);
  s.set("api_key_file", "/nonexistent/key", "portman.yml:4:17");
  CHECK(refused(s) ==
        "dokploy.api_key_file (from portman.yml:4:17): /nonexistent/key: cannot "
        "read the API key: No such file or directory");
}

TEST_CASE("the dokploy row: on when its url is set, the key secret", "[dokploy]") {
  const InventorySpec spec = inventory_spec();
  CHECK(spec.name == "dokploy");
  CHECK(spec.enabled_when_set == "url");
  bool secret = false;
  for (const OptionSpec& o : spec.options)
    if (o.key == "api_key") secret = o.secret && o.env == "DOKPLOY_API_KEY";
  CHECK(secret);

  Config config;
  auto off = plan_sources(config, {}, [](const char*) -> const char* { return nullptr; });
  REQUIRE(off);
  CHECK(!off->enabled("dokploy"));
  auto on = plan_sources(config, {}, [](const char* name) -> const char* {
    std::string n = name;
    return n == "DOKPLOY_API_URL" ? "http://d:3000" : n == "DOKPLOY_API_KEY" ? "k" : nullptr;
  });
  REQUIRE(on);
  CHECK(on->enabled("dokploy"));
  auto made = spec.make(on->settings_of("dokploy"));
  CHECK(made);
  auto bad = plan_sources(config, {{}, {{"dokploy.url", "d:3000"}}},
                          [](const char*) -> const char* { return nullptr; });
  REQUIRE(bad);
  auto refused_made = spec.make(bad->settings_of("dokploy"));
  REQUIRE(!refused_made);
  CHECK(refused_made.error().message.rfind("dokploy.url (from --dokploy.url): ", 0) == 0);
}
