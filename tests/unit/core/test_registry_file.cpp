// The registry on disk: loading, atomic saves with a .bak, refusals, and the lock.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "libportman/registry_file.hpp"

using namespace portman;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A fresh folder under /tmp for one test, removed with everything in it afterwards.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/portman-core-test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void spit(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

const auto kNow = std::chrono::system_clock::from_time_t(1772625600);  // 2026-03-04T12:00:00Z

}  // namespace

TEST_CASE("loading a missing registry file gives an empty registry", "[registry_file]") {
  TempDir dir;
  auto r = load_registry(dir.path() / "port_registry.json");
  REQUIRE(r.ok());
  CHECK(r->entries().empty());
  CHECK(r->generation() == 0);
  CHECK(names_in(dir.path()).empty());  // reading never creates the file
}

TEST_CASE("an invalid registry file is refused as invalid data naming the file",
          "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  spit(file, "{\"allocations\": {\"3000\": {\"status\": 7}}}");
  auto r = load_registry(file);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::invalid_data);
  CHECK_THAT(r.error().message, Catch::Contains(file.string()));
  CHECK_THAT(r.error().message, Catch::Contains("allocations[\"3000\"].status"));

  spit(file, "{ not json");
  auto syntax = load_registry(file);
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.error().kind == ErrorKind::invalid_data);
  CHECK_THAT(syntax.error().message, Catch::StartsWith(file.string() + ":1:"));

  auto folder = load_registry(dir.path());  // a folder, not a file
  REQUIRE_FALSE(folder.ok());
  CHECK(folder.error().kind == ErrorKind::invalid_data);
}

TEST_CASE("save creates the file, keeps the previous version as .bak and leaves no temp files",
          "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  Registry r;
  r.add({3000, Protocol::tcp}, Json{{"service", "web"}, {"status", "allocated"}});
  REQUIRE(save_registry(file, r, kNow).ok());
  CHECK(names_in(dir.path()) == std::set<std::string>{"port_registry.json"});  // no .bak yet
  const std::string first = slurp(file);
  CHECK(first == r.serialize_next(kNow));

  auto loaded = load_registry(file);
  REQUIRE(loaded.ok());
  CHECK(loaded->generation() == 1);
  REQUIRE(loaded->find({3000, Protocol::tcp}));
  CHECK(loaded->find({3000, Protocol::tcp})->service == "web");

  loaded->set_status({3000, Protocol::tcp}, "active", std::nullopt, "2026-03-04T12:00:00");
  REQUIRE(save_registry(file, *loaded, kNow).ok());
  CHECK(names_in(dir.path()) ==
        std::set<std::string>{"port_registry.json", "port_registry.json.bak"});
  CHECK(slurp(dir.path() / "port_registry.json.bak") == first);
  auto second = load_registry(file);
  REQUIRE(second.ok());
  CHECK(second->generation() == 2);
  CHECK(second->find({3000, Protocol::tcp})->status == "active");
}

TEST_CASE("save refuses a registry with duplicate keys and leaves the file byte-identical",
          "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  const std::string text =
      "{\"allocations\": {\"3000\": {\"service\": \"a\"}, \"3000\": {\"service\": \"b\"}}}";
  spit(file, text);
  auto r = load_registry(file);
  REQUIRE(r.ok());
  REQUIRE(r->duplicate_keys() == std::vector<std::string>{"allocations[\"3000\"]"});
  auto st = save_registry(file, *r, kNow);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().kind == ErrorKind::invalid_data);
  CHECK_THAT(st.error().message, Catch::Contains("allocations[\"3000\"]"));
  CHECK(slurp(file) == text);
  CHECK(names_in(dir.path()) == std::set<std::string>{"port_registry.json"});
}

TEST_CASE("save keeps unknown fields of the file on disk", "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  spit(file, R"({"server": "203.0.113.5", "allocations": {"80": {"service": "nginx",
      "x-custom": {"a": [1, 2]}}}, "archive": [{"port": 81, "why": "moved"}]})");
  auto r = load_registry(file);
  REQUIRE(r.ok());
  REQUIRE(save_registry(file, *r, kNow).ok());
  auto j = nlohmann::json::parse(slurp(file));
  CHECK(j["server"] == "203.0.113.5");
  CHECK(j["allocations"]["80"]["x-custom"]["a"] == nlohmann::json({1, 2}));
  CHECK(j["archive"][0]["why"] == "moved");
  CHECK(j["generation"] == 1);
}

