// The web config goes through the same YAML limits as portman.yml (libportman/yaml_load.hpp).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "agent/web_config.hpp"

using namespace portman;
using namespace portman::agent;

TEST_CASE("a web config alias bomb, deep nesting or a huge file is refused", "[web_config]") {
  const std::filesystem::path file = "/etc/portman/web.yml";
  std::string bomb = "basic_auth_users: [&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]";
  for (int i = 1; i <= 9; ++i) {
    bomb += ", &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += (j ? ", *a" : "*a") + std::to_string(i - 1);
    bomb += "]";
  }
  bomb += "]\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {bomb, "aliases to more than 1000000 nodes"},
      {"tls_server_config: " + std::string(200, '[') + std::string(200, ']'),
       "nested deeper than 64 levels"},
      {std::string(2 * 1024 * 1024, '#'), "larger than 1048576 bytes"},
  };
  for (const auto& [yaml, needle] : cases) {
    auto r = parse_web_config(yaml, file);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::invalid_data);
    CHECK_THAT(r.error().message, Catch::StartsWith("/etc/portman/web.yml"));
    CHECK_THAT(r.error().message, Catch::Contains(needle));
  }
}
