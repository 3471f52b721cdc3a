// A socket address as text, as inet_ntop writes it ("127.0.0.1", "::1"), for the socket
// collectors (netlink and /proc/net). IPv4 is formatted here: glibc's inet_ntop goes through
// sprintf, which was a tenth of a scan's instructions at thousands of sockets.
#pragma once

#include <arpa/inet.h>

#include <optional>
#include <span>
#include <string_view>

namespace portman {

// The address at `addr` (4 bytes for AF_INET, 16 for AF_INET6, network order) written into
// `buf`; nullopt for another family.
std::optional<std::string_view> address_text(int family, const void* addr,
                                             std::span<char, INET6_ADDRSTRLEN> buf);

}  // namespace portman
