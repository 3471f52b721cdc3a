// Registry files whose content is bad in ways that used to crash (numbers out of range, deep
// nesting) or mislead (a generation at its maximum, two spellings of one port): every command
// exits 3 with the location, writes nothing, and the agent keeps its last good registry.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "harness.hpp"

using itest::TempDir;
namespace fs = std::filesystem;

namespace {

struct BadFile {
  const char* name;
  std::string text;
  std::string location;  // what stderr must name
};

std::vector<BadFile> bad_files() {
  auto deep = [](size_t depth) {
    return R"({"allocations": {"10001": {"service": "x", "deep": )" + std::string(depth, '[') +
           std::string(depth, ']') + "}}}\n";
  };
  return {
      {"1e400", "{\"allocations\": {\n  \"10001\": {\"service\": \"x\", \"replicas\": 1e400}}}\n",
       ":2:41: allocations[\"10001\"].replicas: number 1e400"},
      {"10**400", R"({"generation": 1)" + std::string(400, '0') + "}\n", ":1:16: generation"},
      {"uint64", R"({"allocations": {"10001": {"n": 18446744073709551615}}})",
       ": allocations[\"10001\"].n: whole number 18446744073709551615"},
      {"deep 150000", deep(150'000), ":1:113: nested deeper than 64 levels"},
      {"deep 20000", deep(20'000), ":1:113: nested deeper than 64 levels"},
      {"generation max", R"({"generation": 9223372036854775807, "allocations": {}})",
       ": generation: expected a whole number from 0 to 9223372036854775806"},
      {"0080", R"({"allocations": {"80": {"service": "a"}, "0080": {"service": "b"}}})",
       ": allocations[\"0080\"]: key '0080'"},
  };
}

std::map<std::string, std::string> snapshot(const TempDir& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir.path()))
    out[e.path().filename().string()] = itest::read_file(e.path());
  return out;
}

std::optional<double> metric(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  return std::nullopt;
}

}  // namespace

TEST_CASE("a registry with bad numbers or shapes: exit 3 naming where, and nothing written") {
  for (const auto& bad : bad_files()) {
    TempDir dir;
    const std::string reg = (dir / "reg.json").string();
    itest::write_file(reg, bad.text);
    auto before = snapshot(dir);
    for (std::vector<std::string> cmd : {std::vector<std::string>{"list"},
                                         {"allocate", "t1", "-t", "dynamic"},
                                         {"release", "80"},
                                         {"check", "80"},
                                         {"update", "80", "active"},
                                         {"suggest"}}) {
      cmd.insert(cmd.end(), {"--registry", reg});
      auto r = itest::portman(cmd);
      INFO(bad.name << ": portman " << cmd.front() << " -> " << r.code << " " << r.err);
      CHECK(r.code == 3);  // not 134 (abort) or 139 (segfault)
      CHECK(r.err.find(reg + bad.location) != std::string::npos);
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
      CHECK(r.err.size() < 400);
    }
    INFO(bad.name);
    CHECK(snapshot(dir) == before);  // byte for byte, and no .bak or temp file
  }
}

TEST_CASE("release 80 with 0080 in the file no longer archives the wrong entry") {
  TempDir dir;
  const std::string text = R"({"allocations": {"0080": {"service": "a"}, "80": {"service": "b"}}})";
  itest::write_file(dir / "reg.json", text);
  auto r = itest::portman({"release", "80", "--registry", (dir / "reg.json").string()});
  CHECK(r.code == 3);
  CHECK(itest::read_file(dir / "reg.json") == text);
}

TEST_CASE("80 and 80/tcp together are listed, reported by validate, and never rewritten") {
  TempDir dir;
  const std::string reg = (dir / "reg.json").string();
  const std::string text =
      R"({"allocations": {"80": {"service": "a"}, "80/tcp": {"service": "b"}, "3001": {}}})";
  itest::write_file(reg, text);
  auto list = itest::portman({"list", "--registry", reg});
  CHECK(list.code == 0);
  std::istringstream lines(list.out);
  std::vector<std::string> services_on_80;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string port, service;
    if (words >> port >> service && port == "80") services_on_80.push_back(service);
  }
  CHECK(services_on_80 == std::vector<std::string>{"a", "b"});
  auto v = itest::portman({"validate", "--registry", reg});
  CHECK(v.code == 3);
  CHECK(v.out.find("error: " + reg + ": allocations[\"80/tcp\"]: names the same port as \"80\"") !=
        std::string::npos);
  for (std::vector<std::string> cmd : {std::vector<std::string>{"release", "80"},
                                       {"release", "3001"},
                                       {"allocate", "t1", "-t", "dynamic"}}) {
    cmd.insert(cmd.end(), {"--registry", reg});
    auto r = itest::portman(cmd);
    INFO(cmd.front() << " " << cmd[1] << " -> " << r.err);
    CHECK(r.code == 3);
    CHECK(r.err.find("allocations[\"80/tcp\"]") != std::string::npos);
  }
  CHECK(itest::read_file(reg) == text);
}

TEST_CASE("validate lists every bad key and entry with its JSON path, the file named once") {
  TempDir dir;
  // Not writable by every user, so that the folder warning is not among the counted ones.
  std::filesystem::permissions(dir.path(), std::filesystem::perms(0755));
  const std::string reg = (dir / "reg.json").string();
  itest::write_file(reg, R"({"allocations": {
    "abc": {"service": "x"},
    "70000": {"service": "y"},
    "3001": "not an object",
    "22": {"service": "ssh", "status": "active"},
    "8150": {"service": "misplaced", "service_type": "web", "status": "sleepy",
             "environment": "qa"}
  }})");
  auto r = itest::portman({"validate", "--registry", reg});
  INFO(r.out);
  CHECK(r.code == 3);
  for (const std::string& line :
       {"error: " + reg + ": allocations[\"abc\"]: key 'abc' is not PORT",
        "error: " + reg + ": allocations[\"70000\"]: key '70000' is not PORT",
        "error: " + reg + ": allocations[\"3001\"]: expected an object, got string",
        // Entries without problems are still checked against the config, naming its key.
        "warning: " + reg + ": allocations[\"22\"]: port is listed in `reserved`",
        "warning: " + reg + ": allocations[\"8150\"].status: 'sleepy' is not a configured status " +
            "(not in `statuses`",
        "warning: " + reg + ": allocations[\"8150\"].environment: 'qa' is not a configured " +
            "environment (not in `environments`",
        "warning: " + reg + ": allocations[\"8150\"].service_type: port outside the web range " +
            "3000-3099 (`types.web.range`"})
    CHECK(r.out.find(line) != std::string::npos);
  CHECK(r.out.find(reg + ": " + reg) == std::string::npos);
  CHECK(r.out.find(": 3 errors, 4 warnings") != std::string::npos);

  // A syntax error is one problem with line and column, the file named once.
  itest::write_file(reg, "{\"allocations\": {\n  \"abc\": ]}}");
  auto syntax = itest::portman({"validate", "--json", "--registry", reg});
  CHECK(syntax.code == 3);
  auto j = syntax.json();
  REQUIRE(j["problems"].size() == 1);
  CHECK(j["problems"][0]["where"] == reg + ":2:10");
}

