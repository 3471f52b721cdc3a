#include "libportman/accounts.hpp"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <type_traits>
#include <vector>

namespace portman {
namespace {

// Calls a *_r lookup with a buffer that grows while the entry does not fit (ERANGE).
template <class Entry, class Lookup>
std::optional<std::string> lookup_name(Lookup lookup) {
  std::vector<char> buf(1024);
  for (;;) {
    Entry entry{};
    Entry* found = nullptr;
    int rc = lookup(&entry, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || !found) return std::nullopt;
    if constexpr (std::is_same_v<Entry, passwd>)
      return std::string(found->pw_name);
    else
      return std::string(found->gr_name);
  }
}

}  // namespace

std::optional<std::string> user_name(uid_t uid) {
  return lookup_name<passwd>(
      [uid](passwd* e, char* b, size_t n, passwd** f) { return ::getpwuid_r(uid, e, b, n, f); });
}

std::optional<std::string> group_name(gid_t gid) {
  return lookup_name<group>(
      [gid](group* e, char* b, size_t n, group** f) { return ::getgrgid_r(gid, e, b, n, f); });
}

}  // namespace portman
