// Bad input, bad files, list output and option handling through the real binary. A refused
// command must change nothing on disk.
#include <catch2/catch.hpp>

#include <sched.h>
#include <sys/mount.h>

#include <cstdio>
#include <filesystem>

#include "harness.hpp"

using itest::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kRegistry = R"({
  "version": "1.0.0",
  "allocations": {
    "3000": {"service": "Shop, \"Main\" site", "status": "active", "environment": "production",
             "owner": "velo", "url": "https://shop.example.com", "service_type": "web"},
    "5432": {"service": "Postgres", "status": "inactive", "environment": "staging",
             "owner": "db", "service_type": "database"},
    "8100": {"service": "VLM", "status": "allocated", "environment": "development",
             "service_type": "ml"},
    "53/udp": {"service": "DNS cache", "status": "active", "environment": "production"},
    "12345": {"service": "Odd one", "status": "active", "environment": "production"}
  },
  "archive": []
}
)";

// Files in the folder, with their contents: to prove that nothing changed.
std::map<std::string, std::string> snapshot(const TempDir& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir.path()))
    if (e.is_regular_file()) out[e.path().string()] = itest::read_file(e.path());
  return out;
}

}  // namespace

TEST_CASE("bad input is refused with exit 2, one line naming the value, and nothing changes") {
  TempDir dir;
  itest::write_file(dir / "reg.json", kRegistry);
  std::string reg = (dir / "reg.json").string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"check", "abc"}, "'abc'"},
      {{"check", "0"}, "'0'"},
      {{"check", "65536"}, "'65536'"},
      {{"check", "-1"}, "'-1'"},
      {{"check", "80.5"}, "'80.5'"},
      {{"release", "abc"}, "'abc'"},
      {{"update", "3000", "sleeping"}, "'sleeping'"},
      {{"update", "99999", "active"}, "'99999'"},
      {{"allocate", "x", "-t", "nosuchtype"}, "'nosuchtype'"},
      {{"allocate", "x", "-e", "prod"}, "'prod'"},
      {{"allocate", "x", "-p", "0"}, "'0'"},
      {{"allocate", "x", "-p", "80.5"}, "'80.5'"},
      {{"allocate", "x", "--bind", "localhost"}, "'localhost'"},
      {{"allocate"}, "name is required"},
      {{"update", "3000"}, "status is required"},
      {{"check"}, "port is required"},
      {{"list", "-s", "bogus"}, "'bogus'"},
      {{"list", "-t", "bogus"}, "'bogus'"},
      {{"suggest", "-t", "bogus"}, "'bogus'"},
      {{"suggest", "-c", "0"}, "count 0"},
      {{"frobnicate"}, "'frobnicate'"},
  };
  auto before = snapshot(dir);
  for (const auto& [args, needle] : cases) {
    std::vector<std::string> argv = args;
    argv.insert(argv.end(), {"--registry", reg});
    auto r = itest::portman(argv);
    INFO(args.front() << " " << (args.size() > 1 ? args[1] : "") << " -> " << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(needle) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
  CHECK(snapshot(dir) == before);
}

TEST_CASE(
    "an unparseable registry is refused with file, line and column, exit 3, never rewritten") {
  TempDir dir;
  std::string broken = "{\n  \"allocations\": {\n    \"3000\": {\"service\": \"x\",,}\n  }\n}\n";
  itest::write_file(dir / "reg.json", broken);
  std::string reg = (dir / "reg.json").string();
  auto before = snapshot(dir);
  for (std::vector<std::string> args : {std::vector<std::string>{"list"},
                                        {"scan"},
                                        {"check", "3000"},
                                        {"allocate", "y", "-t", "web"},
                                        {"update", "3000", "active"},
                                        {"release", "3000"}}) {
    args.insert(args.end(), {"--registry", reg});
    auto r = itest::portman(args);
    INFO(args.front() << ": " << r.err);
    CHECK(r.code == 3);
    CHECK(r.err.find(reg + ":3:") != std::string::npos);
  }
  CHECK(snapshot(dir) == before);  // no rewrite, no .bak
}

TEST_CASE("a registry with wrong types is refused naming the JSON path") {
  TempDir dir;
  itest::write_file(dir / "reg.json",
                    R"({"allocations": {"3000": {"service": "x", "status": 5}}})");
  auto r = itest::portman({"list", "--registry", (dir / "reg.json").string()});
  CHECK(r.code == 3);
  CHECK(r.err.find("allocations[\"3000\"].status: expected a string, got number") !=
        std::string::npos);
}

TEST_CASE("an invalid config is refused with file, line, column and what would be valid") {
  TempDir dir;
  auto run_with = [&](const std::string& yaml) {
    itest::write_file(dir / "portman.yml", yaml);
    return itest::portman({"list", "--config", (dir / "portman.yml").string(), "--registry",
                           (dir / "reg.json").string()});
  };
  auto unknown = run_with("registry: /tmp/x.json\nreserverd: [22]\n");
  CHECK(unknown.code == 3);
  CHECK(unknown.err.find("portman.yml:2:1: unknown key 'reserverd'; valid keys:") !=
        std::string::npos);
  auto overlap = run_with("types:\n  web: { range: 8050-8150 }\n");
  CHECK(overlap.code == 3);
  CHECK(overlap.err.find("overlaps") != std::string::npos);
  auto inverted = run_with("types:\n  web: { range: 3099-3000 }\n");
  CHECK(inverted.code == 3);
  CHECK(inverted.err.find("portman.yml:2:17:") != std::string::npos);
  auto port = run_with("reserved: [22, 70000]\n");
  CHECK(port.code == 3);
  CHECK(port.err.find("'70000' is not a port; valid ports are 1-65535") != std::string::npos);
  auto missing = itest::portman({"list", "--config", (dir / "nope.yml").string()});
  CHECK(missing.code == 3);
  CHECK(missing.err.find("nope.yml") != std::string::npos);
}

TEST_CASE("list prints ports in order, filters, groups by range and environment") {
  TempDir dir;
  itest::write_file(dir / "reg.json", kRegistry);
  std::string reg = (dir / "reg.json").string();
  auto plain = itest::portman({"list", "--registry", reg});
  REQUIRE(plain.code == 0);
  CHECK(plain.out.find("3000") < plain.out.find("5432"));
  CHECK(plain.out.find("53/udp") < plain.out.find("3000"));
  auto prod = itest::portman({"list", "-e", "production", "--registry", reg});
  CHECK(prod.out.find("Postgres") == std::string::npos);
  CHECK(prod.out.find("DNS cache") != std::string::npos);
  auto ml = itest::portman({"list", "-t", "ai", "--registry", reg});  // an alias of ml
  CHECK(ml.out.find("VLM") != std::string::npos);
  CHECK(ml.out.find("Postgres") == std::string::npos);
  auto ranges = itest::portman({"list", "-r", "--registry", reg});
  CHECK(ranges.out.find("Unassigned") < ranges.out.find("Odd one"));
  CHECK(ranges.out.find("ML/AI Services") < ranges.out.find("VLM"));
  auto details = itest::portman({"list", "-d", "--registry", reg});
  CHECK(details.out.find("staging") < details.out.find("Postgres"));
  CHECK(details.out.find("https://shop.example.com") != std::string::npos);
  auto status = itest::portman({"list", "-s", "inactive", "--registry", reg});
  CHECK(status.out.find("Postgres") != std::string::npos);
  CHECK(status.out.find("VLM") == std::string::npos);
}

TEST_CASE("list -c writes RFC 4180 CSV with the seed's header and quoted commas and quotes") {
  TempDir dir;
  itest::write_file(dir / "reg.json", kRegistry);
  auto r = itest::portman({"list", "-c", "--registry", (dir / "reg.json").string()});
  REQUIRE(r.code == 0);
  CHECK(r.out.rfind("Port,Service,Status,Environment,Owner,URL\r\n", 0) == 0);
  CHECK(
      r.out.find(
          "3000,\"Shop, \"\"Main\"\" site\",active,production,velo,https://shop.example.com\r\n") !=
      std::string::npos);
}

TEST_CASE("list --json gives every entry with port and protocol, unknown fields included") {
  TempDir dir;
  itest::write_file(dir / "reg.json", kRegistry);
  json j = itest::portman({"list", "--json", "--registry", (dir / "reg.json").string()}).json();
  REQUIRE(j.size() == 5);
  CHECK(j[0]["port"] == 53);
  CHECK(j[0]["protocol"] == "udp");
  CHECK(j[1]["port"] == 3000);
  CHECK(j[1]["owner"] == "velo");
}

TEST_CASE(
    "global options work before and after the command, and the registry path has precedence") {
  TempDir dir;
  itest::write_file(dir / "a.json", R"({"allocations": {"1111": {"service": "from-a"}}})");
  itest::write_file(dir / "b.json", R"({"allocations": {"2222": {"service": "from-b"}}})");
  itest::write_file(dir / "c.yml", "registry: " + (dir / "c.json").string() + "\n");
  itest::write_file(dir / "c.json", R"({"allocations": {"3333": {"service": "from-c"}}})");
  std::string a = (dir / "a.json").string(), b = (dir / "b.json").string(),
              cfg = (dir / "c.yml").string();
  CHECK(itest::portman({"--registry", a, "list"}).out.find("from-a") != std::string::npos);
  CHECK(itest::portman({"list", "--registry", a}).out.find("from-a") != std::string::npos);
  itest::RunOptions env_b;
  env_b.env["PORT_REGISTRY_PATH"] = b;
  env_b.env["PORTMAN_CONFIG"] = cfg;
  CHECK(itest::portman({"list"}, env_b).out.find("from-b") !=
        std::string::npos);  // env over config
  CHECK(itest::portman({"list", "--registry", a}, env_b).out.find("from-a") != std::string::npos);
  itest::RunOptions cfg_only;
  cfg_only.env["PORTMAN_CONFIG"] = cfg;
  CHECK(itest::portman({"list"}, cfg_only).out.find("from-c") != std::string::npos);  // config
  CHECK(itest::portman({"list", "--config", cfg}).out.find("from-c") != std::string::npos);
}

TEST_CASE("validate lists every problem with its location: exit 3 on errors, 0 on warnings only") {
  TempDir dir;
  itest::write_file(dir / "warn.json", R"({"allocations": {
    "8150": {"service": "misplaced", "service_type": "web", "status": "sleepy"}}})");
  auto warn = itest::portman({"validate", "--registry", (dir / "warn.json").string()});
  CHECK(warn.code == 0);
  CHECK(warn.out.find("allocations[\"8150\"].service_type: port outside the web range 3000-3099") !=
        std::string::npos);
  CHECK(warn.out.find("'sleepy' is not a configured status") != std::string::npos);
  itest::write_file(dir / "err.json",
                    R"({"allocations": {"3000": {"service": "a"}, "3000": {"service": "b"},
    "4000": {"service": "c", "bind": "not-an-ip"}}})");
  auto err = itest::portman({"validate", "--json", "--registry", (dir / "err.json").string()});
  CHECK(err.code == 3);
  json j = err.json();
  CHECK(j["errors"] == 2);
  // A type range inside the kernel's ephemeral range (from --path.procfs) is a warning.
  itest::write_file(dir / "eph.yml", "types:\n  dynamic: { range: 40000-40999 }\n");
  auto eph = itest::portman({"validate", "--config", (dir / "eph.yml").string(), "--registry",
                             (dir / "warn.json").string()});
  CHECK(eph.out.find("overlaps the kernel's ephemeral ports") != std::string::npos);
}

