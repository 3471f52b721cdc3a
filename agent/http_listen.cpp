#include "agent/http_listen.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <vector>

namespace portman::agent {
namespace {

Error bad_address(std::string_view text, const std::string& why) {
  return make_error(ErrorKind::bad_input, "invalid listen address '" + std::string(text) + "': " +
                                              why + "; e.g. :9097, 127.0.0.1:9097, [::1]:9097");
}

// One attempt on one address; errno is kept for the caller's message.
Result<Listener> bind_one(const sockaddr* sa, socklen_t len, int* err = nullptr) {
  UniqueFd fd(::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    if (err) *err = errno;
    return make_error(ErrorKind::io, std::strerror(errno));
  }
  int on = 1, off = 0;
  // REUSEADDR: a restarted agent must not wait for TIME_WAIT sockets of the old one.
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (sa->sa_family == AF_INET6) {
    // Only the wildcard is dual-stack; a specific IPv6 address is IPv6 only anyway.
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    bool any = std::memcmp(&in6->sin6_addr, &in6addr_any, sizeof in6addr_any) == 0;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, any ? &off : &on, sizeof on);
  }
  if (::bind(fd.get(), sa, len) != 0 || ::listen(fd.get(), SOMAXCONN) != 0) {
    if (err) *err = errno;
    return make_error(ErrorKind::refused, std::strerror(errno));
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &blen) != 0)
    return make_error(ErrorKind::io, std::strerror(errno));
  std::uint16_t port = bound.ss_family == AF_INET6
                           ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                           : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return Listener{std::move(fd), port};
}

Result<Listener> bind_any(std::uint16_t port) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_addr = in6addr_any;
  in6.sin6_port = htons(port);
  int err = 0;
  auto l = bind_one(reinterpret_cast<sockaddr*>(&in6), sizeof in6, &err);
  if (l || (err != EAFNOSUPPORT && err != EADDRNOTAVAIL)) return l;
  // No IPv6 on this host (module absent or disabled): IPv4 only.
  sockaddr_in in4{};
  in4.sin_family = AF_INET;
  in4.sin_addr.s_addr = htonl(INADDR_ANY);
  in4.sin_port = htons(port);
  return bind_one(reinterpret_cast<sockaddr*>(&in4), sizeof in4);
}

struct FreeAddrinfo {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};

// A name: resolved, IPv4 first (as Go's net.Listen does for "localhost"), first bind wins.
Result<Listener> bind_name(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &raw); rc != 0)
    return make_error(ErrorKind::refused, std::string("cannot resolve: ") + gai_strerror(rc));
  std::unique_ptr<addrinfo, FreeAddrinfo> list(raw);
  std::vector<const addrinfo*> order;
  for (const addrinfo* ai = raw; ai; ai = ai->ai_next) order.push_back(ai);
  std::stable_partition(order.begin(), order.end(),
                        [](const addrinfo* ai) { return ai->ai_family == AF_INET; });
  Error last = make_error(ErrorKind::refused, "no address");
  for (const addrinfo* ai : order) {
    auto l = bind_one(ai->ai_addr, ai->ai_addrlen);
    if (l) return l;
    last = l.error();
  }
  return last;
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad_address(text, "missing ']'");
    out.host = std::string(text.substr(1, close - 1));
    in6_addr tmp{};
    if (inet_pton(AF_INET6, out.host.c_str(), &tmp) != 1)
      return bad_address(text, "'" + out.host + "' is not an IPv6 address");
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return bad_address(text, "missing ':PORT'");
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad_address(text, "missing ':PORT'");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos)
      return bad_address(text, "an IPv6 address needs brackets");
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535)
    return bad_address(text, "'" + std::string(port_text) + "' is not a port (0-65535)");
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

Result<Listener> open_listener(const ListenAddress& address, std::string_view text) {
  Result<Listener> l = make_error(ErrorKind::refused, "");
  in_addr a4{};
  in6_addr a6{};
  if (address.host.empty()) {
    l = bind_any(address.port);
  } else if (inet_pton(AF_INET, address.host.c_str(), &a4) == 1) {
    sockaddr_in in4{};
    in4.sin_family = AF_INET;
    in4.sin_addr = a4;
    in4.sin_port = htons(address.port);
    l = bind_one(reinterpret_cast<sockaddr*>(&in4), sizeof in4);
  } else if (inet_pton(AF_INET6, address.host.c_str(), &a6) == 1) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_addr = a6;
    in6.sin6_port = htons(address.port);
    l = bind_one(reinterpret_cast<sockaddr*>(&in6), sizeof in6);
  } else {
    l = bind_name(address.host, address.port);
  }
  if (!l)
    return make_error(l.error().kind,
                      "cannot listen on " + std::string(text) + ": " + l.error().message);
  return l;
}

}  // namespace portman::agent
