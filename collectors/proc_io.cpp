#include "collectors/proc_io.hpp"

#include <fcntl.h>

namespace portman {

UniqueFd open_dir_at(int dir_fd, const char* rel) {
  return UniqueFd(::openat(dir_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

int read_file_at(int dir_fd, const char* rel, std::string& out) {
  constexpr std::size_t kLimit = 1 << 20;  // a cmdline beyond this is cut, not a reason to fail
  out.clear();
  UniqueFd fd(::openat(dir_fd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return errno;
  std::size_t used = 0;
  while (used < kLimit) {
    if (out.size() < used + 4096) out.resize(std::max(out.capacity(), used + 4096));
    ssize_t n = ::read(fd.get(), out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      out.clear();
      return err;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out.resize(used);
  return 0;
}

std::optional<std::string_view> read_link_at(int dir_fd, const char* rel, std::span<char> buf) {
  ssize_t n = ::readlinkat(dir_fd, rel, buf.data(), buf.size());
  if (n < 0) return std::nullopt;
  return std::string_view(buf.data(), static_cast<std::size_t>(n));
}

}  // namespace portman
