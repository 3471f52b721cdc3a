// Tells when the registry file changes. Atomic saves replace the file (rename), which a watch on
// the file itself would miss, so the folder is watched and events are filtered by name.
#pragma once

#include <filesystem>
#include <string>

#include "libportman/result.hpp"
#include "libportman/unique_fd.hpp"

namespace portman::agent {

class RegistryWatch {
 public:
  // Fails when the folder is missing (it is not created: the path may be a typo).
  static Result<RegistryWatch> open(const std::filesystem::path& registry);
  int fd() const { return fd_.get(); }
  // Reads the pending events; true when one concerns the registry file.
  bool drain();

 private:
  RegistryWatch(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
  UniqueFd fd_;
  std::string name_;
};

}  // namespace portman::agent
