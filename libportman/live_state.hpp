// What is really there: the listening sockets and their owners, as the collectors found them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libportman/port.hpp"

namespace portman {

struct Owner {
  pid_t pid = 0;
  std::string process;    // comm, as the kernel names the process (at most 15 chars)
  std::string exe;        // target of /proc/PID/exe, empty when unreadable
  std::string cmdline;    // argv joined with spaces; never put into metric labels
  uid_t uid = 0;          // effective uid of the process
  std::string user;       // name of uid, or the number when it has no name
  std::string container;  // container id (64 hex) from /proc/PID/cgroup, empty on the host
  std::string unit;       // systemd unit owning the process (e.g. nginx.service), if any
};

enum class Family : std::uint8_t { ipv4, ipv6 };

struct ListeningSocket {
  Protocol protocol = Protocol::tcp;
  Family family = Family::ipv4;
  std::string address;  // numeric, no brackets: "0.0.0.0", "::", "127.0.0.1", "::1"
  std::uint16_t port = 0;
  bool v6only = false;  // IPv6 socket that does not accept IPv4 (IPV6_V6ONLY)
  std::uint64_t inode = 0;
  uid_t uid = 0;              // uid that created the socket
  std::string netns;          // network namespace ("net:[4026531840]"); empty when unknown
  std::vector<Owner> owners;  // processes holding the socket, pid order; empty if unknown
  std::string owner_unknown;  // why owners is empty, when the owners collector ran

  PortKey key() const { return {port, protocol}; }
  bool wildcard() const { return address == "0.0.0.0" || address == "::"; }
  // The process the socket belongs to: the lowest pid that is not PID 1, so that a socket
  // passed by systemd (socket activation) belongs to the service; PID 1 only when alone.
  const Owner* main_owner() const;
};

// How one collector run went; the agent turns this into the per-collector metrics.
struct CollectorRun {
  std::string collector;
  bool success = false;
  double duration_seconds = 0;
  std::string error;  // why it failed, empty on success
};

struct LiveState {
  std::vector<ListeningSocket> sockets;
  std::vector<CollectorRun> runs;
  int processes_unreadable = 0;  // processes whose fds could not be read (permissions)
  std::string socket_source;     // "netlink" or "procfs": where the sockets came from
  // The kernel's ip_local_port_range (in the scanned network namespace): unbound UDP clients
  // get their ports from it. Unset when it could not be read.
  std::optional<std::pair<std::uint16_t, std::uint16_t>> ephemeral_ports;
};

}  // namespace portman
