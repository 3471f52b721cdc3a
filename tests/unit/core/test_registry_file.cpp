// The registry on disk: loading, atomic saves with a .bak, refusals, and the lock.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "libportman/limits.hpp"
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

// Saves as the CLI does: with the lock held.
Result<std::vector<std::string>> save(const fs::path& file, const Registry& r,
                                      std::chrono::system_clock::time_point now) {
  auto lock = lock_registry(file, 1s);
  if (!lock) return lock.error();
  return save_registry(*lock, r, now);
}

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
  REQUIRE(save(file, r, kNow).ok());
  CHECK(names_in(dir.path()) ==
        std::set<std::string>{"port_registry.json", "port_registry.json.lock"});  // no .bak yet
  const std::string first = slurp(file);
  CHECK(first == r.serialize_next(kNow));

  auto loaded = load_registry(file);
  REQUIRE(loaded.ok());
  CHECK(loaded->generation() == 1);
  REQUIRE(loaded->find({3000, Protocol::tcp}));
  CHECK(loaded->find({3000, Protocol::tcp})->service == "web");

  loaded->set_status({3000, Protocol::tcp}, "active", std::nullopt, "2026-03-04T12:00:00");
  REQUIRE(save(file, *loaded, kNow).ok());
  CHECK(names_in(dir.path()) == std::set<std::string>{"port_registry.json",
                                                      "port_registry.json.bak",
                                                      "port_registry.json.lock"});
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
  auto st = save(file, *r, kNow);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().kind == ErrorKind::invalid_data);
  CHECK_THAT(st.error().message, Catch::Contains("allocations[\"3000\"]"));
  CHECK(slurp(file) == text);
  CHECK(names_in(dir.path()) ==
        std::set<std::string>{"port_registry.json", "port_registry.json.lock"});
}

TEST_CASE("save refuses a registry at the last generation and leaves the file byte-identical",
          "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  const std::string text = "{\"generation\": 9223372036854775806, \"allocations\": {}}";
  spit(file, text);
  auto r = load_registry(file);
  REQUIRE(r.ok());  // readable: list, check and scan still work
  auto st = save(file, *r, kNow);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().kind == ErrorKind::invalid_data);
  CHECK_THAT(st.error().message, Catch::Contains("generation: 9223372036854775806 is the last"));
  CHECK(slurp(file) == text);

  spit(file, "{\"generation\": 9223372036854775805, \"allocations\": {}}");
  auto before_last = load_registry(file);
  REQUIRE(before_last.ok());
  REQUIRE(save(file, *before_last, kNow).ok());
  auto after = load_registry(file);
  REQUIRE(after.ok());  // what a save writes is always readable again
  CHECK(after->generation() == Registry::kMaxGeneration);
}

TEST_CASE("save keeps unknown fields of the file on disk", "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  spit(file, R"({"server": "203.0.113.5", "allocations": {"80": {"service": "nginx",
      "x-custom": {"a": [1, 2]}}}, "archive": [{"port": 81, "why": "moved"}]})");
  auto r = load_registry(file);
  REQUIRE(r.ok());
  REQUIRE(save(file, *r, kNow).ok());
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
  REQUIRE(save(file, r, kNow).ok());
  const std::string first = slurp(file);
  // A save killed between its link and its rename leaves FILE.bak.tmp.PID; pids are reused.
  const std::string pid = std::to_string(::getpid());
  spit(file.string() + ".bak.tmp." + pid, "stale");
  spit(file.string() + ".tmp." + pid, "stale");
  auto loaded = load_registry(file);
  REQUIRE(loaded.ok());
  auto st = save(file, *loaded, kNow);
  if (!st) FAIL(st.error().message);
  CHECK(slurp(file.string() + ".bak") == first);
  CHECK(load_registry(file)->generation() == 2);
  CHECK(names_in(dir.path()) == std::set<std::string>{"port_registry.json",
                                                      "port_registry.json.bak",
                                                      "port_registry.json.lock"});
}