TEST_CASE("every command has --help with examples, and version prints the version") {
  for (const char* cmd :
       {"list", "check", "scan", "allocate", "release", "update", "suggest", "validate"}) {
    auto r = itest::portman({cmd, "--help"});
    INFO(cmd);
    CHECK(r.code == 0);
    CHECK(r.out.find("Examples:") != std::string::npos);
  }
  auto v = itest::portman({"version"});
  CHECK(v.code == 0);
  CHECK(v.out.rfind("portman ", 0) == 0);
}

TEST_CASE("colour appears only on a terminal, and never with NO_COLOR or --no-color") {
  TempDir dir;
  itest::write_file(dir / "reg.json", kRegistry);
  std::string cmd = std::string(PORTMAN_BIN) + " list --registry " + (dir / "reg.json").string();
  // `script` gives the command a pseudo-terminal.
  auto tty =
      itest::run({"script", "-qec", cmd, "/dev/null"}, {{{"PORTMAN_CONFIG", "/dev/null"}}, {}});
  CHECK(tty.out.find("\033[32m") != std::string::npos);  // active in green
  auto no_color_env = itest::run({"script", "-qec", cmd, "/dev/null"},
                                 {{{"PORTMAN_CONFIG", "/dev/null"}, {"NO_COLOR", "1"}}, {}});
  CHECK(no_color_env.out.find("\033[") == std::string::npos);
  auto no_color_flag = itest::run({"script", "-qec", cmd + " --no-color", "/dev/null"},
                                  {{{"PORTMAN_CONFIG", "/dev/null"}}, {}});
  CHECK(no_color_flag.out.find("\033[") == std::string::npos);
  CHECK(no_color_flag.out.find("Shop") != std::string::npos);
  auto piped =
      itest::portman({"list", "--registry", (dir / "reg.json").string()}, {{{"NO_COLOR", ""}}, {}});
  CHECK(piped.out.find("\033[") == std::string::npos);
}

TEST_CASE("a full disk refuses the change and leaves the old registry whole") {
  // A private mount namespace, so that the small tmpfs never shows outside this test.
  REQUIRE(::unshare(CLONE_NEWNS) == 0);
  REQUIRE(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
  TempDir dir;
  REQUIRE(::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=64k") == 0);
  std::string reg = (dir / "reg.json").string();
  REQUIRE(itest::portman({"allocate", "first", "-t", "api", "--registry", reg}).code == 0);
  std::string before = itest::read_file(dir / "reg.json");
  {  // fill what is left
    std::FILE* f = std::fopen((dir / "filler").c_str(), "w");
    std::string block(4096, 'x');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size() && std::fflush(f) == 0) {
    }
    std::fclose(f);
  }
  auto r = itest::portman(
      {"allocate", "second", "-t", "api", "-d", std::string(8000, 'd'), "--registry", reg});
  CHECK(r.code == 1);
  CHECK(r.err.find("No space left on device") != std::string::npos);
  CHECK(itest::read_file(dir / "reg.json") == before);
  bool debris = false;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    debris = debris || e.path().filename().string().find(".tmp.") != std::string::npos;
  CHECK_FALSE(debris);
  ::umount2(dir.path().c_str(), MNT_DETACH);
}
