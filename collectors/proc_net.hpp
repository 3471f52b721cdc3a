// Sockets from /proc/net/{tcp,tcp6,udp,udp6}: the fallback when netlink is unavailable, and the
// only source for a fixture tree. v6only is not visible there and stays false.
#pragma once

#include <string_view>
#include <vector>

#include "libportman/live_state.hpp"
#include "libportman/port.hpp"
#include "libportman/result.hpp"

namespace portman {

// Parses the text of one of those files (header line included) and appends the listening
// sockets: TCP in state 0A (LISTEN), UDP in state 07 (unconnected) with a local port != 0.
// Addresses are the kernel's hex, one little-endian 32-bit word at a time. A malformed line is
// an invalid_data error naming its line number; sockets of earlier lines stay in `out`.
Status parse_proc_net(std::string_view text, Protocol proto, Family family,
                      std::vector<ListeningSocket>& out);

}  // namespace portman
