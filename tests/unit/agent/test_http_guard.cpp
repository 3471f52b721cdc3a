// The header deadlines and the per-client connection cap, on a clock the test moves.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "agent/http_guard.hpp"

using namespace portman::agent;
using namespace std::chrono_literals;
using Clock = ConnectionGuard::Clock;

namespace {

GuardLimits limits(std::size_t per_client = 3) {
  GuardLimits l;
  l.per_client = per_client;
  l.header_timeout = 10s;
  l.idle_timeout = 30s;
  return l;
}

std::vector<int> expired(ConnectionGuard& g, Clock::time_point now) {
  std::vector<int> fds;
  g.expire(now, [&](int fd) { fds.push_back(fd); });
  return fds;
}

// Distinct ids for the guard: addresses of these.
int ids[16];

}  // namespace

TEST_CASE("A client may hold per_client connections and the next one is refused") {
  ConnectionGuard g(limits(3));
  auto t0 = Clock::now();
  CHECK(g.opened(&ids[0], 10, "192.0.2.1", t0));
  CHECK(g.opened(&ids[1], 11, "192.0.2.1", t0));
  CHECK(g.opened(&ids[2], 12, "192.0.2.1", t0));
  CHECK_FALSE(g.opened(&ids[3], 13, "192.0.2.1", t0));
  CHECK(g.opened(&ids[4], 14, "192.0.2.2", t0));  // another client is not affected
  CHECK(g.connections_of("192.0.2.1") == 3);
  g.closed(&ids[3]);  // the refused one was never counted
  CHECK(g.connections_of("192.0.2.1") == 3);
  g.closed(&ids[0]);
  CHECK(g.connections_of("192.0.2.1") == 2);
  CHECK(g.opened(&ids[5], 15, "192.0.2.1", t0));
  for (int i : {1, 2, 4, 5}) g.closed(&ids[i]);
  CHECK(g.connections() == 0);
  CHECK(g.connections_of("192.0.2.1") == 0);
}

TEST_CASE("A header not complete within header_timeout of the accept is expired once") {
  ConnectionGuard g(limits());
  auto t0 = Clock::now();
  g.opened(&ids[0], 20, "a", t0);
  g.opened(&ids[1], 21, "a", t0 + 5s);
  CHECK(expired(g, t0 + 9s).empty());
  CHECK(expired(g, t0 + 10s) == std::vector<int>{20});
  CHECK(expired(g, t0 + 11s).empty());  // already expired: not twice
  CHECK(expired(g, t0 + 15s) == std::vector<int>{21});
}

TEST_CASE("Trickled bytes do not move the deadline: only a complete header clears it") {
  ConnectionGuard g(limits());
  auto t0 = Clock::now();
  g.opened(&ids[0], 30, "a", t0);
  g.opened(&ids[1], 31, "a", t0);
  g.header_done(&ids[1]);  // being served: no deadline, however long the response takes
  CHECK(expired(g, t0 + 1h) == std::vector<int>{30});
}

TEST_CASE("A kept-alive connection gets idle_timeout from the end of its response") {
  ConnectionGuard g(limits());
  auto t0 = Clock::now();
  g.opened(&ids[0], 40, "a", t0);
  g.header_done(&ids[0]);
  g.request_done(&ids[0], t0 + 2s);
  CHECK(expired(g, t0 + 31s).empty());
  CHECK(expired(g, t0 + 32s) == std::vector<int>{40});
}

TEST_CASE("A closed connection is forgotten and never expired") {
  ConnectionGuard g(limits());
  auto t0 = Clock::now();
  g.opened(&ids[0], 50, "a", t0);
  g.closed(&ids[0]);
  g.header_done(&ids[0]);  // late callbacks for a gone connection are ignored
  g.request_done(&ids[0], t0);
  CHECK(expired(g, t0 + 1h).empty());
}

TEST_CASE("Clients are keyed by IPv4 address and by IPv6 /64") {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
  CHECK(client_key(reinterpret_cast<sockaddr*>(&v4)) == "192.0.2.7");
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", &v6.sin6_addr);
  std::string a = client_key(reinterpret_cast<sockaddr*>(&v6));
  inet_pton(AF_INET6, "2001:db8:1:2::1", &v6.sin6_addr);
  CHECK(client_key(reinterpret_cast<sockaddr*>(&v6)) == a);
  CHECK(a == "2001:db8:1:2::/64");
  inet_pton(AF_INET6, "2001:db8:1:3::1", &v6.sin6_addr);
  CHECK(client_key(reinterpret_cast<sockaddr*>(&v6)) != a);
  inet_pton(AF_INET6, "::ffff:192.0.2.7", &v6.sin6_addr);
  CHECK(client_key(reinterpret_cast<sockaddr*>(&v6)) == "192.0.2.7");
  CHECK(client_key(nullptr) == "?");
}

TEST_CASE("Under pressure every header and idle deadline shrinks to busy_timeout") {
  GuardLimits l = limits(10);
  l.busy_at = 3;
  l.busy_timeout = 2s;
  ConnectionGuard g(l);
  auto t0 = Clock::now();
  g.opened(&ids[0], 60, "a", t0);
  g.opened(&ids[1], 61, "b", t0);
  CHECK(expired(g, t0 + 3s).empty());  // two open: not busy, 10 s deadlines hold
  g.opened(&ids[2], 62, "c", t0 + 2s);
  g.header_done(&ids[2]);          // being served: never cut
  auto got = expired(g, t0 + 3s);  // three open: busy, 2 s from accept
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<int>{60, 61});
  g.closed(&ids[0]);
  g.closed(&ids[1]);
  g.opened(&ids[3], 63, "d", t0 + 3s);
  g.opened(&ids[4], 64, "e", t0 + 3s);
  g.request_done(&ids[2], t0 + 4s);  // kept alive, busy: 2 s of idle
  CHECK(expired(g, t0 + 4500ms).empty());
  got = expired(g, t0 + 6s);
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<int>{62, 63, 64});
}
