// Pure parsers for the per-process files under /proc/PID that the owners collector reads.
// They take the bytes as read and never touch the filesystem, so tests feed them literals.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portman {

// Target of a /proc/PID/fd/N link: "socket:[12345]" -> 12345; any other target -> nullopt.
std::optional<std::uint64_t> parse_socket_link(std::string_view target);

// A /proc directory entry name that is a pid ("1234"); "self", "sys", "0", "12a" -> nullopt.
std::optional<pid_t> parse_pid(std::string_view name);

// Appends the pids of /proc/PID/task/TID/children ("123 456 ") to `out`; junk is skipped.
void parse_children(std::string_view text, std::vector<pid_t>& out);

// Parent pid from /proc/PID/stat ("PID (comm) STATE PPID ..."; comm may hold spaces and ')').
std::optional<pid_t> parse_stat_ppid(std::string_view stat);

// Effective uid from /proc/PID/status: the second field of the "Uid:" line.
std::optional<uid_t> parse_status_euid(std::string_view status);

// /proc/PID/cmdline (argv, NUL-separated, maybe without the last NUL) joined with spaces;
// empty for kernel threads.
std::string join_cmdline(std::string_view raw);

struct CgroupInfo {
  std::string container;  // 64-hex container id, empty when not in a container
  std::string unit;       // systemd unit (foo.service, session-3.scope), empty when none
};

// /proc/PID/cgroup, v1 ("12:pids:/docker/<id>"), v2 ("0::/system.slice/nginx.service") or
// hybrid. The unit comes from the systemd hierarchy when there is one.
CgroupInfo parse_cgroup(std::string_view text);

}  // namespace portman
