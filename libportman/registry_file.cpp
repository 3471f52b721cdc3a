#include "libportman/registry_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "libportman/accounts.hpp"
#include "libportman/limits.hpp"
#include "libportman/whole_file.hpp"

namespace portman {
namespace fs = std::filesystem;
namespace {

// As the kernel's MAXSYMLINKS: a longer chain is a loop.
constexpr int kMaxLinks = 40;

Error io_error(const std::string& what, const fs::path& path, int err = errno) {
  return make_error(ErrorKind::io, what + " " + path.string() + ": " + std::strerror(err));
}

fs::path folder_of(const fs::path& p) {
  return p.has_parent_path() ? p.parent_path() : fs::path(".");
}

// The path, then every link target on the way to the file (the last element).
Result<std::vector<fs::path>> link_chain(const fs::path& registry) {
  std::vector<fs::path> chain{registry};
  for (;;) {
    const fs::path& p = chain.back();
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return chain;
    if (chain.size() > kMaxLinks) return io_error("cannot follow registry link", registry, ELOOP);
    std::string target(PATH_MAX, '\0');
    ssize_t n = ::readlink(p.c_str(), target.data(), target.size());
    if (n < 0) return io_error("cannot read link", p);
    target.resize(static_cast<size_t>(n));
    fs::path next(target);
    // Not normalised: "dir/.." must go through dir as the kernel does, dir being maybe a link.
    chain.push_back(next.is_absolute() ? next : folder_of(p) / next);
  }
}

// The pid holding a flock on inode `ino`, from /proc/locks; 0 when it cannot be known.
pid_t lock_holder(ino_t ino) {
  std::ifstream locks("/proc/locks");
  std::string line, want = ":" + std::to_string(ino) + " ";
  while (std::getline(locks, line)) {
    // "1: FLOCK  ADVISORY  WRITE 4242 00:2a:1234 0 EOF"; waiters are marked "->".
    if (line.find("->") != std::string::npos || line.find("FLOCK") == std::string::npos ||
        line.find(want) == std::string::npos)
      continue;
    std::istringstream in(line);
    std::string id, kind, mode, access;
    long pid = 0;
    if (in >> id >> kind >> mode >> access >> pid) return static_cast<pid_t>(pid);
  }
  return 0;
}

// "pid 4242 (portman)", "pid 4242 (portman, stopped)" from /proc/PID/stat: who to look at when a
// lock is held too long. A stopped holder (SIGSTOP, a debugger) never lets go by itself.
std::string describe_holder(pid_t pid) {
  std::string out = "pid " + std::to_string(pid);
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return out;
  // "4242 (comm) S ...": comm may hold blanks and parentheses, so up to the last ')'.
  auto open = stat.find('('), close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open ||
      close + 2 >= stat.size())
    return out;
  std::string comm = stat.substr(open + 1, close - open - 1);
  for (char& c : comm)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  const char state = stat[close + 2];
  out += " (" + comm;
  if (state == 'T') out += ", stopped";
  if (state == 't') out += ", stopped by a debugger";
  if (state == 'D') out += ", waiting on the disk";
  return out + ")";
}

// "www-data (uid 33)", or "uid 33" without a name: for messages.
std::string describe_user(uid_t uid) {
  auto name = user_name(uid);
  return name ? *name + " (uid " + std::to_string(uid) + ")" : "uid " + std::to_string(uid);
}

std::string describe_group(gid_t gid) {
  auto name = group_name(gid);
  return name ? *name + " (gid " + std::to_string(gid) + ")" : "gid " + std::to_string(gid);
}

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a named pipe";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

FileStamp stamp_of(const struct stat& st) {
  return {st.st_dev, st.st_ino, st.st_size,
          static_cast<long long>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<long long>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

// The registry file's owner, group and mode, which the files portman writes beside it take.
struct Ownership {
  bool exists = false;
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;
};

Ownership ownership_of(const struct stat& st) {
  return {true, st.st_uid, st.st_gid, static_cast<mode_t>(st.st_mode & 07777)};
}

// Read and write on the lock for each class that may write the registry, and for no other.
mode_t lock_mode(mode_t registry_mode) {
  mode_t out = 0;
  if (registry_mode & S_IWUSR) out |= S_IRUSR | S_IWUSR;
  if (registry_mode & S_IWGRP) out |= S_IRGRP | S_IWGRP;
  if (registry_mode & S_IWOTH) out |= S_IROTH | S_IWOTH;
  return out;
}

// A file beside the registry that portman may use: created by the caller or root, by the
// registry's owner, or, for a registry its group may write, a file of that group.
bool trusted_owner(const struct stat& st, const Ownership& reg) {
  if (st.st_uid == 0 || st.st_uid == ::geteuid()) return true;
  if (!reg.exists) return false;
  return st.st_uid == reg.uid || ((reg.mode & S_IWGRP) && st.st_gid == reg.gid);
}

// Why a lock file found at the path must not be used: a link, not a regular file, a second name
// of another file (its mode would be changed), or a file of a stranger.
std::optional<Error> unusable_lock(const fs::path& lock, const struct stat& st,
                                   const Ownership& reg) {
  std::string why;
  if (S_ISLNK(st.st_mode))
    why = "is a symbolic link; portman does not follow links beside the registry";
  else if (!S_ISREG(st.st_mode))
    why = "is " + kind_of(st.st_mode) + ", not a regular file";
  else if (st.st_nlink != 1)
    why = "has " + std::to_string(st.st_nlink) + " names (hard links); portman will not use it";
  else if (!trusted_owner(st, reg))
    why = "belongs to " + describe_user(st.st_uid) + ", neither the registry's owner nor you";
  if (why.empty()) return std::nullopt;
  return make_error(ErrorKind::io, "lock file " + lock.string() + " " + why + " (remove it)");
}

// Gives the file at `fd` the registry's owner, group and mode. Not root, the owner cannot be
// given away; the group still can by a member of it. Returns a warning when the group is lost.
Result<std::optional<std::string>> adopt_ownership(int fd, const Ownership& reg,
                                                   const fs::path& shown) {
  std::optional<std::string> warning;
  if (::fchown(fd, reg.uid, reg.gid) != 0 && ::fchown(fd, static_cast<uid_t>(-1), reg.gid) != 0) {
    int err = errno;
    struct stat st {};
    ::fstat(fd, &st);
    warning = shown.string() + " now has group " + describe_group(st.st_gid) + " instead of " +
              describe_group(reg.gid) + " (" + std::strerror(err) +
              "): members of that group may no longer write it";
  }
  // After the chown, which clears set-id bits.
  if (::fchmod(fd, reg.mode) != 0) return io_error("cannot set the mode of", shown);
  return warning;
}

Status write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// A new file in `dir` under a name nobody can guess, never through a link nor over an existing
// file: a name planted there makes us pick another, never write into someone else's file.
struct NewFile {
  UniqueFd fd;
  std::string name;
};

Result<NewFile> create_exclusive(int dir, const fs::path& dir_path, const std::string& prefix,
                                 mode_t mode) {
  std::random_device random;
  for (int attempt = 0; attempt < 16; ++attempt) {
    char suffix[17];
    std::snprintf(suffix, sizeof suffix, "%08x%08x", random(), random());
    std::string name = prefix + suffix;
    UniqueFd fd(
        ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (fd) return NewFile{std::move(fd), name};
    if (errno != EEXIST) return io_error("cannot create", dir_path / name);
  }
  return io_error("cannot create", dir_path / (prefix + "*"), EEXIST);
}

// Temp files of saves that were killed (kill -9, power loss). Called with the lock held, so no
// other save is in progress. Only our own regular files go: never a link, never someone else's.
void remove_debris(int dir, const fs::path& dir_path, const std::string& name,
                   const Ownership& reg) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_path, ec)) {
    std::string n = entry.path().filename().string();
    if (n.rfind(name + ".tmp.", 0) != 0 && n.rfind(name + ".bak.tmp.", 0) != 0) continue;
    struct stat st {};
    if (::fstatat(dir, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    if (st.st_uid == ::geteuid() || (reg.exists && st.st_uid == reg.uid))
      ::unlinkat(dir, n.c_str(), 0);
  }
}

// FILE.bak: a regular file holding the previous version, written like the registry itself.
Status keep_backup(int dir, const fs::path& dir_path, const std::string& name,
                   const Ownership& reg) {
  UniqueFd old(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!old) return io_error("cannot read", dir_path / name);
  auto bak = create_exclusive(dir, dir_path, name + ".bak.tmp.", 0600);
  if (!bak) return bak.error();
  const fs::path bak_tmp = dir_path / bak->name;
  auto fail = [&](Error e) -> Status {
    ::unlinkat(dir, bak->name.c_str(), 0);
    return e;
  };
  // The group warning, if any, is the registry's own; said once.
  if (auto owned = adopt_ownership(bak->fd.get(), reg, bak_tmp); !owned) return fail(owned.error());
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(old.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(io_error("cannot read", dir_path / name));
    if (n == 0) break;
    if (auto st = write_all(bak->fd.get(), {buf, static_cast<size_t>(n)}, bak_tmp); !st)
      return fail(st.error());
  }
  if (::fsync(bak->fd.get()) != 0) return fail(io_error("cannot fsync", bak_tmp));
  const std::string bak_name = name + ".bak";
  if (::renameat(dir, bak->name.c_str(), dir, bak_name.c_str()) != 0)
    return fail(io_error("cannot keep backup", dir_path / bak_name));
  return {};
}

}  // namespace

Result<fs::path> resolve_registry(const fs::path& registry) {
  auto chain = link_chain(registry);
  if (!chain) return chain.error();
  return chain->back();
}

Result<RegistryLock> lock_registry(const fs::path& registry, std::chrono::milliseconds timeout) {
  auto resolved = resolve_registry(registry);
  if (!resolved) return resolved.error();
  const fs::path& file = *resolved;
  const fs::path dir = folder_of(file);
  std::error_code ec;
  if (file == registry) {
    fs::create_directories(dir, ec);
    if (ec)
      return make_error(ErrorKind::io,
                        "cannot create folder " + dir.string() + ": " + ec.message());
  } else if (!fs::is_directory(dir, ec)) {
    return make_error(ErrorKind::io, "registry " + registry.string() + " is a link to " +
                                         file.string() + ", whose folder does not exist");
  }
  Ownership reg;
  if (struct stat st{}; ::stat(file.c_str(), &st) == 0) reg = ownership_of(st);
  const mode_t mode = reg.exists ? lock_mode(reg.mode) : 0600;

  fs::path lock_path = file.string() + ".lock";
  // No link followed, no pipe or device opened for real (O_NONBLOCK, O_NOCTTY), then checked.
  UniqueFd fd(::open(lock_path.c_str(),
                     O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode));
  struct stat st {};
  if (!fd) {
    // Why, when it is something planted (kernels differ: ELOOP, or EACCES in a sticky folder).
    int err = errno;
    if (::lstat(lock_path.c_str(), &st) == 0)
      if (auto planted = unusable_lock(lock_path, st, reg)) return *planted;
    return io_error("cannot open lock file", lock_path, err);
  }
  if (::fstat(fd.get(), &st) != 0) return io_error("cannot stat lock file", lock_path);
  if (auto planted = unusable_lock(lock_path, st, reg)) return *planted;
  // Whoever created it, the lock is the registry's: owner, group, and no read without write.
  // Best effort: only the owner (or root) may change it, and it is only a matter of who may wait.
  if (reg.exists && (st.st_uid != reg.uid || st.st_gid != reg.gid))
    if (::fchown(fd.get(), reg.uid, reg.gid) != 0)
      (void)::fchown(fd.get(), static_cast<uid_t>(-1), reg.gid);
  if ((st.st_mode & 07777) != mode) (void)::fchmod(fd.get(), mode);

  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return io_error("cannot lock", lock_path);
    if (std::chrono::steady_clock::now() >= deadline) {
      pid_t holder = lock_holder(st.st_ino);
      std::string who = holder > 0 ? describe_holder(holder) : "another process";
      return make_error(ErrorKind::io, "registry " + registry.string() + " is locked by " + who +
                                           " on " + lock_path.string() + "; gave up after " +
                                           std::to_string(timeout.count()) +
                                           "ms (lock_timeout in portman.yml)");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  return RegistryLock(std::move(fd), file);
}

Result<LoadedRegistry> read_registry_file(const fs::path& registry) {
  LoadedRegistry out;
  // O_NONBLOCK: a named pipe at the path must be refused, not waited on.
  out.fd = UniqueFd(::open(registry.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!out.fd) {
    if (errno == ENOENT) return out;
    return io_error("cannot read registry", registry);
  }
  out.found = true;
  struct stat st {};
  if (::fstat(out.fd.get(), &st) != 0) return io_error("cannot read registry", registry);
  out.stamp = stamp_of(st);
  if (!S_ISREG(st.st_mode))
    return make_error(ErrorKind::invalid_data, "registry " + registry.string() + " is " +
                                                   kind_of(st.st_mode) +
                                                   ", not a regular file; give a JSON file");
  if (static_cast<unsigned long long>(st.st_size) > kRegistryMaxBytes)
    return make_error(ErrorKind::invalid_data, "registry " + registry.string() + " is " +
                                                   std::to_string(st.st_size) +
                                                   " bytes, more than the limit of " +
                                                   std::to_string(kRegistryMaxBytes) + " bytes");
  // One read of the size fstat gave; more only if the file grew meanwhile.
  auto text =
      read_whole_fd(out.fd.get(), registry, kRegistryMaxBytes, static_cast<size_t>(st.st_size));
  if (!text) return make_error(ErrorKind::invalid_data, "registry: " + text.error().message);
  auto parsed = Registry::parse(*text, registry.string());
  if (!parsed) return parsed.error();
  out.registry = std::move(*parsed);
  return out;
}

Result<Registry> load_registry(const fs::path& registry) {
  auto loaded = read_registry_file(registry);
  if (!loaded) return loaded.error();
  return std::move(loaded->registry);
}

bool registry_unchanged(const fs::path& file, const LoadedRegistry& loaded) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return errno == ENOENT && !loaded.found;
  return loaded.found && stamp_of(st) == loaded.stamp;
}

Result<std::vector<std::string>> save_registry(const RegistryLock& lock, const Registry& r,
                                               std::chrono::system_clock::time_point now) {
  const fs::path& file = lock.file();
  if (!r.duplicate_keys().empty())
    return make_error(ErrorKind::invalid_data,
                      file.string() + ": key " + r.duplicate_keys().front() +
                          " is written twice; a rewrite would lose one of them, so portman "
                          "will not change this file until it is fixed by hand");
  if (r.generation() >= Registry::kMaxGeneration)
    return make_error(ErrorKind::invalid_data,
                      file.string() + ": generation: " + std::to_string(r.generation()) +
                          " is the last one portman writes; the next save would hold a number "
                          "no portman reads, so set \"generation\" to 0 by hand");
  const fs::path dir_path = folder_of(file);
  const std::string name = file.filename().string();
  // Every name below is taken relative to this folder, whatever happens to the path meanwhile.
  UniqueFd dir(::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return io_error("cannot open folder", dir_path);
  Ownership reg;
  if (struct stat st{}; ::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISREG(st.st_mode))
      return make_error(ErrorKind::io, "registry " + file.string() + " is " + kind_of(st.st_mode) +
                                           ", not a regular file; nothing written");
    reg = ownership_of(st);
    // Replacing the file needs only the folder; writing it should need the file, as it did.
    if (::faccessat(dir.get(), name.c_str(), W_OK, AT_EACCESS) != 0)
      return io_error("cannot write registry", file);
  } else if (errno != ENOENT) {
    return io_error("cannot stat registry", file);
  }
  remove_debris(dir.get(), dir_path, name, reg);
  const std::string text = r.serialize_next(now);

  // A new registry is 0644 less the umask; an existing one's temp file is private until it
  // takes the registry's owner and mode.
  auto unchanged = [&](const Error& e) {
    return make_error(e.kind, "cannot save registry " + file.string() + ": " + e.message +
                                  "; the registry is unchanged");
  };
  auto tmp = create_exclusive(dir.get(), dir_path, name + ".tmp.", reg.exists ? 0600 : 0644);
  if (!tmp) return unchanged(tmp.error());
  const fs::path tmp_path = dir_path / tmp->name;
  // A full disk or a failing one: the old file stays as it was, with no debris beside it.
  auto fail = [&](Error e) -> Result<std::vector<std::string>> {
    ::unlinkat(dir.get(), tmp->name.c_str(), 0);
    return unchanged(e);
  };
  std::vector<std::string> warnings;
  if (reg.exists) {
    auto owned = adopt_ownership(tmp->fd.get(), reg, file);
    if (!owned) return fail(owned.error());
    if (*owned) warnings.push_back(**owned);
  }
  if (auto st = write_all(tmp->fd.get(), text, tmp_path); !st) return fail(st.error());
  if (::fsync(tmp->fd.get()) != 0) return fail(io_error("cannot fsync", tmp_path));
  tmp->fd.reset();
  if (reg.exists)
    if (auto st = keep_backup(dir.get(), dir_path, name, reg); !st) return fail(st.error());
  if (::renameat(dir.get(), tmp->name.c_str(), dir.get(), name.c_str()) != 0)
    return fail(io_error("cannot replace", file));
  if (::fsync(dir.get()) != 0) return io_error("cannot fsync folder", dir_path);
  return warnings;
}

std::vector<LocationWarning> registry_location_warnings(const fs::path& registry) {
  std::vector<LocationWarning> out;
  auto chain = link_chain(registry);
  if (!chain) return out;
  std::set<fs::path> seen;
  for (const fs::path& p : *chain) {
    fs::path dir = folder_of(p);
    struct stat st {};
    if (!seen.insert(dir).second || ::stat(dir.c_str(), &st) != 0) continue;
    if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
      out.push_back(
          {dir.string(), "folder of the registry" + std::string(p == chain->back() ? "" : " link") +
                             " is writable by every user and not sticky: anyone can replace " +
                             p.filename().string() + " or files beside it (chmod o-w, or +t)"});
  }
  struct stat st {};
  if (::stat(chain->back().c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IWOTH))
    out.push_back({chain->back().string(), "registry is writable by every user (chmod o-w)"});
  return out;
}

}  // namespace portman
