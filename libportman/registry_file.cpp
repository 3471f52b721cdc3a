#include "libportman/registry_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace portman {
namespace fs = std::filesystem;
namespace {

Error io_error(const std::string& what, const fs::path& path, int err = errno) {
  return make_error(ErrorKind::io, what + " " + path.string() + ": " + std::strerror(err));
}

// The pid holding a flock on (dev, ino), from /proc/locks; 0 when it cannot be known.
pid_t lock_holder(const struct stat& st) {
  std::ifstream locks("/proc/locks");
  std::string line;
  char want[64];
  std::snprintf(want, sizeof want, ":%llu ", static_cast<unsigned long long>(st.st_ino));
  while (std::getline(locks, line)) {
    // "1: FLOCK  ADVISORY  WRITE 4242 00:2a:1234 0 EOF"; waiters are marked "->".
    if (line.find("->") != std::string::npos || line.find("FLOCK") == std::string::npos) continue;
    if (line.find(want) == std::string::npos) continue;
    std::istringstream in(line);
    std::string id, kind, mode, access;
    long pid = 0;
    if (in >> id >> kind >> mode >> access >> pid) return static_cast<pid_t>(pid);
  }
  return 0;
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

Status fsync_dir(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return io_error("cannot open folder", dir);
  if (::fsync(fd.get()) != 0) return io_error("cannot fsync folder", dir);
  return {};
}

fs::path folder_of(const fs::path& p) {
  return p.has_parent_path() ? p.parent_path() : fs::path(".");
}

// Temp files of saves that were killed (kill -9, power loss). Called with the lock held, so no
// other save is in progress and every such file is debris.
void remove_debris(const fs::path& registry) {
  const std::string name = registry.filename().string();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder_of(registry), ec)) {
    std::string n = entry.path().filename().string();
    if (n.rfind(name + ".tmp.", 0) == 0 || n.rfind(name + ".bak.tmp.", 0) == 0)
      ::unlink(entry.path().c_str());
  }
}

}  // namespace

Result<RegistryLock> lock_registry(const fs::path& registry, std::chrono::milliseconds timeout) {
  std::error_code ec;
  fs::create_directories(folder_of(registry), ec);
  if (ec)
    return make_error(ErrorKind::io,
                      "cannot create folder " + folder_of(registry).string() + ": " + ec.message());
  fs::path lock_path = registry.string() + ".lock";
  UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return io_error("cannot open lock file", lock_path);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return io_error("cannot lock", lock_path);
    if (std::chrono::steady_clock::now() >= deadline) {
      struct stat st {};
      ::fstat(fd.get(), &st);
      pid_t holder = lock_holder(st);
      std::string who = holder > 0 ? "pid " + std::to_string(holder) : "another process";
      return make_error(ErrorKind::io, "registry " + registry.string() + " is locked by " + who +
                                           " (" + lock_path.string() + "); gave up after " +
                                           std::to_string(timeout.count()) +
                                           "ms (lock_timeout in portman.yml)");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  return RegistryLock(std::move(fd));
}

Result<Registry> load_registry(const fs::path& registry) {
  UniqueFd fd(::open(registry.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return Registry();
    return make_error(ErrorKind::io,
                      "cannot read registry " + registry.string() + ": " + std::strerror(errno));
  }
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return make_error(ErrorKind::invalid_data,
                        "cannot read registry " + registry.string() + ": " + std::strerror(errno));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return Registry::parse(text, registry.string());
}

Status save_registry(const fs::path& registry, const Registry& r,
                     std::chrono::system_clock::time_point now) {
  if (!r.duplicate_keys().empty())
    return make_error(ErrorKind::invalid_data,
                      registry.string() + ": key " + r.duplicate_keys().front() +
                          " is written twice; a rewrite would lose one of them, so portman "
                          "will not change this file until it is fixed by hand");
  const fs::path dir = folder_of(registry);
  remove_debris(registry);
  const std::string text = r.serialize_next(now);
  fs::path tmp = registry.string() + ".tmp." + std::to_string(::getpid());
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) return io_error("cannot create", tmp);
    // The new file keeps the old one's mode: a registry kept private stays private.
    struct stat old {};
    if (::stat(registry.c_str(), &old) == 0) ::fchmod(fd.get(), old.st_mode & 07777);
    Status st = write_all(fd.get(), text, tmp);
    if (st && ::fsync(fd.get()) != 0) st = io_error("cannot fsync", tmp);
    if (!st) {
      ::unlink(tmp.c_str());  // a full disk leaves the old registry and no debris
      return st;
    }
  }
  // The old file becomes the .bak by a second name on its inode: it is never modified in place.
  fs::path bak = registry.string() + ".bak";
  fs::path bak_tmp = bak.string() + ".tmp." + std::to_string(::getpid());
  ::unlink(bak_tmp.c_str());  // debris of a save killed here by a process with our (reused) pid
  if (::link(registry.c_str(), bak_tmp.c_str()) == 0) {
    if (::rename(bak_tmp.c_str(), bak.c_str()) != 0) ::unlink(bak_tmp.c_str());
  } else if (errno != ENOENT) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot keep backup", bak, err);
  }
  if (::rename(tmp.c_str(), registry.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot replace", registry, err);
  }
  return fsync_dir(dir);
}

}  // namespace portman
