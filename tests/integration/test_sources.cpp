// Which sources run is decided in one place, for every command and the agent alike: the
// `agent.collectors` of portman.yml, then --[no-]collector.NAME; each source's settings come
// from its section, the environment and --SECTION.KEY, and `validate` checks them.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <set>

#include "harness.hpp"

using itest::TempDir;

namespace {

std::set<std::string> collectors_run(const nlohmann::json& report) {
  std::set<std::string> out;
  for (const auto& c : report["collectors"]) out.insert(c["collector"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("scan runs the collectors that agent.collectors and the flags leave on") {
  TempDir dir;
  itest::Listener listener({"tcp:127.0.0.1:7301"});
  const std::string reg = (dir / "reg.json").string();

  auto plain = itest::portman({"--registry", reg, "scan", "--json"});
  REQUIRE(plain.code == 0);
  CHECK(collectors_run(plain.json()) == std::set<std::string>{"sockets", "owners", "docker"});

  itest::write_file(dir / "portman.yml",
                    "agent:\n  collectors: { owners: false, docker: false }\n");
  auto off = itest::portman(
      {"--config", (dir / "portman.yml").string(), "--registry", reg, "scan", "--json"});
  REQUIRE(off.code == 0);
  CHECK(collectors_run(off.json()) == std::set<std::string>{"sockets"});
  // Without the owners collector nobody is named, as the file asked.
  // Named first: a range-for over a member of the temporary json() read freed memory (ASan).
  const auto off_json = off.json();
  for (const auto& s : off_json["listening"]) CHECK(s["pid"].is_null());

  auto back = itest::portman({"--config", (dir / "portman.yml").string(), "--registry", reg, "scan",
                              "--json", "--collector.owners"});
  REQUIRE(back.code == 0);
  CHECK(collectors_run(back.json()) == std::set<std::string>{"sockets", "owners"});

  auto unknown = itest::portman({"--registry", reg, "scan", "--collector.dockerz"});
  CHECK(unknown.code == 2);
  CHECK(unknown.err.find("dockerz") != std::string::npos);
}

TEST_CASE("validate refuses a source's settings with the setting and where it came from") {
  TempDir dir;
  itest::write_file(dir / "reg.json", "{\"allocations\": {}}\n");
  const std::string reg = (dir / "reg.json").string();

  auto tcp =
      itest::portman({"--registry", reg, "validate", "--docker.host", "tcp://10.0.0.1:2375"});
  CHECK(tcp.code == 3);
  CHECK(tcp.out.find("docker.host") != std::string::npos);
  CHECK(tcp.out.find("--docker.host") != std::string::npos);

  // A key file others can read is refused, as ssh refuses such keys.
  itest::write_file(dir / "dokploy.key", "secret-key-value\n");
  ::chmod((dir / "dokploy.key").c_str(), 0644);
  itest::write_file(dir / "portman.yml", "dokploy:\n  url: http://127.0.0.1:9\n  api_key_file: " +
                                             (dir / "dokploy.key").string() + "\n");
  auto key =
      itest::portman({"--config", (dir / "portman.yml").string(), "--registry", reg, "validate"});
  CHECK(key.code == 3);
  CHECK(key.out.find("dokploy.key") != std::string::npos);
  CHECK(key.out.find("secret-key-value") == std::string::npos);
  ::chmod((dir / "dokploy.key").c_str(), 0600);
  auto ok = itest::portman({"--config", (dir / "portman.yml").string(), "--registry", reg,
                            "validate", "--no-collector.docker"});
  CHECK(ok.out.find("dokploy.key") == std::string::npos);

  // An unknown key in a source's section is refused when the config is read, with its line.
  itest::write_file(dir / "bad.yml", "docker:\n  hots: unix:///x.sock\n");
  auto bad = itest::portman({"--config", (dir / "bad.yml").string(), "--registry", reg, "scan"});
  CHECK(bad.code == 3);
  CHECK(bad.err.find("bad.yml:2:3: unknown key 'docker.hots'; valid keys: host") !=
        std::string::npos);
}

TEST_CASE("an API key is taken from the environment or a file, never a flag or portman.yml") {
  TempDir dir;
  const std::string reg = (dir / "reg.json").string();
  auto flag = itest::portman({"--registry", reg, "scan", "--dokploy.api_key", "k"});
  CHECK(flag.code == 2);
  CHECK(flag.out.find("k") == std::string::npos);
  itest::write_file(dir / "portman.yml", "dokploy:\n  url: http://127.0.0.1:9\n  api_key: k3y\n");
  auto file =
      itest::portman({"--config", (dir / "portman.yml").string(), "--registry", reg, "scan"});
  CHECK(file.code == 3);
  CHECK(
      file.err.find("portman.yml:3:3: dokploy.api_key is a secret, never read from portman.yml") !=
      std::string::npos);
  CHECK(file.err.find("k3y") == std::string::npos);
  auto help = itest::portman({"--help"});
  CHECK(help.out.find("--dokploy.api_key ") == std::string::npos);
  CHECK(help.out.find("--dokploy.api_key_file") != std::string::npos);
}
