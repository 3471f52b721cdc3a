// User and group names from the system's databases (getpwuid_r, getgrgid_r), in one place.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace portman {

// The name of a uid or gid; nullopt when the database has none.
std::optional<std::string> user_name(uid_t uid);
std::optional<std::string> group_name(gid_t gid);

}  // namespace portman
