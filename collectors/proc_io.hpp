// Small reads of procfs shared by the owner sources and the owner details: relative paths built
// on the stack, directory listings through one reused buffer, whole small files, links.
#pragma once

#include <dirent.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libportman/unique_fd.hpp"

namespace portman {

// A path relative to a directory fd ("1234/fd"), built on the stack: no allocation per process.
class RelPath {
 public:
  explicit RelPath(pid_t pid) { add(pid); }
  RelPath& add(pid_t n) {
    auto [end, ec] = std::to_chars(buf_ + len_, buf_ + kMax, n);
    if (ec == std::errc{}) len_ = static_cast<std::size_t>(end - buf_);
    buf_[len_] = '\0';
    return *this;
  }
  RelPath& add(std::string_view s) {
    std::size_t n = std::min(s.size(), kMax - len_);
    std::memcpy(buf_ + len_, s.data(), n);
    len_ += n;
    buf_[len_] = '\0';
    return *this;
  }
  const char* c_str() const { return buf_; }

 private:
  static constexpr std::size_t kMax = 95;
  char buf_[kMax + 1] = {};
  std::size_t len_ = 0;
};

UniqueFd open_dir_at(int dir_fd, const char* rel);

// Lists directories with getdents64 into one buffer reused for every directory of a run.
class DirLister {
 public:
  // Calls fn(name, d_type) for each entry but "." and ".." until fn returns false.
  // Returns 0 or the errno of the failed read.
  template <class Fn>
  int list(int dir_fd, Fn&& fn) {
    for (;;) {
      ssize_t n = ::getdents64(dir_fd, buf_.data(), buf_.size());
      if (n == 0) return 0;
      if (n < 0) return errno;
      for (ssize_t off = 0; off < n;) {
        const auto* d = reinterpret_cast<const struct dirent64*>(buf_.data() + off);
        off += d->d_reclen;
        std::string_view name(d->d_name);
        if (name == "." || name == "..") continue;
        if (!fn(name, d->d_type)) return 0;
      }
    }
  }

 private:
  std::vector<char> buf_ = std::vector<char>(32 * 1024);  // operator new: aligned for dirent64
};

// Reads a whole (small) procfs file into `out`, whose capacity is reused. Returns 0 or errno.
int read_file_at(int dir_fd, const char* rel, std::string& out);

// readlinkat into `buf`; nullopt when it fails (errno set). A target longer than `buf` comes
// back cut, which is harmless where we use it: "socket:[N]" and "net:[N]" are short.
std::optional<std::string_view> read_link_at(int dir_fd, const char* rel, std::span<char> buf);

inline bool is_denied(int err) {
  return err == EACCES || err == EPERM;
}

}  // namespace portman