TEST_CASE("agent: a registry with 1e400 or deep nesting keeps the last good one running") {
  TempDir dir;
  const std::string reg = (dir / "reg.json").string();
  itest::write_file(reg, R"({"allocations": {"18390": {"service": "kept"}}})");
  itest::Agent agent({"--scan.min-interval", "0s", "--registry", reg});
  auto scrape = [&] {
    auto r = itest::curl({agent.url("/metrics")});
    REQUIRE(r.code == 0);
    return r.out;
  };
  CHECK(metric(scrape(), "portman_registry_valid") == 1);
  const std::string deep = R"({"allocations": {"18390": {"x": )" + std::string(150'000, '[') +
                           std::string(150'000, ']') + "}}}";
  for (const std::string& bad : {std::string(R"({"allocations": {"18390": {"n": 1e400}}})"), deep,
                                 std::string(R"({"generation": 9223372036854775807})")}) {
    itest::write_file(dir / "reg.json.new", bad);
    fs::rename(dir / "reg.json.new", reg);  // as portman saves: a new inode
    std::string text;
    for (int i = 0; i < 100; ++i) {
      text = scrape();
      if (metric(text, "portman_registry_valid") == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(metric(text, "portman_registry_valid") == 0);
    CHECK(::kill(agent.pid(), 0) == 0);
    CHECK(text.find("kept") != std::string::npos);
    // Valid again before the next bad file, so that each one is seen as a change.
    itest::write_file(dir / "reg.json.new", R"({"allocations": {"18390": {"service": "kept"}}})");
    fs::rename(dir / "reg.json.new", reg);
    for (int i = 0; i < 100 && metric(text, "portman_registry_valid") != 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      text = scrape();
    }
    CHECK(metric(text, "portman_registry_valid") == 1);
  }
  CHECK(agent.log().find("registry invalid, keeping the last good one") != std::string::npos);
}