TEST_CASE("save keeps the file's mode, so a private registry stays private", "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  spit(file, R"({"allocations": {}})");
  REQUIRE(::chmod(file.c_str(), 0600) == 0);
  auto reg = load_registry(file);
  REQUIRE(reg);
  REQUIRE(save(file, *reg, std::chrono::system_clock::now()));
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
  REQUIRE(save(file, Registry(), std::chrono::system_clock::now()));
  CHECK_FALSE(fs::exists(dir.path() / "port_registry.json.tmp.999999"));
  CHECK_FALSE(fs::exists(dir.path() / "port_registry.json.bak.tmp.888888"));
  CHECK(fs::exists(dir.path() / "other.json.tmp.1"));
}

namespace {

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

ino_t inode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_ino;
}

Registry one_entry(const std::string& service) {
  Registry r;
  r.add({3000, Protocol::tcp}, Json{{"service", service}});
  return r;
}

}  // namespace

TEST_CASE("resolve_registry follows chains of links, relative ones from the link's folder",
          "[registry_file]") {
  TempDir dir;
  fs::create_directories(dir.path() / "a" / "b");
  fs::create_directories(dir.path() / "data");
  fs::create_symlink("../data/m.json", dir.path() / "a" / "first.json");
  fs::create_symlink("../first.json", dir.path() / "a" / "b" / "second.json");
  auto r = resolve_registry(dir.path() / "a" / "b" / "second.json");
  REQUIRE(r.ok());
  CHECK(fs::weakly_canonical(*r) == dir.path() / "data" / "m.json");
  // A path that is no link comes back unchanged, existing or not.
  CHECK(*resolve_registry(dir.path() / "plain.json") == dir.path() / "plain.json");
  fs::create_symlink("loop2", dir.path() / "loop1");
  fs::create_symlink("loop1", dir.path() / "loop2");
  auto loop = resolve_registry(dir.path() / "loop1");
  REQUIRE_FALSE(loop.ok());
  CHECK_THAT(loop.error().message, Catch::Contains(std::strerror(ELOOP)));
}

TEST_CASE("a save through a symlink writes the target and the link stays a link",
          "[registry_file]") {
  TempDir dir;
  fs::create_directories(dir.path() / "data");
  const fs::path target = dir.path() / "data" / "m.json";
  const fs::path link = dir.path() / "link.json";
  spit(target, R"({"allocations": {}})");
  fs::create_symlink("data/m.json", link);
  REQUIRE(save(link, one_entry("first"), kNow));
  REQUIRE(save(link, one_entry("second"), kNow));
  CHECK(fs::is_symlink(link));
  CHECK(fs::read_symlink(link) == "data/m.json");
  CHECK(load_registry(target)->find({3000, Protocol::tcp})->service == "second");
  // Lock, backup and temp files beside the target, none beside the link.
  CHECK(names_in(dir.path() / "data") ==
        std::set<std::string>{"m.json", "m.json.bak", "m.json.lock"});
  CHECK(names_in(dir.path()) == std::set<std::string>{"data", "link.json"});
  CHECK(load_registry(target.string() + ".bak")->find({3000, Protocol::tcp})->service == "first");
}

TEST_CASE("a dangling link is saved as the file it points to, in an existing folder only",
          "[registry_file]") {
  TempDir dir;
  fs::create_directories(dir.path() / "data");
  fs::create_symlink(dir.path() / "data" / "new.json", dir.path() / "link.json");
  CHECK(load_registry(dir.path() / "link.json")->entries().empty());  // missing reads as empty
  REQUIRE(save(dir.path() / "link.json", one_entry("x"), kNow));
  CHECK(fs::is_symlink(dir.path() / "link.json"));
  CHECK(load_registry(dir.path() / "data" / "new.json")->entries().size() == 1);

  fs::create_symlink(dir.path() / "nowhere" / "r.json", dir.path() / "lost.json");
  auto lock = lock_registry(dir.path() / "lost.json", 100ms);
  REQUIRE_FALSE(lock.ok());
  CHECK_THAT(lock.error().message, Catch::Contains("whose folder does not exist"));
  CHECK_FALSE(fs::exists(dir.path() / "nowhere"));
}

