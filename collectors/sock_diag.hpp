// Sockets from the kernel's sock_diag netlink interface (what `ss -ltu` uses).
// FETCH (socket, send, recv) is split from PARSE (pure, on bytes) so the parser can be tested on
// hand-built datagrams and the fetch stays a thin loop.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "libportman/live_state.hpp"
#include "libportman/port.hpp"
#include "libportman/result.hpp"

namespace portman {

// What one datagram told us besides the sockets it held.
struct SockDiagProgress {
  bool done = false;  // NLMSG_DONE seen: the dump is complete
  int nl_errno = 0;   // positive errno from an NLMSG_ERROR (or a failed NLMSG_DONE), else 0
};

// Parses one received datagram (one or more netlink messages) of a SOCK_DIAG_BY_FAMILY dump
// and appends the sockets that listen: TCP in LISTEN, UDP bound (TCP_CLOSE) to a port != 0.
// Every length is checked; a malformed datagram is an invalid_data error, an NLMSG_ERROR an
// io error (with progress.nl_errno set). Sockets parsed before an error stay in `out`.
Status parse_sock_diag(std::span<const std::byte> datagram, Protocol proto,
                       std::vector<ListeningSocket>& out, SockDiagProgress& progress);

// Builds the INET_DIAG_REQ_BYTECODE program that keeps sockets whose source port is `port`
// (S_GE then S_LE, understood by every kernel with sock_diag). Exposed for tests.
std::vector<std::byte> sock_diag_port_filter(std::uint16_t port);

// Dumps the listening sockets of the caller's network namespace over NETLINK_SOCK_DIAG, for
// both families; only `only`'s protocol and port when set. On failure `sys_errno` holds the
// errno behind it (0 when it was not a system error) so the caller can decide to fall back.
Status fetch_sock_diag(std::optional<PortKey> only, std::vector<ListeningSocket>& out,
                       int& sys_errno);

}  // namespace portman
