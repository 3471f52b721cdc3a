// docs/configuration.md cannot drift from the readers: every key portman.yml's reader and the web
// config's reader accept has a row in its tables, and every row names a key they accept.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include "agent/web_config.hpp"
#include "libportman/config.hpp"
#include "unit/support.hpp"

using namespace portman;

namespace {

// The first cell of each table row that starts with a `key`: "| `agent.rootfs` | ...". Rows of
// environment variables (`PORTMAN_CONFIG`: no lower-case letter) are not keys.
std::set<std::string> documented_keys() {
  const auto doc = std::filesystem::path(PORTMAN_FIXTURES_DIR) / "../../docs/configuration.md";
  std::string text = test::slurp(doc.string());
  std::set<std::string> keys;
  size_t at = 0;
  while ((at = text.find("\n| `", at)) != std::string::npos) {
    size_t start = at + 4, end = text.find('`', start);
    REQUIRE(end != std::string::npos);
    std::string key = text.substr(start, end - start);
    if (std::any_of(key.begin(), key.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
      keys.insert(key);
    at = end;
  }
  return keys;
}

std::vector<std::string> accepted_keys() {
  std::vector<std::string> keys = accepted_config_keys();
  for (const auto& k : agent::accepted_web_config_keys()) keys.push_back("web: " + k);
  return keys;
}

}  // namespace

TEST_CASE("configuration doc: every accepted key has a row") {
  std::set<std::string> documented = documented_keys();
  std::vector<std::string> keys = accepted_keys();
  CHECK(keys.size() > 30);  // the readers' lists, not an empty one
  for (std::string key : keys) {
    // Web config rows are written without the "web: " marker, in their own table.
    if (key.rfind("web: ", 0) == 0) key = key.substr(5);
    INFO(key);
    CHECK(documented.count(key) == 1);
  }
}

TEST_CASE("configuration doc: every row names a key a reader accepts") {
  std::set<std::string> accepted;
  for (std::string key : accepted_keys())
    accepted.insert(key.rfind("web: ", 0) == 0 ? key.substr(5) : key);
  std::set<std::string> documented = documented_keys();
  CHECK(!documented.empty());
  for (const auto& key : documented) {
    INFO(key);
    CHECK(accepted.count(key) == 1);
  }
}

TEST_CASE("configuration doc: the list of accepted keys follows the readers") {
  std::vector<std::string> keys = accepted_config_keys();
  for (const char* key : {"registry", "agent.rootfs", "agent.procfs", "types.NAME.range",
                          "ignore.ephemeral_udp", "agent.collectors.owners", "docker.host",
                          "dokploy.url", "owners.method", "nginx.listen_address"})
    CHECK(std::count(keys.begin(), keys.end(), key) == 1);
  // A key the reader refuses is not in the list.
  CHECK(!parse_config("agent:\n  rootf: /host\n", "t.yml").ok());
  CHECK(std::count(keys.begin(), keys.end(), "agent.rootf") == 0);
  CHECK(parse_config("agent:\n  rootfs: /host\n", "t.yml")->agent.rootfs == "/host");
}
