// The registry on disk: an exclusive lock around every read-check-write, and saves that are
// atomic and durable (temp file, fsync, rename, fsync of the folder), keeping a .bak.
#pragma once

#include <chrono>
#include <filesystem>

#include "libportman/registry.hpp"
#include "libportman/result.hpp"
#include "libportman/unique_fd.hpp"

namespace portman {

// Held while alive: flock(LOCK_EX) on the sidecar FILE.lock (the registry itself is replaced by
// rename on every save, so it cannot carry the lock).
class RegistryLock {
 public:
  explicit RegistryLock(UniqueFd fd) : fd_(std::move(fd)) {}

 private:
  UniqueFd fd_;
};

// Waits at most `timeout`; then fails naming the holder's pid where /proc/locks tells it.
// Creates the registry's folder when missing.
Result<RegistryLock> lock_registry(const std::filesystem::path& registry,
                                   std::chrono::milliseconds timeout);

// A missing file reads as an empty registry.
Result<Registry> load_registry(const std::filesystem::path& registry);

// Call with the lock held. Writes generation + 1; the old file is kept as FILE.bak.
Status save_registry(const std::filesystem::path& registry, const Registry& r,
                     std::chrono::system_clock::time_point now);

}  // namespace portman
