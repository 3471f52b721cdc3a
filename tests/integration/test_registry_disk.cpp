// The registry on disk through the real binary: symlinks, owner, group and mode, the .bak, links
// and files planted by another user, who may hold the lock, and files that are no registry.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "harness.hpp"

using itest::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

struct Meta {
  uid_t uid;
  gid_t gid;
  mode_t mode;  // permission bits
  bool regular, link;
  nlink_t links;
};

Meta meta(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return {st.st_uid,           st.st_gid,           static_cast<mode_t>(st.st_mode & 07777),
          S_ISREG(st.st_mode), S_ISLNK(st.st_mode), st.st_nlink};
}

// A folder (or file) with this owner and mode.
void own(const fs::path& p, uid_t uid, gid_t gid, mode_t mode) {
  REQUIRE(::chown(p.c_str(), uid, gid) == 0);
  REQUIRE(::chmod(p.c_str(), mode) == 0);
}

fs::path folder(const TempDir& dir, const std::string& name, uid_t uid, gid_t gid, mode_t mode) {
  fs::path p = dir / name;
  fs::create_directories(p);
  own(p, uid, gid, mode);
  return p;
}

const char* kSeed = R"({"allocations": {"3000": {"service": "shop", "status": "active"}}})";

json services(const fs::path& registry) {
  json out = json::array(), doc = json::parse(itest::read_file(registry));
  for (const auto& [port, e] : doc["allocations"].items()) out.push_back(e["service"]);
  return out;
}

itest::RunOptions as(uid_t uid) {
  itest::RunOptions o;
  o.uid = uid;
  return o;
}

// portman as another user, from a copy that user can run (the build folder may be under /root,
// mode 0700).
class PortmanAs {
 public:
  explicit PortmanAs(uid_t uid) : options_(itest::as_user(dir_, uid)) {}
  itest::RunResult operator()(const std::vector<std::string>& args) const {
    return itest::portman(args, options_);
  }

 private:
  TempDir dir_;
  itest::RunOptions options_;
};

// What another user does in a shell.
itest::RunResult shell_as(uid_t uid, const std::string& command) {
  return itest::run({"sh", "-c", command}, as(uid));
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Whether `pid` has `file` open.
bool has_open(pid_t pid, const fs::path& file) {
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec))
    if (fs::read_symlink(fd.path(), ec) == file) return true;
  return false;
}

// Whether /proc/locks shows a flock on this file (any holder): "1: FLOCK ... 00:2a:1234 0 EOF".
bool flocked(const struct stat& lock) {
  char id[64];
  std::snprintf(id, sizeof id, " %02x:%02x:%lu ", ::major(lock.st_dev), ::minor(lock.st_dev),
                static_cast<unsigned long>(lock.st_ino));
  std::ifstream in("/proc/locks");
  std::string line;
  while (std::getline(in, line))
    if (line.find("FLOCK") != std::string::npos && line.find("->") == std::string::npos &&
        line.find(id) != std::string::npos)
      return true;
  return false;
}

}  // namespace

