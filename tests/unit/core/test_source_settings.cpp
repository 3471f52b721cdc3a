#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>

#include "libportman/source_settings.hpp"

using namespace portman;

namespace {

constexpr OptionSpec kOptions[] = {
    {"host", "unix:///var/run/docker.sock", "Engine API address", "DOCKER_HOST"},
    {"timeout", "5s", "per request"},
    {"parallel", "4", "requests in flight"},
    {"key_file", "", "a secret's file", "", true},
};

auto env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST_CASE("a source setting is the flag over the file over the environment over the default",
          "[sources]") {
  SourceSettings s("docker", kOptions);
  CHECK(s.text("host") == "unix:///var/run/docker.sock");
  CHECK(s.describe("host") == "docker.host (from default)");
  CHECK_FALSE(s.has("key_file"));  // no default: unset

  s.apply_environment(env_of({{"DOCKER_HOST", "unix:///run/user/1000/docker.sock"}}));
  CHECK(s.text("host") == "unix:///run/user/1000/docker.sock");
  CHECK(s.describe("host") == "docker.host (from $DOCKER_HOST)");

  s.set("host", "unix:///srv/docker.sock", "portman.yml:40:9");
  CHECK(s.describe("host") == "docker.host (from portman.yml:40:9)");
  s.set("host", "unix:///tmp/d.sock", "--docker.host");
  CHECK(s.text("host") == "unix:///tmp/d.sock");
  CHECK(s.describe("host") == "docker.host (from --docker.host)");
}

TEST_CASE("an empty environment variable leaves the default", "[sources]") {
  SourceSettings s("docker", kOptions);
  s.apply_environment(env_of({{"DOCKER_HOST", ""}}));
  CHECK(s.text("host") == "unix:///var/run/docker.sock");
}

TEST_CASE("durations and numbers of a source are checked with the setting's origin", "[sources]") {
  SourceSettings s("dokploy", kOptions);
  REQUIRE(s.duration("timeout"));
  CHECK(*s.duration("timeout") == std::chrono::seconds(5));
  s.set("timeout", "5 minutes", "--dokploy.timeout");
  auto bad = s.duration("timeout");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("dokploy.timeout (from --dokploy.timeout): ") == 0);
  s.set("timeout", "0s", "t.yml:3:12");
  REQUIRE_FALSE(s.duration("timeout"));
  CHECK(s.duration("timeout").error().message.find("must be longer than 0") != std::string::npos);

  REQUIRE(s.integer("parallel", 1, 64));
  CHECK(*s.integer("parallel", 1, 64) == 4);
  for (const char* wrong : {"0", "65", "4x", "", "-1", "99999999999999999999"}) {
    INFO(wrong);
    s.set("parallel", wrong, "t.yml:4:13");
    auto n = s.integer("parallel", 1, 64);
    REQUIRE_FALSE(n);
    CHECK(n.error().message.find("is not a number from 1 to 64") != std::string::npos);
  }
}
