// What keeps slow and idle clients from holding every connection of the HTTP server: a cap on
// the connections one client may hold, and an absolute deadline for each request header (not
// reset by every byte, as libmicrohttpd's own timeout is). Plain bookkeeping, fed by the server's
// connection callbacks and swept by its watchdog thread; it never touches a socket itself.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace portman::agent {

struct GuardLimits {
  std::size_t per_client = 64;  // open connections one client (address, or IPv6 /64) may hold
  // From accept to the end of the first request's header (TLS handshake included).
  std::chrono::milliseconds header_timeout{10'000};
  // From the end of a response to the end of the next request's header, on a kept-alive
  // connection: long enough for a scrape interval of 15 s or 30 s to reuse it.
  std::chrono::milliseconds idle_timeout{30'000};
  // Under pressure (this many connections open, from however many clients), both deadlines
  // shrink to busy_timeout, so that slow clients from many addresses cannot fill the server's
  // 512 slots for long; a scraper sends its header in milliseconds.
  std::size_t busy_at = 384;
  std::chrono::milliseconds busy_timeout{2'000};
};

// "192.0.2.7" for IPv4 (and IPv4-mapped IPv6), "2001:db8:1:2::/64" for IPv6: one host usually
// owns a whole /64, so counting single IPv6 addresses would cap nothing.
std::string client_key(const sockaddr* addr);

class ConnectionGuard {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ConnectionGuard(GuardLimits limits) : limits_(limits) {}

  // A new connection (id: any unique pointer, fd: its socket). False when its client already
  // holds `per_client` connections: the caller closes it, and it is not tracked.
  bool opened(const void* id, int fd, const std::string& client, Clock::time_point now);
  // The request's header is complete: no deadline while it is served.
  void header_done(const void* id);
  // The response is sent and the connection kept alive: the idle deadline starts.
  void request_done(const void* id, Clock::time_point now);
  void closed(const void* id);
  // Calls `close_fd` for each connection past its deadline, under the lock, so that the fd
  // cannot be closed and reused meanwhile (closed() is called before the server closes it).
  // Each connection is expired once. Returns how many were.
  std::size_t expire(Clock::time_point now, const std::function<void(int fd)>& close_fd);

  std::size_t connections_of(const std::string& client) const;
  std::size_t connections() const;

 private:
  struct Entry {
    int fd = -1;
    std::string client;
    std::optional<Clock::time_point> deadline;
    Clock::time_point phase_start;  // accept, or end of the previous response
    bool expired = false;
  };
  GuardLimits limits_;
  mutable std::mutex mu_;
  std::unordered_map<const void*, Entry> conns_;
  std::unordered_map<std::string, std::size_t> per_client_;
};

}  // namespace portman::agent
