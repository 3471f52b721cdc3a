// Faults under the registry, through the real binary: a folder that fills up mid-write, a
// read-only folder, a registry replaced by a folder or by a link loop, a lock left by a killed
// portman and one held by a stopped portman. Each time the command says what went wrong in one
// line, exits non-zero, and the registry is what it was, byte for byte, with no temp file left.
// The mounts are made in the test process's own mount namespace, so nothing leaks out.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "unit/skip.hpp"

using itest::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The test process in a mount namespace of its own, once; mounts are private to it.
void own_mount_namespace() {
  static bool done = false;
  if (done) return;
  if (::unshare(CLONE_NEWNS) != 0) portman::test::skip_test("unshare(CLONE_NEWNS) refused");
  REQUIRE(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
  done = true;
}

// A mount on `where`, detached when destroyed (before the TempDir that holds it goes).
class Mount {
 public:
  Mount(const fs::path& where, const char* type, const std::string& options) : where_(where) {
    own_mount_namespace();
    fs::create_directories(where);
    if (::mount(type, where.c_str(), type, 0, options.c_str()) != 0)
      portman::test::skip_test(
          (std::string("cannot mount ") + type + ": " + std::strerror(errno)).c_str());
  }
  // A read-only bind mount of `where` on itself (root ignores modes, not a read-only mount).
  explicit Mount(const fs::path& where) : where_(where) {
    own_mount_namespace();
    if (::mount(where.c_str(), where.c_str(), nullptr, MS_BIND, nullptr) != 0)
      portman::test::skip_test((std::string("cannot bind mount: ") + std::strerror(errno)).c_str());
    REQUIRE(::mount(nullptr, where.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) ==
            0);
  }
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  ~Mount() { ::umount2(where_.c_str(), MNT_DETACH); }

 private:
  fs::path where_;
};

// A registry of `n` active entries on ports 4000.. (portman writes it once, so it is in
// portman's own layout).
std::string seed(int n) {
  json doc = {{"allocations", json::object()}};
  for (int i = 0; i < n; ++i)
    doc["allocations"][std::to_string(4000 + i)] = {
        {"service", "service-number-" + std::to_string(i)},
        {"status", "active"},
        {"notes", "seeded by test_faults_registry to give the file some weight"}};
  return doc.dump();
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// Temp files of a save (FILE.tmp.*, FILE.bak.tmp.*) left in `dir`.
std::vector<std::string> debris(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& n : names_in(dir))
    if (n.find(".tmp.") != std::string::npos) out.push_back(n);
  return out;
}

bool one_error_line(const std::string& err) {
  return err.rfind("portman: error: ", 0) == 0 && !err.empty() && err.back() == '\n' &&
         err.find('\n') == err.size() - 1;
}

// Fills the file system of `dir` up with one file, then frees `keep` bytes of it.
void fill_leaving(const fs::path& filler, std::size_t keep) {
  {
    std::ofstream out(filler, std::ios::binary | std::ios::trunc);
    std::string chunk(4096, 'x');
    while (out.write(chunk.data(), static_cast<std::streamsize>(chunk.size())) && out.flush()) {
    }
  }
  auto size = fs::file_size(filler);
  fs::resize_file(filler, size > keep ? size - keep : 0);
}

// The pid holding a flock on `lock`, from /proc/locks; 0 when none.
pid_t flock_holder(const fs::path& lock) {
  struct stat st {};
  if (::stat(lock.c_str(), &st) != 0) return 0;
  std::ifstream in("/proc/locks");
  std::string line, want = ":" + std::to_string(st.st_ino) + " ";
  while (std::getline(in, line)) {
    if (line.find("FLOCK") == std::string::npos || line.find("->") != std::string::npos ||
        line.find(want) == std::string::npos)
      continue;
    std::istringstream fields(line);
    std::string id, kind, mode, access;
    long pid = 0;
    if (fields >> id >> kind >> mode >> access >> pid) return static_cast<pid_t>(pid);
  }
  return 0;
}

// Starts `allocate` on a registry big enough that saving it takes a while, and returns once that
// portman holds the lock (stopped with SIGSTOP there); -1 when the save was too quick to catch.
pid_t portman_stopped_holding_lock(const fs::path& reg, const std::string& name) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    pid_t pid = itest::start_portman(
        {"allocate", name + std::to_string(attempt), "-t", "web", "--registry", reg.string()});
    const fs::path lock = reg.string() + ".lock";
    for (;;) {
      if (flock_holder(lock) == pid) {
        ::kill(pid, SIGSTOP);
        // Stopped while still holding it (not after it let go): caught.
        if (flock_holder(lock) == pid) return pid;
        ::kill(pid, SIGCONT);
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) break;  // finished: try again
    }
  }
  return -1;
}

}  // namespace