TEST_CASE("registry disk: a symlinked registry in another folder is written where it points") {
  TempDir dir;
  fs::path data = folder(dir, "data", 0, 0, 0755), work = folder(dir, "work", 0, 0, 0755);
  itest::write_file(data / "m.json", kSeed);
  // A chain: work/link.json -> work/hop.json -> ../data/m.json (relative to work/).
  fs::create_symlink("../data/m.json", work / "hop.json");
  fs::create_symlink("hop.json", work / "link.json");
  std::string link = (work / "link.json").string();
  auto r = itest::portman({"allocate", "t1", "-t", "web", "--registry", link});
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(itest::portman({"allocate", "t2", "-t", "web", "--registry", link}).code == 0);
  CHECK(services(data / "m.json") == json({"shop", "t1", "t2"}));
  CHECK(meta(work / "link.json").link);
  CHECK(meta(work / "hop.json").link);
  CHECK(fs::read_symlink(work / "link.json") == "hop.json");
  // Lock and .bak beside the target; nothing beside the links.
  std::set<std::string> beside_target, beside_link;
  for (const auto& e : fs::directory_iterator(data)) beside_target.insert(e.path().filename());
  for (const auto& e : fs::directory_iterator(work)) beside_link.insert(e.path().filename());
  CHECK(beside_target == std::set<std::string>{"m.json", "m.json.bak", "m.json.lock"});
  CHECK(beside_link == std::set<std::string>{"hop.json", "link.json"});
  Meta bak = meta(data / "m.json.bak");
  CHECK(bak.regular);
  CHECK(bak.links == 1);
  CHECK(services(data / "m.json.bak") == json({"shop", "t1"}));
  // Reading through the link sees the same file.
  CHECK(itest::portman({"list", "--json", "--registry", link}).json().size() == 3);
}

TEST_CASE("registry disk: a dangling link creates the file it points to, in an existing folder") {
  TempDir dir;
  fs::path data = folder(dir, "data", 0, 0, 0755);
  fs::create_symlink(data / "new.json", dir / "link.json");
  auto r = itest::portman({"allocate", "t1", "-t", "web", "--registry", (dir / "link.json")});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(meta(dir / "link.json").link);
  CHECK(services(data / "new.json") == json({"t1"}));

  fs::create_symlink(dir / "nowhere" / "r.json", dir / "lost.json");
  auto lost = itest::portman({"allocate", "t1", "-t", "web", "--registry", (dir / "lost.json")});
  CHECK(lost.code == 1);
  CHECK(lost.err.find("is a link to " + (dir / "nowhere" / "r.json").string() +
                      ", whose folder does not exist") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "nowhere"));
}

TEST_CASE("registry disk: owner, group and mode survive a save, and the lock and .bak take them") {
  TempDir dir;
  fs::path team = folder(dir, "team", 0, kNogroup, 0775);
  fs::path reg = team / "reg.json";
  itest::write_file(reg, kSeed);
  own(reg, 0, kNogroup, 0664);
  REQUIRE(itest::portman({"allocate", "t1", "-t", "web", "--registry", reg}).code == 0);
  REQUIRE(itest::portman({"allocate", "t2", "-t", "web", "--registry", reg}).code == 0);
  for (const char* name : {"reg.json", "reg.json.bak"}) {
    INFO(name);
    Meta m = meta(team / name);
    CHECK(m.uid == 0);
    CHECK(m.gid == kNogroup);
    CHECK(m.mode == 0664);
  }
  Meta lock = meta(team / "reg.json.lock");
  CHECK(lock.uid == 0);
  CHECK(lock.gid == kNogroup);
  CHECK(lock.mode == 0660);  // the group may write the registry, so it may wait for the lock

  // A member of the group saves it in turn: not root, it cannot keep the owner, but the group
  // stays, so the team keeps write access.
  PortmanAs nobody(kNobody);
  auto r = nobody({"allocate", "t3", "-t", "web", "--registry", reg});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("warning") == std::string::npos);
  Meta after = meta(reg);
  CHECK(after.gid == kNogroup);
  CHECK(after.mode == 0664);
  CHECK(services(reg) == json({"shop", "t1", "t2", "t3"}));
}

TEST_CASE("registry disk: a group that cannot be kept is said on stderr, and the save happens") {
  TempDir dir;
  fs::path open = folder(dir, "open", 0, 0, 0777);
  fs::path reg = open / "reg.json";
  itest::write_file(reg, kSeed);
  own(reg, 0, 4242, 0666);  // nobody may write it, but is not in its group (no one is)
  PortmanAs nobody(kNobody);
  auto r = nobody({"allocate", "t1", "-t", "web", "--registry", reg});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("portman: warning: " + reg.string() + " now has group ") != std::string::npos);
  CHECK(r.err.find("(gid 65534) instead of ") != std::string::npos);
  CHECK(r.err.find("gid 4242") != std::string::npos);
  CHECK(services(reg) == json({"shop", "t1"}));
  CHECK(meta(reg).mode == 0666);
}

