// User and group names, in one place: from this system's databases (getpwuid_r, getgrgid_r, so
// NSS sources such as LDAP count), or from the etc/passwd and etc/group files of another root
// (--path.rootfs: a container that sees the host's root under /host names the host's users, not
// its own image's).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "libportman/result.hpp"

namespace portman {

// The name of a uid or gid in this system's databases; nullopt when they have none.
std::optional<std::string> user_name(uid_t uid);
std::optional<std::string> group_name(gid_t gid);

// id -> name, from the text of a passwd or group file: both hold `name:password:id:...` lines.
// Blank lines, comments and NIS lines (`+`, `-`) are skipped, as are lines whose third field is
// not a number. The first line of an id wins, as getpwuid does.
using IdNames = std::unordered_map<std::uint32_t, std::string>;
IdNames parse_id_names(std::string_view text);

// Where names come from. The default asks this system's databases; a table built from files
// answers from those files only (an id they lack has no name).
class Accounts {
 public:
  Accounts() = default;  // this system's databases
  static Accounts from_text(std::string_view passwd, std::string_view group);
  // ROOTFS/etc/passwd (required) and ROOTFS/etc/group (optional), read now. "/" (or empty) is
  // this system: its databases, not its files.
  static Result<Accounts> from_rootfs(const std::filesystem::path& rootfs);

  // Reads the rootfs's files again when etc/passwd or etc/group changed since (useradd replaces
  // them), so that a long-running agent names users added after its start. True when the names
  // were re-read; false when nothing changed, for this system's databases and for a table from
  // text. A file that cannot be read now keeps the names read before.
  bool refresh();

  std::optional<std::string> user(uid_t uid) const;
  std::optional<std::string> group(gid_t gid) const;
  bool from_files() const { return users_.has_value(); }

 private:
  struct Stamp {
    std::int64_t mtime_ns = -1, size = -1, inode = -1;
    bool operator==(const Stamp&) const = default;
  };
  static Stamp stamp(const std::filesystem::path& file);

  std::optional<IdNames> users_, groups_;  // nullopt: this system's databases
  std::filesystem::path rootfs_;           // empty unless read from a rootfs
  Stamp passwd_stamp_, group_stamp_;
};

// Whether `rootfs` means this system's own root ("/", "//", or empty).
bool is_own_root(const std::filesystem::path& rootfs);

}  // namespace portman