TEST_CASE("faults: a registry folder that fills up mid-write leaves the registry intact") {
  TempDir dir;
  const fs::path small = dir / "small";
  Mount tmpfs(small, "tmpfs", "size=256k,mode=0755");
  const fs::path reg = small / "reg.json", filler = small / "filler";
  itest::write_file(reg, seed(120));
  // One save, so that the registry, its .bak and its lock exist as portman writes them.
  REQUIRE(itest::portman({"update", "4000", "active", "--registry", reg.string()}).code == 0);
  const std::size_t size = fs::file_size(reg);
  INFO("registry of " << size << " bytes");
  REQUIRE(size > 3 * 4096);  // several pages: a write that stops part of the way is possible

  // From no free space up to room for the new file and its .bak, a page at a time: the save
  // fails at the temp file (part written), at the .bak, then succeeds.
  int failed = 0, saved = 0, round = 0;
  bool failed_inside_temp = false, failed_after_temp = false;
  for (std::size_t keep = 0; keep <= 2 * size + 4 * 4096; keep += 4096, ++round) {
    fill_leaving(filler, keep);
    const std::string before = itest::read_file(reg);
    const std::string bak_before = itest::read_file(small / "reg.json.bak");
    // Each of the three commands that write, in turn.
    std::vector<std::string> args;
    const std::string port = std::to_string(4001 + round);
    if (round % 3 == 0) args = {"allocate", "new-" + port, "-t", "web"};
    if (round % 3 == 1) args = {"update", port, "maintenance", "-n", "round " + port};
    if (round % 3 == 2) args = {"release", port, "--force"};
    args.insert(args.end(), {"--registry", reg.string()});
    auto r = itest::portman(args);
    INFO("free " << keep << " bytes, " << args[0] << ": exit " << r.code << ", " << r.err);
    CHECK(debris(small).empty());
    if (r.code == 0) {
      ++saved;
      CHECK(itest::read_file(reg) != before);
      CHECK(itest::read_file(small / "reg.json.bak") == before);
      CHECK(itest::portman({"validate", "--registry", reg.string()}).code == 0);
      continue;
    }
    ++failed;
    CHECK(r.code == 1);
    CHECK(one_error_line(r.err));
    CHECK(r.err.find("cannot save registry " + reg.string()) != std::string::npos);
    CHECK(r.err.find("No space left on device") != std::string::npos);
    CHECK(r.err.find("unchanged") != std::string::npos);
    CHECK(itest::read_file(reg) == before);
    // The .bak is the previous one or, when only the final rename failed, the registry itself.
    std::string bak = itest::read_file(small / "reg.json.bak");
    CHECK((bak == bak_before || bak == before));
    if (keep < size) failed_inside_temp = true;
    if (keep >= size) failed_after_temp = true;
    // Room again: the next command works on the intact file.
  }
  CHECK(failed_inside_temp);
  CHECK(failed_after_temp);
  CHECK(saved > 0);
  WARN(failed << " saves failed for want of space and " << saved << " succeeded");
  fs::remove(filler);
  auto after = itest::portman({"validate", "--registry", reg.string()});
  INFO(after.out << after.err);
  CHECK(after.code == 0);
  CHECK(names_in(small) == std::set<std::string>{"reg.json", "reg.json.bak", "reg.json.lock"});
}