TEST_CASE(".bak is a regular file of its own with the previous version and the registry's mode",
          "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  REQUIRE(save(file, one_entry("first"), kNow));
  REQUIRE(::chmod(file.c_str(), 0640) == 0);
  const std::string first = slurp(file);
  REQUIRE(save(file, one_entry("second"), kNow));
  const fs::path bak = file.string() + ".bak";
  CHECK(fs::is_regular_file(fs::symlink_status(bak)));
  CHECK(fs::hard_link_count(bak) == 1);
  CHECK(fs::hard_link_count(file) == 1);
  CHECK(inode_of(bak) != inode_of(file));
  CHECK(slurp(bak) == first);
  CHECK(mode_of(bak) == 0640);
  CHECK(mode_of(file) == 0640);
}

TEST_CASE("load refuses what is not a regular file, and a file over the size limit, unread",
          "[registry_file]") {
  auto zero = load_registry("/dev/zero");
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().kind == ErrorKind::invalid_data);
  CHECK_THAT(zero.error().message, Catch::Contains("/dev/zero is a character device"));

  TempDir dir;
  const fs::path fifo = dir.path() / "fifo.json";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto pipe = load_registry(fifo);  // returns at once: no writer is waited for
  REQUIRE_FALSE(pipe.ok());
  CHECK_THAT(pipe.error().message, Catch::Contains("is a named pipe"));

  const fs::path big = dir.path() / "big.json";
  spit(big, "{}");
  REQUIRE(::truncate(big.c_str(), static_cast<off_t>(kRegistryMaxBytes) + 1) == 0);  // sparse
  auto r = load_registry(big);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::invalid_data);
  CHECK_THAT(r.error().message, Catch::Contains(big.string()));
  CHECK_THAT(r.error().message, Catch::Contains(std::to_string(kRegistryMaxBytes + 1) + " bytes"));
  CHECK_THAT(r.error().message, Catch::Contains("limit of " + std::to_string(kRegistryMaxBytes)));
}

TEST_CASE("registry_unchanged tells a file read from one saved or edited since",
          "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  auto missing = read_registry_file(file);
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->found);
  CHECK(registry_unchanged(file, *missing));
  REQUIRE(save(file, one_entry("a"), kNow));
  CHECK_FALSE(registry_unchanged(file, *missing));  // created meanwhile

  auto loaded = read_registry_file(file);
  REQUIRE(loaded.ok());
  CHECK(loaded->found);
  CHECK(registry_unchanged(file, *loaded));
  REQUIRE(save(file, one_entry("b"), kNow));
  CHECK_FALSE(registry_unchanged(file, *loaded));  // replaced by a save

  auto again = read_registry_file(file);
  REQUIRE(again.ok());
  std::string text = slurp(file);
  text[text.find("\"b\"") + 1] = 'c';  // same size, same inode: an edit in place
  std::this_thread::sleep_for(50ms);   // past the file system's clock granularity
  {
    std::fstream out(file, std::ios::in | std::ios::out | std::ios::binary);
    out << text;
  }
  CHECK_FALSE(registry_unchanged(file, *again));
  fs::remove(file);
  CHECK_FALSE(registry_unchanged(file, *again));
}

TEST_CASE("the lock may be opened only by those who may write the registry", "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  const fs::path lock = file.string() + ".lock";
  spit(file, "{}");
  for (auto [registry_mode, want] : {std::pair<mode_t, mode_t>{0644, 0600},
                                     {0664, 0660},
                                     {0666, 0666},
                                     {0600, 0600},
                                     {0620, 0660}}) {
    REQUIRE(::chmod(file.c_str(), registry_mode) == 0);
    fs::remove(lock);
    { REQUIRE(lock_registry(file, 100ms)); }
    CHECK(mode_of(lock) == want);
  }
  // A lock left 0644 by an older portman is put right.
  REQUIRE(::chmod(file.c_str(), 0644) == 0);
  REQUIRE(::chmod(lock.c_str(), 0644) == 0);
  { REQUIRE(lock_registry(file, 100ms)); }
  CHECK(mode_of(lock) == 0600);
}

