#include "libportman/whole_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "libportman/unique_fd.hpp"

namespace portman {

Result<std::string> read_whole_fd(int fd, const std::filesystem::path& shown, std::size_t max_bytes,
                                  std::size_t size_hint, int* err) {
  if (err) *err = 0;
  // One read when the hint is right (+1 to see the end); doubled while the file is longer. At
  // least 64 KiB: a sysctl file under /proc gives nothing to a second read at an offset.
  std::string text(std::min(std::max<std::size_t>(size_hint, 64 * 1024), max_bytes) + 1, '\0');
  std::size_t used = 0;
  for (;;) {
    if (used == text.size()) {
      if (text.size() > max_bytes)
        return make_error(ErrorKind::io, shown.string() + " is larger than " +
                                             std::to_string(max_bytes) + " bytes");
      text.resize(std::min(text.size() * 2, max_bytes + 1));
    }
    const ssize_t n = ::read(fd, text.data() + used, text.size() - used);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (err) *err = errno;
      return make_error(ErrorKind::io,
                        "cannot read " + shown.string() + ": " + std::strerror(errno));
    }
    used += static_cast<std::size_t>(n);
  }
  text.resize(used);
  return text;
}

Result<std::string> read_whole_file(const std::filesystem::path& path, std::size_t max_bytes,
                                    int* err) {
  if (err) *err = 0;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    const int e = errno;
    if (err) *err = e;
    return make_error(ErrorKind::io, "cannot read " + path.string() + ": " + std::strerror(e));
  }
  return read_whole_fd(fd.get(), path, max_bytes, 0, err);
}

}  // namespace portman