TEST_CASE("faults: a registry on a full file system with no lock file yet") {
  TempDir dir;
  const fs::path small = dir / "small";
  Mount tmpfs(small, "tmpfs", "size=64k,mode=0755");
  const fs::path reg = small / "reg.json";
  itest::write_file(reg, seed(40));
  const std::string before = itest::read_file(reg);
  fill_leaving(small / "filler", 0);
  auto r = itest::portman({"allocate", "x", "-t", "web", "--registry", reg.string()});
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(one_error_line(r.err));
  CHECK(r.err.find("No space left on device") != std::string::npos);
  CHECK(itest::read_file(reg) == before);
  CHECK(debris(small).empty());
}

TEST_CASE("faults: a read-only registry folder refuses changes in one line and still reads") {
  TempDir dir;
  const fs::path data = dir / "data";
  fs::create_directories(data);
  const fs::path reg = data / "reg.json";
  itest::write_file(reg, seed(3));
  SECTION("with its lock file already there") {
    REQUIRE(itest::portman({"update", "4000", "active", "--registry", reg.string()}).code == 0);
  }
  SECTION("before any lock file") {}
  const std::set<std::string> files = names_in(data);
  const std::string before = itest::read_file(reg);
  Mount ro(data);
  for (std::vector<std::string> args : {std::vector<std::string>{"allocate", "x", "-t", "web"},
                                        {"update", "4001", "deprecated"},
                                        {"release", "4002", "--force"}}) {
    args.insert(args.end(), {"--registry", reg.string()});
    auto r = itest::portman(args);
    INFO(args[0] << ": " << r.err);
    CHECK(r.code == 1);
    CHECK(one_error_line(r.err));
    CHECK(r.err.find(reg.string()) != std::string::npos);
    CHECK(r.err.find("Read-only file system") != std::string::npos);
  }
  CHECK(itest::read_file(reg) == before);
  CHECK(names_in(data) == files);
  // Reading needs no lock: list, validate and scan work on a read-only registry.
  auto list = itest::portman({"list", "--json", "--registry", reg.string()});
  CHECK(list.code == 0);
  CHECK(list.json().size() == 3);
  CHECK(itest::portman({"validate", "--registry", reg.string()}).code == 0);
  auto scan =
      itest::portman({"scan", "--json", "--no-collector.docker", "--registry", reg.string()});
  INFO(scan.err);
  CHECK(scan.code == 0);
}

TEST_CASE("faults: a registry replaced by a folder is refused, before and while waiting to write") {
  TempDir dir;
  const fs::path reg = dir / "reg.json";
  SECTION("a folder where the registry was") {
    fs::create_directories(reg);
    for (std::vector<std::string> args : {std::vector<std::string>{"list"},
                                          {"scan"},
                                          {"allocate", "x", "-t", "web"},
                                          {"update", "4000", "active"},
                                          {"release", "4000", "--force"}}) {
      args.insert(args.end(), {"--no-collector.docker", "--registry", reg.string()});
      if (args[0] == "list") args.erase(args.begin() + 1);  // list has no collectors
      auto r = itest::portman(args);
      INFO(args[0] << ": " << r.err);
      CHECK(r.code == 3);
      CHECK(one_error_line(r.err));
      CHECK(r.err.find("registry " + reg.string() + " is a folder, not a regular file") !=
            std::string::npos);
    }
    CHECK(fs::is_empty(reg));                        // nothing written into it
    CHECK_FALSE(fs::exists(dir / "reg.json.lock"));  // refused before locking
  }
  SECTION("replaced while the command waits for the lock") {
    itest::write_file(reg, seed(2));
    REQUIRE(itest::portman({"update", "4000", "active", "--registry", reg.string()}).code == 0);
    int fd = ::open((dir / "reg.json.lock").c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(::flock(fd, LOCK_EX) == 0);
    pid_t pid = itest::start_portman({"allocate", "x", "-t", "web", "--registry", reg.string()});
    // Once it waits on the lock, swap the file for a folder.
    bool waiting = false;
    for (int i = 0; i < 2000 && !waiting; ++i) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec))
        waiting = waiting || fs::read_symlink(e.path(), ec) == dir / "reg.json.lock";
      if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    REQUIRE(waiting);
    fs::rename(reg, dir / "saved.json");
    fs::create_directories(reg);
    ::close(fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 3);
    CHECK(fs::is_empty(reg));
    CHECK(debris(dir.path()).empty());
  }
}