TEST_CASE("a lock path that is a link, a pipe or a second name of a file is refused",
          "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  const fs::path lock = file.string() + ".lock";
  const fs::path elsewhere = dir.path() / "elsewhere";

  fs::create_symlink(elsewhere, lock);
  auto link = lock_registry(file, 100ms);
  REQUIRE_FALSE(link.ok());
  CHECK(link.error().kind == ErrorKind::io);
  CHECK_THAT(link.error().message, Catch::Contains(lock.string() + " is a symbolic link"));
  CHECK_FALSE(fs::exists(elsewhere));  // not created through the link
  fs::remove(lock);

  REQUIRE(::mkfifo(lock.c_str(), 0600) == 0);
  auto pipe = lock_registry(file, 100ms);
  REQUIRE_FALSE(pipe.ok());
  CHECK_THAT(pipe.error().message, Catch::Contains(lock.string() + " is a named pipe"));
  fs::remove(lock);

  spit(elsewhere, "keep");
  REQUIRE(::chmod(elsewhere.c_str(), 0640) == 0);
  fs::create_hard_link(elsewhere, lock);
  auto hard = lock_registry(file, 100ms);
  REQUIRE_FALSE(hard.ok());
  CHECK_THAT(hard.error().message, Catch::Contains("2 names"));
  CHECK(mode_of(elsewhere) == 0640);  // not touched by the mode fix
  CHECK(slurp(elsewhere) == "keep");
}

TEST_CASE("debris clearing leaves links alone, and what they point to", "[registry_file]") {
  TempDir dir;
  const fs::path file = dir.path() / "port_registry.json";
  const fs::path victim = dir.path() / "victim";
  spit(victim, "precious");
  fs::create_symlink(victim, file.string() + ".tmp.1234");
  fs::create_symlink(victim, file.string() + ".bak.tmp.1234");
  REQUIRE(save(file, one_entry("a"), kNow));
  REQUIRE(save(file, one_entry("b"), kNow));
  CHECK(fs::is_symlink(file.string() + ".tmp.1234"));
  CHECK(fs::is_symlink(file.string() + ".bak.tmp.1234"));
  CHECK(slurp(victim) == "precious");
  CHECK(load_registry(file)->find({3000, Protocol::tcp})->service == "b");
}

TEST_CASE("location warnings: a folder every user may write without the sticky bit",
          "[registry_file]") {
  TempDir dir;
  fs::create_directories(dir.path() / "open");
  fs::create_directories(dir.path() / "sticky");
  fs::create_directories(dir.path() / "private");
  REQUIRE(::chmod((dir.path() / "open").c_str(), 0777) == 0);
  REQUIRE(::chmod((dir.path() / "sticky").c_str(), 01777) == 0);
  REQUIRE(::chmod((dir.path() / "private").c_str(), 0755) == 0);
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);

  auto open = registry_location_warnings(dir.path() / "open" / "r.json");
  REQUIRE(open.size() == 1);
  CHECK(open[0].where == (dir.path() / "open").string());
  CHECK_THAT(open[0].message, Catch::Contains("writable by every user and not sticky"));
  CHECK(registry_location_warnings(dir.path() / "sticky" / "r.json").empty());
  CHECK(registry_location_warnings(dir.path() / "private" / "r.json").empty());

  // A link in an open folder can be pointed elsewhere by anyone: said too.
  spit(dir.path() / "private" / "r.json", "{}");
  fs::create_symlink(dir.path() / "private" / "r.json", dir.path() / "open" / "link.json");
  auto via = registry_location_warnings(dir.path() / "open" / "link.json");
  REQUIRE(via.size() == 1);
  CHECK(via[0].where == (dir.path() / "open").string());
  CHECK_THAT(via[0].message, Catch::Contains("link.json"));

  REQUIRE(::chmod((dir.path() / "private" / "r.json").c_str(), 0666) == 0);
  auto file = registry_location_warnings(dir.path() / "private" / "r.json");
  REQUIRE(file.size() == 1);
  CHECK_THAT(file[0].message, Catch::Contains("registry is writable by every user"));
}
