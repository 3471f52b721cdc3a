// `portman sync` when Dokploy cannot be reached: one line, exit 1, nothing written. (The plans
// themselves: tests/unit/core/test_sync_plan.cpp; the nginx output in nginx: test_nginx.cpp.)
#include <catch2/catch.hpp>

#include <filesystem>

#include "integration/harness.hpp"

namespace fs = std::filesystem;
using namespace itest;

namespace {

// Nothing listens on port 1 in the test's own network namespace.
RunOptions unreachable_dokploy() {
  RunOptions o;
  o.env = {{"PORTMAN_CONFIG", "/dev/null"},
           {"DOKPLOY_API_URL", "http://127.0.0.1:1"},
           {"DOKPLOY_API_KEY", "test-key-not-secret"}};
  return o;
}

bool one_line(const std::string& text) {
  return !text.empty() && text.find('\n') == text.size() - 1;
}

}  // namespace

TEST_CASE("sync without Dokploy says so in one line and leaves the registry alone", "[sync]") {
  TempDir dir;
  const std::string reg = (dir / "port_registry.json").string();
  REQUIRE(portman({"allocate", "my-api", "-t", "api", "--registry", reg}).code == 0);
  const std::string before = read_file(reg);

  for (auto args :
       {std::vector<std::string>{"sync"}, {"sync", "--dry-run"}, {"sync", "--dry-run", "--json"}}) {
    args.insert(args.end(), {"--registry", reg});
    auto r = portman(args, unreachable_dokploy());
    INFO(args.back() << ": " << r.err);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(one_line(r.err));
    CHECK(r.err.rfind("portman: error: ", 0) == 0);
    CHECK(read_file(reg) == before);
  }
  CHECK_FALSE(fs::exists(reg + ".bak"));
}

TEST_CASE("sync --nginx without Dokploy writes no file", "[sync]") {
  TempDir dir;
  const fs::path out = dir / "portman.conf";
  auto r = portman({"sync", "--nginx", "-o", out.string()}, unreachable_dokploy());
  CHECK(r.code == 1);
  CHECK(one_line(r.err));
  CHECK_FALSE(fs::exists(out));
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("sync refuses flags that do not go together and a folder as output", "[sync]") {
  TempDir dir;
  for (auto args : {std::vector<std::string>{"sync", "-o", "x.conf"},
                    {"sync", "--nginx", "--dry-run"},
                    {"sync", "--nginx", "--json"},
                    {"sync", "--nginx", "-o", dir.path().string()}}) {
    auto r = portman(args, unreachable_dokploy());
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(one_line(r.err));
  }
  auto r = portman({"sync", "--nginx", "-o", dir.path().string()}, unreachable_dokploy());
  CHECK(r.err.find("is a folder") != std::string::npos);
}