TEST_CASE("registry disk: a user who may not write the registry cannot replace it") {
  TempDir dir;
  fs::path open = folder(dir, "open", 0, 0, 0777);  // the folder would let nobody rename
  fs::path reg = open / "reg.json";
  itest::write_file(reg, kSeed);
  own(reg, 0, 0, 0644);
  PortmanAs nobody(kNobody);
  auto r = nobody({"allocate", "t1", "-t", "web", "--registry", reg});
  CHECK(r.code == 1);
  CHECK(r.err.find("cannot write registry " + reg.string() + ": Permission denied") !=
        std::string::npos);
  CHECK(itest::read_file(reg) == kSeed);
  CHECK(meta(reg).uid == 0);
}

TEST_CASE("registry disk: root saving another user's registry keeps that user as owner") {
  TempDir dir;
  fs::path home = folder(dir, "home", kNobody, kNogroup, 0755);
  fs::path reg = home / "reg.json";
  itest::write_file(reg, kSeed);
  own(reg, kNobody, kNogroup, 0600);
  // Root comes first and creates the lock: it is the owner's, not root's.
  auto r = itest::portman({"allocate", "t1", "-t", "web", "--registry", reg});
  INFO(r.err);
  REQUIRE(r.code == 0);
  for (const char* name : {"reg.json", "reg.json.bak", "reg.json.lock"}) {
    INFO(name);
    Meta m = meta(home / name);
    CHECK(m.uid == kNobody);
    CHECK(m.gid == kNogroup);
    CHECK(m.mode == 0600);
  }
  // The owner goes on using it.
  PortmanAs nobody(kNobody);
  auto mine = nobody({"allocate", "t2", "-t", "web", "--registry", reg});
  INFO(mine.err);
  CHECK(mine.code == 0);
  CHECK(services(reg) == json({"shop", "t1", "t2"}));
}

TEST_CASE("registry disk: another user cannot hold the lock of a registry it may not write") {
  TempDir dir;
  fs::path reg = dir / "reg.json";
  itest::write_file(reg, kSeed);
  own(reg, 0, 0, 0644);
  // A lock left readable by everyone (as portman used to create it) is put right at the next use.
  itest::write_file(dir / "reg.json.lock", "");
  own(dir / "reg.json.lock", 0, 0, 0644);
  REQUIRE(itest::portman({"allocate", "t1", "-t", "web", "--registry", reg}).code == 0);
  CHECK(meta(dir / "reg.json.lock").mode == 0600);
  // flock(1) opens read-only, which was enough to hold the lock and stop every writer.
  auto hold = shell_as(kNobody, "flock -n " + (dir / "reg.json.lock").string() + " true");
  CHECK(hold.code != 0);
  CHECK(hold.err.find("Permission denied") != std::string::npos);
}

