#include "agent/registry_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace portman::agent {

Result<RegistryWatch> RegistryWatch::open(const std::filesystem::path& registry) {
  auto dir = registry.has_parent_path() ? registry.parent_path() : std::filesystem::path(".");
  // A missing folder is not created: the path may be a typo. The caller then checks the file by
  // its stat instead, which sees the folder and the file when they appear.
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) return make_error(ErrorKind::io, std::string("inotify_init1: ") + std::strerror(errno));
  if (::inotify_add_watch(fd.get(), dir.c_str(),
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM) < 0)
    return make_error(ErrorKind::io, "cannot watch " + dir.string() + ": " + std::strerror(errno));
  return RegistryWatch(std::move(fd), registry.filename().string());
}

bool RegistryWatch::drain() {
  alignas(inotify_event) char buf[8192];
  bool hit = false;
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n <= 0) return hit;  // EAGAIN: nothing more
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if (ev->len > 0 && name_ == ev->name) hit = true;
      if (ev->mask & IN_Q_OVERFLOW) hit = true;  // events were lost: reload to be safe
    }
  }
}

}  // namespace portman::agent
