// The registry on disk: an exclusive lock around every read-check-write, and saves that are
// atomic and durable (temp file, fsync, rename, fsync of the folder), keeping a .bak copy.
// A symlinked registry is written where the link points; nothing beside it is opened through a
// link, and the file keeps its owner, group and mode.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "libportman/registry.hpp"
#include "libportman/result.hpp"
#include "libportman/unique_fd.hpp"

namespace portman {

// The file a registry path names: symlinks followed, chains too, a relative target read from the
// link's folder. A dangling link names the file it points to (a save creates it there). A path
// that is no link comes back as it is.
Result<std::filesystem::path> resolve_registry(const std::filesystem::path& registry);

// Held while alive: flock(LOCK_EX) on the sidecar FILE.lock beside the resolved file (the
// registry itself is replaced by rename on every save, so it cannot carry the lock).
class RegistryLock {
 public:
  // The registry file this lock guards, symlinks resolved: what save_registry writes.
  const std::filesystem::path& file() const { return file_; }

 private:
  friend Result<RegistryLock> lock_registry(const std::filesystem::path&,
                                            std::chrono::milliseconds);
  RegistryLock(UniqueFd fd, std::filesystem::path file)
      : fd_(std::move(fd)), file_(std::move(file)) {}
  UniqueFd fd_;
  std::filesystem::path file_;
};

// Waits at most `timeout`; then fails naming the holder's pid where /proc/locks tells it.
// Creates the registry's folder when missing (not the folder of a dangling link's target).
// The lock file takes the registry's owner and group; a class of users gets read and write on it
// only if it may write the registry. A lock path that is a link, not a regular file, or owned by
// a stranger is refused.
Result<RegistryLock> lock_registry(const std::filesystem::path& registry,
                                   std::chrono::milliseconds timeout);

// Identity and state of a file when it was read: a save (rename) changes the inode, an edit in
// place the size or the times.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  long long mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

// A registry as read, with the file it came from kept open: while open, its inode number cannot
// be reused, so comparing stamps tells reliably whether the path still holds what was read.
struct LoadedRegistry {
  Registry registry;
  bool found = false;  // false: no file at the path; `registry` is then empty
  FileStamp stamp;
  UniqueFd fd;
};

// A missing file reads as an empty registry (found = false). A path that is not a regular file,
// or a file larger than kRegistryMaxBytes, is refused as invalid data without reading it.
Result<LoadedRegistry> read_registry_file(const std::filesystem::path& registry);
// read_registry_file's registry alone.
Result<Registry> load_registry(const std::filesystem::path& registry);
// True when `file` is still what `loaded` was read from, unchanged (or still missing).
bool registry_unchanged(const std::filesystem::path& file, const LoadedRegistry& loaded);

// Writes generation + 1 to lock.file(); the old file is kept as FILE.bak (a copy). The new file
// and the .bak keep the old file's owner, group and mode. Returns warnings for the user: a group
// that could not be kept (the save happened anyway).
Result<std::vector<std::string>> save_registry(const RegistryLock& lock, const Registry& r,
                                               std::chrono::system_clock::time_point now);

// Why the registry's place is unsafe: a folder on its way (the link's, the target's) that every
// user may write without the sticky bit, or a registry file every user may write.
struct LocationWarning {
  std::string where, message;
};
std::vector<LocationWarning> registry_location_warnings(const std::filesystem::path& registry);

}  // namespace portman