TEST_CASE("lock_registry creates the folder and the sidecar .lock file", "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "state" / "portman" / "port_registry.json";
  {
    auto lock = lock_registry(file, 100ms);
    REQUIRE(lock.ok());
    CHECK(fs::is_directory(file.parent_path()));
    CHECK(fs::exists(file.string() + ".lock"));
    CHECK_FALSE(fs::exists(file));
  }
  // Released with the object: the next one gets it at once.
  auto again = lock_registry(file, 0ms);
  CHECK(again.ok());
}

TEST_CASE("a lock held in this process makes a second attempt time out", "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  auto first = lock_registry(file, 100ms);
  REQUIRE(first.ok());
  auto start = std::chrono::steady_clock::now();
  auto second = lock_registry(file, 150ms);
  auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().kind == ErrorKind::io);
  CHECK(waited >= 150ms);
  CHECK(waited < 3s);
  CHECK_THAT(second.error().message, Catch::Contains("pid " + std::to_string(::getpid())));
  CHECK_THAT(second.error().message, Catch::Contains("lock_timeout"));
}

TEST_CASE("a lock held by another process times out with a message naming its pid",
          "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  const std::string lock_path = file.string() + ".lock";
  int ready[2], release[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(release) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The holder: lock, tell the parent, wait until the parent closes its end.
    ::close(ready[0]);
    ::close(release[1]);
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(1);
    char c = 'x';
    if (::write(ready[1], &c, 1) != 1) ::_exit(1);
    while (::read(release[0], &c, 1) > 0) {
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);

  auto start = std::chrono::steady_clock::now();
  auto lock = lock_registry(file, 200ms);
  auto waited = std::chrono::steady_clock::now() - start;

  ::close(release[1]);  // let the child go before any REQUIRE can leave it behind
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(ready[0]);

  REQUIRE_FALSE(lock.ok());
  CHECK(lock.error().kind == ErrorKind::io);
  CHECK_THAT(lock.error().message, Catch::Contains("locked by pid " + std::to_string(child)));
  CHECK_THAT(lock.error().message, Catch::Contains(lock_path));
  CHECK(waited >= 200ms);
  CHECK(waited < 3s);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  // The holder is gone: the lock is free again.
  CHECK(lock_registry(file, 1s).ok());
}

TEST_CASE("save succeeds over debris that a killed save with the same pid left behind",
          "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  Registry r;
  REQUIRE(save_registry(file, r, kNow).ok());
  const std::string first = slurp(file);
  // A save killed between its link and its rename leaves FILE.bak.tmp.PID; pids are reused.
  const std::string pid = std::to_string(::getpid());
  spit(file.string() + ".bak.tmp." + pid, "stale");
  spit(file.string() + ".tmp." + pid, "stale");
  auto loaded = load_registry(file);
  REQUIRE(loaded.ok());
  auto st = save_registry(file, *loaded, kNow);
  if (!st) FAIL(st.error().message);
  CHECK(slurp(file.string() + ".bak") == first);
  CHECK(load_registry(file)->generation() == 2);
  CHECK(names_in(dir.path()) ==
        std::set<std::string>{"port_registry.json", "port_registry.json.bak"});
}

TEST_CASE("save keeps the file's mode, so a private registry stays private", "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  spit(file, R"({"allocations": {}})");
  REQUIRE(::chmod(file.c_str(), 0600) == 0);
  auto reg = load_registry(file);
  REQUIRE(reg);
  REQUIRE(save_registry(file, *reg, std::chrono::system_clock::now()));
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("save removes temp files that killed saves of other pids left behind",
          "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  spit(dir.path() / "port_registry.json.tmp.999999", "{\"half\": ");
  spit(dir.path() / "port_registry.json.bak.tmp.888888", "old");
  spit(dir.path() / "other.json.tmp.1", "not ours");
  REQUIRE(save_registry(file, Registry(), std::chrono::system_clock::now()));
  CHECK_FALSE(fs::exists(dir.path() / "port_registry.json.tmp.999999"));
  CHECK_FALSE(fs::exists(dir.path() / "port_registry.json.bak.tmp.888888"));
  CHECK(fs::exists(dir.path() / "other.json.tmp.1"));
}