TEST_CASE("registry disk: links and files planted by another user in a sticky folder") {
  TempDir dir;
  fs::path shared = folder(dir, "shared", 0, 0, 01777);  // as /tmp
  fs::path reg = shared / "reg.json";
  fs::path victim = dir / "victim";  // a root-only file the attacker wants overwritten
  itest::write_file(victim, "secret");
  own(victim, 0, 0, 0600);
  itest::write_file(reg, kSeed);
  own(reg, 0, 0, 0600);
  const std::string lock = reg.string() + ".lock";
  auto allocate = [&](const std::string& name) {
    return itest::portman({"allocate", name, "-t", "web", "--registry", reg});
  };

  SECTION("a link at the lock path is refused, and nothing is created where it points") {
    fs::path chosen = dir / "made-by-root";
    REQUIRE(shell_as(kNobody, "ln -s " + chosen.string() + " " + lock).code == 0);
    auto r = allocate("t1");
    CHECK(r.code == 1);
    CHECK(r.err.find("lock file " + lock + " is a symbolic link") != std::string::npos);
    CHECK_FALSE(fs::exists(chosen));
    CHECK(itest::read_file(reg) == kSeed);
  }
  SECTION("a file another user created at the lock path is refused") {
    REQUIRE(shell_as(kNobody, "umask 0; : > " + lock).code == 0);
    auto r = allocate("t1");
    CHECK(r.code == 1);
    CHECK(r.err.find("lock file " + lock + " belongs to nobody (uid 65534)") != std::string::npos);
    CHECK(itest::read_file(reg) == kSeed);
    CHECK(meta(lock).uid == kNobody);  // not taken over either
  }
  SECTION("links and files at temp and backup paths are neither followed, written nor removed") {
    // Names the old portman used (FILE.tmp.PID, FILE.bak.tmp.PID) and the .bak itself.
    std::string plant = "umask 0; cd " + shared.string() + " && : > reg.json.tmp.1";
    for (int pid = 2; pid < 40; ++pid)
      plant += " && ln -s " + victim.string() + " reg.json.tmp." + std::to_string(pid) +
               " && ln -s " + victim.string() + " reg.json.bak.tmp." + std::to_string(pid);
    plant += " && ln -s " + victim.string() + " reg.json.bak";
    REQUIRE(shell_as(kNobody, plant).code == 0);
    auto r = allocate("t1");
    INFO(r.err);
    REQUIRE(r.code == 0);
    REQUIRE(allocate("t2").code == 0);
    CHECK(itest::read_file(victim) == "secret");
    Meta v = meta(victim);
    CHECK((v.uid == 0 && v.mode == 0600));
    // The other user's files are still there, as they were.
    Meta planted = meta(shared / "reg.json.tmp.1");
    CHECK((planted.regular && planted.uid == kNobody));
    CHECK(itest::read_file(shared / "reg.json.tmp.1").empty());
    CHECK(meta(shared / "reg.json.tmp.39").link);
    CHECK(meta(shared / "reg.json.bak.tmp.39").link);
    // The registry and its .bak are root's regular files, private as the registry was.
    for (const char* name : {"reg.json", "reg.json.bak"}) {
      INFO(name);
      Meta m = meta(shared / name);
      CHECK((m.regular && m.uid == 0 && m.mode == 0600));
    }
    CHECK(services(reg) == json({"shop", "t1", "t2"}));
    CHECK(services(shared / "reg.json.bak") == json({"shop", "t1"}));
  }
}

TEST_CASE("registry disk: a device or a file over the size limit is refused, exit 3, no lock") {
  auto zero = itest::portman({"list", "--registry", "/dev/zero"});
  CHECK(zero.code == 3);
  CHECK(zero.err ==
        "portman: error: registry /dev/zero is a character device, not a regular "
        "file; give a JSON file\n");
  CHECK(itest::portman({"allocate", "x", "-t", "web", "--registry", "/dev/zero"}).code == 3);
  CHECK_FALSE(fs::exists("/dev/zero.lock"));

  TempDir dir;
  fs::path big = dir / "big.json";
  itest::write_file(big, "{}");
  fs::resize_file(big, 256ull * 1024 * 1024 + 1);  // sparse: nothing is read anyway
  for (const char* cmd : {"list", "validate"}) {
    auto r = itest::portman({cmd, "--registry", big});
    INFO(cmd);
    CHECK(r.code == 3);
    CHECK((r.err + r.out)
              .find(big.string() + " is 268435457 bytes, more than the limit of " +
                    "268435456 bytes") != std::string::npos);
  }
  CHECK(itest::portman({"allocate", "x", "-t", "web", "--registry", big}).code == 3);
  CHECK_FALSE(fs::exists(dir / "big.json.lock"));
}

