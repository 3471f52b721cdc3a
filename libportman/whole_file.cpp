#include "libportman/whole_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "libportman/unique_fd.hpp"

namespace portman {

Result<std::string> read_whole_file(const std::filesystem::path& path, std::size_t max_bytes,
                                    int* err) {
  auto fail = [&](int e) {
    if (err) *err = e;
    return make_error(ErrorKind::io, "cannot read " + path.string() + ": " + std::strerror(e));
  };
  if (err) *err = 0;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return fail(errno);
  std::string text;
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n == 0) return text;
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    if (text.size() + static_cast<std::size_t>(n) > max_bytes)
      return make_error(ErrorKind::io,
                        path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
    text.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace portman