TEST_CASE("faults: a registry link that loops or points at a folder is refused in one line") {
  TempDir dir;
  fs::create_symlink("b.json", dir / "a.json");
  fs::create_symlink("a.json", dir / "b.json");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"list"}, {"allocate", "x", "-t", "web"}}) {
    args.insert(args.end(), {"--registry", (dir / "a.json").string()});
    auto r = itest::portman(args);
    INFO(args[0] << ": " << r.err);
    CHECK(r.code == 1);
    CHECK(one_error_line(r.err));
    CHECK(r.err.find((dir / "a.json").string()) != std::string::npos);
    CHECK(r.err.find("Too many levels of symbolic links") != std::string::npos);
  }
  fs::create_directories(dir / "folder");
  fs::create_symlink("folder", dir / "to-folder.json");
  auto r = itest::portman({"allocate", "x", "-t", "web", "--registry", dir / "to-folder.json"});
  INFO(r.err);
  CHECK(r.code == 3);
  CHECK(one_error_line(r.err));
  CHECK(r.err.find("is a folder") != std::string::npos);
  CHECK(names_in(dir.path()) ==
        std::set<std::string>{"a.json", "b.json", "folder", "to-folder.json"});
  CHECK(fs::is_empty(dir / "folder"));
}

TEST_CASE("faults: a lock held by a stopped portman times out naming it, then a kill frees it") {
  TempDir dir;
  const fs::path reg = dir / "reg.json", lock = dir / "reg.json.lock";
  itest::write_file(reg, seed(40000));  // about 5 MB: a save takes long enough to catch
  REQUIRE(itest::portman({"update", "4000", "active", "--registry", reg.string()}).code == 0);
  itest::write_file(dir / "portman.yml", "lock_timeout: 500ms\n");
  // What reading this registry costs this build (seconds under ThreadSanitizer, unoptimised):
  // the bounds below are "not a hang" on top of it.
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(itest::portman({"validate", "--registry", reg.string()}).code == 0);
  const double read_cost =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  pid_t holder = portman_stopped_holding_lock(reg, "stopped");
  if (holder < 0) portman::test::skip_test("every save finished before it could be stopped");

  auto start = std::chrono::steady_clock::now();
  auto r = itest::portman({"allocate", "waiter", "-t", "web", "--config",
                           (dir / "portman.yml").string(), "--registry", reg.string()});
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(one_error_line(r.err));
  CHECK(r.err.find(lock.string()) != std::string::npos);
  CHECK(r.err.find("locked by pid " + std::to_string(holder) + " (portman, stopped)") !=
        std::string::npos);
  CHECK(r.err.find("lock_timeout") != std::string::npos);
  INFO("reading the registry alone took " << read_cost << " s");
  CHECK(took < 2 * read_cost + 5.0);  // not a hang

  // SIGKILL where it stopped, mid-save: the lock goes with the process, and the next command
  // works at once on a valid registry, clearing the killed save's temp files.
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  CHECK(fs::exists(lock));  // the stale lock file stays, and holds nobody up
  start = std::chrono::steady_clock::now();
  auto next = itest::portman({"allocate", "after", "-t", "web", "--config",
                              (dir / "portman.yml").string(), "--registry", reg.string()});
  took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(next.err);
  CHECK(next.code == 0);
  CHECK(took < 3 * read_cost + 5.0);  // a read and a write of 5 MB
  CHECK(debris(dir.path()).empty());
  auto v = itest::portman({"validate", "--registry", reg.string()});
  CHECK(v.code == 0);
  bool found = false;
  const json doc = json::parse(itest::read_file(reg));
  for (const auto& [port, e] : doc["allocations"].items()) found = found || e["service"] == "after";
  CHECK(found);
}