TEST_CASE("registry disk: validate warns about a folder every user may write without sticky bit") {
  TempDir dir;
  fs::path open = folder(dir, "open", 0, 0, 0777), sticky = folder(dir, "sticky", 0, 0, 01777);
  itest::write_file(open / "reg.json", kSeed);
  itest::write_file(sticky / "reg.json", kSeed);
  auto warned = itest::portman({"validate", "--registry", open / "reg.json"});
  CHECK(warned.code == 0);
  CHECK(warned.out.find("warning: " + open.string() +
                        ": folder of the registry is writable by every user and not sticky") !=
        std::string::npos);
  json j = itest::portman({"validate", "--json", "--registry", open / "reg.json"}).json();
  bool found = false;
  for (const auto& p : j["problems"])
    found = found || (p["severity"] == "warning" && p["where"] == open.string());
  CHECK(found);
  auto quiet = itest::portman({"validate", "--registry", sticky / "reg.json"});
  CHECK(quiet.code == 0);
  CHECK(quiet.out.find("not sticky") == std::string::npos);
}

TEST_CASE("registry disk: the registry is parsed before the lock is taken, not while others wait") {
  TempDir dir;
  fs::path reg = dir / "reg.json", lock = dir / "reg.json.lock";
  // Slow to parse, quick to write back: 24 MB of blanks, which the save does not keep.
  itest::write_file(reg, std::string(R"({"allocations": {"3000": {"service": "shop"}})") +
                             std::string(24 << 20, ' ') + "}");
  itest::write_file(lock, "");
  own(lock, 0, 0, 0600);
  struct stat lock_st {};
  REQUIRE(::stat(lock.c_str(), &lock_st) == 0);
  {  // the watch below does see a held lock
    int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(::flock(fd, LOCK_EX) == 0);
    CHECK(flocked(lock_st));
    ::close(fd);
    CHECK_FALSE(flocked(lock_st));
  }
  auto start = std::chrono::steady_clock::now();
  REQUIRE(itest::portman({"list", "--registry", reg}).code == 0);
  auto parse = std::chrono::steady_clock::now() - start;  // about one parse

  pid_t pid = itest::start_portman({"allocate", "t1", "-t", "web", "--registry", reg});
  std::chrono::steady_clock::duration held{};
  std::optional<std::chrono::steady_clock::time_point> since;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    auto now = std::chrono::steady_clock::now();
    bool locked = flocked(lock_st);
    if (locked && !since) since = now;
    if (!locked && since) {
      held += now - *since;
      since.reset();
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (since) held += std::chrono::steady_clock::now() - *since;
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(services(reg) == json({"shop", "t1"}));
  using ms = std::chrono::milliseconds;
  INFO("lock held " << std::chrono::duration_cast<ms>(held).count() << " ms, one parse "
                    << std::chrono::duration_cast<ms>(parse).count() << " ms");
  CHECK(held < parse / 2);
}

TEST_CASE("registry disk: a registry changed while waiting for the lock is read again") {
  TempDir dir;
  fs::path reg = dir / "reg.json", lock = dir / "reg.json.lock";
  itest::write_file(reg, kSeed);
  itest::write_file(lock, "");
  own(lock, 0, 0, 0600);
  int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  pid_t pid = itest::start_portman({"allocate", "t1", "-t", "web", "--registry", reg});
  // Once it has the lock file open, it has read the registry and waits.
  bool waiting = false;
  for (int i = 0; i < 1000 && !(waiting = has_open(pid, lock)); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Another writer saves meanwhile (a new file renamed over the old one).
  itest::write_file(
      dir / "other.tmp",
      R"({"allocations": {"3000": {"service": "shop"}, "3001": {"service": "other"}}})");
  fs::rename(dir / "other.tmp", reg);
  ::close(fd);
  CHECK(waiting);
  CHECK(wait_exit(pid) == 0);
  CHECK(services(reg) == json({"shop", "other", "t1"}));  // 3001 taken meanwhile: t1 got 3002
}
