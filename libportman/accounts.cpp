#include "libportman/accounts.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <type_traits>
#include <vector>

#include "libportman/whole_file.hpp"

namespace portman {
namespace {

// A passwd or group file larger than this is not one (a large site has a few thousand lines).
constexpr std::size_t kMaxAccountsFile = 64u << 20;

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

std::optional<std::string> find_name(const IdNames& names, std::uint32_t id) {
  auto it = names.find(id);
  if (it == names.end()) return std::nullopt;
  return it->second;
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

IdNames parse_id_names(std::string_view text) {
  IdNames names;
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#' || line.front() == '+' || line.front() == '-') continue;
    auto c1 = line.find(':');
    if (c1 == 0 || c1 == std::string_view::npos) continue;
    auto c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    auto c3 = line.find(':', c2 + 1);
    std::string_view id_text = line.substr(c2 + 1, c3 == std::string_view::npos ? c3 : c3 - c2 - 1);
    std::uint32_t id = 0;
    auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc{} || ptr != id_text.data() + id_text.size() || id_text.empty()) continue;
    names.try_emplace(id, line.substr(0, c1));
  }
  return names;
}

bool is_own_root(const std::filesystem::path& rootfs) {
  const std::string& p = rootfs.native();
  return p.find_first_not_of('/') == std::string::npos;
}

Accounts Accounts::from_text(std::string_view passwd, std::string_view group) {
  Accounts a;
  a.users_ = parse_id_names(passwd);
  a.groups_ = parse_id_names(group);
  return a;
}

Accounts::Stamp Accounts::stamp(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return {};
  return {static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<std::int64_t>(st.st_size), static_cast<std::int64_t>(st.st_ino)};
}

bool Accounts::refresh() {
  if (rootfs_.empty()) return false;
  if (stamp(rootfs_ / "etc/passwd") == passwd_stamp_ &&
      stamp(rootfs_ / "etc/group") == group_stamp_)
    return false;
  auto fresh = from_rootfs(rootfs_);
  if (!fresh) return false;
  *this = std::move(*fresh);
  return true;
}

Result<Accounts> Accounts::from_rootfs(const std::filesystem::path& rootfs) {
  if (is_own_root(rootfs)) return Accounts{};
  // Stamped before reading: a change during the read is seen by the next refresh.
  Stamp passwd_stamp = stamp(rootfs / "etc/passwd"), group_stamp = stamp(rootfs / "etc/group");
  auto passwd = read_whole_file(rootfs / "etc/passwd", kMaxAccountsFile);
  if (!passwd)
    return make_error(ErrorKind::bad_input,
                      "--path.rootfs " + rootfs.string() + ": " + passwd.error().message +
                          "; give the folder the host's root is mounted on (e.g. /host), or / "
                          "for this system");
  int err = 0;
  auto group = read_whole_file(rootfs / "etc/group", kMaxAccountsFile, &err);
  if (!group && err != ENOENT)
    return make_error(ErrorKind::bad_input,
                      "--path.rootfs " + rootfs.string() + ": " + group.error().message);
  Accounts a = from_text(*passwd, group ? std::string_view(*group) : std::string_view());
  a.rootfs_ = rootfs;
  a.passwd_stamp_ = passwd_stamp;
  a.group_stamp_ = group_stamp;
  return a;
}

std::optional<std::string> Accounts::user(uid_t uid) const {
  return users_ ? find_name(*users_, uid) : user_name(uid);
}

std::optional<std::string> Accounts::group(gid_t gid) const {
  return groups_ ? find_name(*groups_, gid) : group_name(gid);
}

}  // namespace portman
