// Listening sockets for the HTTP server: bound here, not by libmicrohttpd, so a failure names the
// address and errno, and port 0 can be read back before the daemon starts.
#pragma once

#include <cstdint>
#include <string_view>

#include "agent/http_server.hpp"
#include "libportman/result.hpp"
#include "libportman/unique_fd.hpp"

namespace portman::agent {

struct Listener {
  UniqueFd fd;  // bound, listening, non-blocking, close-on-exec
  std::uint16_t port = 0;
};

// `text` is the address as the user wrote it, for the error message.
Result<Listener> open_listener(const ListenAddress& address, std::string_view text);

}  // namespace portman::agent
