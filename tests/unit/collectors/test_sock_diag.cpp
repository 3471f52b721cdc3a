// sock_diag: the parser on hand-built netlink datagrams, then the real thing on live sockets.
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "collectors/sock_diag.hpp"
#include "collectors/sockets.hpp"
#include "libportman/unique_fd.hpp"
#include "unit/skip.hpp"

using namespace portman;

namespace {

using Bytes = std::vector<std::byte>;

constexpr std::uint8_t kEstablished = 1, kTimeWait = 6, kClose = 7, kListen = 10;

// A socket as the kernel would describe it; setters chain so each test names what matters.
struct Entry {
  int family_ = AF_INET;
  std::uint8_t state_ = kListen;
  const char* address_ = "0.0.0.0";
  std::uint16_t port_ = 0;
  std::uint32_t inode_ = 0;
  std::uint32_t uid_ = 0;
  std::optional<std::uint8_t> v6only_;  // INET_DIAG_SKV6ONLY attribute, when present

  Entry& family(int v) {
    family_ = v;
    return *this;
  }
  Entry& state(std::uint8_t v) {
    state_ = v;
    return *this;
  }
  Entry& address(const char* v) {
    address_ = v;
    return *this;
  }
  Entry& port(std::uint16_t v) {
    port_ = v;
    return *this;
  }
  Entry& inode(std::uint32_t v) {
    inode_ = v;
    return *this;
  }
  Entry& uid(std::uint32_t v) {
    uid_ = v;
    return *this;
  }
  Entry& v6only(std::uint8_t v) {
    v6only_ = v;
    return *this;
  }
};

template <class T>
void put(Bytes& out, const T& value) {
  const auto* p = reinterpret_cast<const std::byte*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

void pad(Bytes& out) {
  out.resize(NLMSG_ALIGN(out.size()));
}

void put_header(Bytes& out, std::uint16_t type, std::size_t payload_len) {
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(payload_len));
  h.nlmsg_type = type;
  h.nlmsg_flags = NLM_F_MULTI;
  h.nlmsg_seq = 1;
  put(out, h);
}

// One SOCK_DIAG_BY_FAMILY message as the kernel builds it.
Bytes entry_message(const Entry& e) {
  inet_diag_msg m{};
  m.idiag_family = static_cast<std::uint8_t>(e.family_);
  m.idiag_state = e.state_;
  m.id.idiag_sport = htons(e.port_);
  REQUIRE(inet_pton(e.family_, e.address_, m.id.idiag_src) == 1);
  m.idiag_uid = e.uid_;
  m.idiag_inode = e.inode_;
  m.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;

  Bytes attrs;
  if (e.v6only_) {
    nlattr a{};
    a.nla_len = NLA_HDRLEN + 1;
    a.nla_type = INET_DIAG_SKV6ONLY;
    put(attrs, a);
    attrs.push_back(std::byte{*e.v6only_});
    attrs.resize(NLA_ALIGN(attrs.size()));
  }
  Bytes out;
  put_header(out, SOCK_DIAG_BY_FAMILY, sizeof m + attrs.size());
  put(out, m);
  out.insert(out.end(), attrs.begin(), attrs.end());
  pad(out);
  return out;
}

Bytes done_message(int err = 0) {
  Bytes out;
  put_header(out, NLMSG_DONE, sizeof(int));
  put(out, err);
  return out;
}

Bytes error_message(int err) {
  nlmsgerr e{};
  e.error = err;
  Bytes out;
  put_header(out, NLMSG_ERROR, sizeof e);
  put(out, e);
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct Parsed {
  Status status;
  std::vector<ListeningSocket> sockets;
  SockDiagProgress progress;
};

Parsed parse(const Bytes& datagram, Protocol proto = Protocol::tcp) {
  Parsed p;
  p.status = parse_sock_diag(datagram, proto, p.sockets, p.progress);
  return p;
}

void set_u32(Bytes& b, std::size_t at, std::uint32_t v) {
  std::memcpy(b.data() + at, &v, 4);
}

}  // namespace

TEST_CASE("sock_diag: IPv4 TCP listener gives address, port, inode and uid") {
  const auto p = parse(entry_message(
      Entry().family(AF_INET).address("127.0.0.1").port(5432).inode(424242).uid(105)));
  REQUIRE(p.status.ok());
  CHECK_FALSE(p.progress.done);
  REQUIRE(p.sockets.size() == 1);
  const ListeningSocket& s = p.sockets[0];
  CHECK(s.protocol == Protocol::tcp);
  CHECK(s.family == Family::ipv4);
  CHECK(s.address == "127.0.0.1");
  CHECK(s.port == 5432);
  CHECK(s.inode == 424242);
  CHECK(s.uid == 105);
  CHECK_FALSE(s.v6only);
  CHECK(s.netns.empty());
}

TEST_CASE("sock_diag: IPv6 v6only and dual-stack listeners read INET_DIAG_SKV6ONLY") {
  const auto p = parse(concat({
      entry_message(Entry().family(AF_INET6).address("::1").port(8443).inode(7).v6only(1)),
      entry_message(Entry().family(AF_INET6).address("::").port(80).inode(8).v6only(0)),
      entry_message(Entry().family(AF_INET6).address("2001:db8::1").port(9).inode(9)),
  }));
  REQUIRE(p.status.ok());
  REQUIRE(p.sockets.size() == 3);
  CHECK(p.sockets[0].family == Family::ipv6);
  CHECK(p.sockets[0].address == "::1");
  CHECK(p.sockets[0].port == 8443);
  CHECK(p.sockets[0].v6only);
  CHECK(p.sockets[1].address == "::");
  CHECK(p.sockets[1].wildcard());
  CHECK_FALSE(p.sockets[1].v6only);
  CHECK(p.sockets[2].address == "2001:db8::1");  // no brackets, compressed
  CHECK_FALSE(p.sockets[2].v6only);              // attribute absent: not v6only
}

TEST_CASE("sock_diag: bound UDP sockets are kept, connected and unbound ones are not") {
  const auto p = parse(
      concat({
          entry_message(Entry().state(kClose).address("127.0.0.53").port(53).inode(11).uid(101)),
          entry_message(Entry().state(kEstablished).address("10.0.0.5").port(40000).inode(12)),
          entry_message(Entry().state(kClose).address("0.0.0.0").port(0).inode(13)),
          entry_message(
              Entry().family(AF_INET6).state(kClose).address("::").port(5353).inode(14).v6only(1)),
      }),
      Protocol::udp);
  REQUIRE(p.status.ok());
  REQUIRE(p.sockets.size() == 2);
  CHECK(p.sockets[0].protocol == Protocol::udp);
  CHECK(p.sockets[0].address == "127.0.0.53");
  CHECK(p.sockets[0].port == 53);
  CHECK(p.sockets[0].uid == 101);
  CHECK(p.sockets[1].protocol == Protocol::udp);
  CHECK(p.sockets[1].family == Family::ipv6);
  CHECK(p.sockets[1].port == 5353);
  CHECK(p.sockets[1].v6only);
}

TEST_CASE("sock_diag: TCP sockets not in LISTEN are skipped") {
  const auto p = parse(concat({
      entry_message(Entry().state(kEstablished).port(22).inode(1)),
      entry_message(Entry().state(kTimeWait).port(80).inode(2)),
      entry_message(Entry().state(kClose).port(81).inode(3)),
      entry_message(Entry().state(kListen).port(82).inode(4)),
  }));
  REQUIRE(p.status.ok());
  REQUIRE(p.sockets.size() == 1);
  CHECK(p.sockets[0].port == 82);
  CHECK(p.sockets[0].inode == 4);
}

TEST_CASE("sock_diag: a multi-message datagram yields every socket in order") {
  Bytes datagram;
  for (std::uint16_t i = 1; i <= 20; ++i) {
    const Bytes m = entry_message(Entry().address("10.0.0.1").port(i).inode(1000u + i));
    datagram.insert(datagram.end(), m.begin(), m.end());
  }
  std::vector<ListeningSocket> out(1);  // existing content is kept, not overwritten
  SockDiagProgress progress;
  REQUIRE(parse_sock_diag(datagram, Protocol::tcp, out, progress).ok());
  CHECK_FALSE(progress.done);
  REQUIRE(out.size() == 21);
  CHECK(out[0].port == 0);
  for (std::uint16_t i = 1; i <= 20; ++i) {
    CHECK(out[i].port == i);
    CHECK(out[i].inode == 1000u + i);
  }
}

TEST_CASE("sock_diag: NLMSG_DONE ends the dump and what follows it is ignored") {
  const auto p = parse(concat({entry_message(Entry().port(80).inode(1)), done_message(),
                               entry_message(Entry().port(81).inode(2))}));
  REQUIRE(p.status.ok());
  CHECK(p.progress.done);
  CHECK(p.progress.nl_errno == 0);
  REQUIRE(p.sockets.size() == 1);
  CHECK(p.sockets[0].port == 80);

  SECTION("a DONE alone") {
    const auto q = parse(done_message());
    REQUIRE(q.status.ok());
    CHECK(q.progress.done);
    CHECK(q.sockets.empty());
  }
  SECTION("a DONE carrying an error fails the dump") {
    const auto q = parse(done_message(-ENOBUFS));
    REQUIRE_FALSE(q.status.ok());
    CHECK(q.status.error().kind == ErrorKind::io);
    CHECK(q.progress.nl_errno == ENOBUFS);
  }
}

TEST_CASE("sock_diag: NLMSG_ERROR is an io error with the kernel's errno") {
  const auto p = parse(concat({entry_message(Entry().port(80).inode(1)), error_message(-EPERM)}));
  REQUIRE_FALSE(p.status.ok());
  CHECK(p.status.error().kind == ErrorKind::io);
  CHECK(p.status.error().message.find(std::strerror(EPERM)) != std::string::npos);
  CHECK(p.progress.nl_errno == EPERM);
  CHECK_FALSE(p.progress.done);
  CHECK(p.sockets.size() == 1);  // what came before the error is still there

  SECTION("an error of 0 is an acknowledgement") {
    const auto q = parse(concat({error_message(0), done_message()}));
    REQUIRE(q.status.ok());
    CHECK(q.progress.done);
  }
  SECTION("an NLMSG_ERROR too short to hold the error code is malformed") {
    Bytes b;
    put_header(b, NLMSG_ERROR, 2);
    b.resize(b.size() + 4);
    const auto q = parse(b);
    REQUIRE_FALSE(q.status.ok());
    CHECK(q.status.error().kind == ErrorKind::invalid_data);
  }
}

// Found by fuzz/fuzz_sock_diag: -INT_MIN overflowed (undefined behaviour) while taking the errno.
TEST_CASE("sock_diag: an errno out of the kernel's range is malformed, not negated") {
  for (const Bytes& datagram : {error_message(INT_MIN), error_message(INT_MAX),
                                done_message(INT_MIN), done_message(-4096)}) {
    const auto p = parse(datagram);
    REQUIRE_FALSE(p.status.ok());
    CHECK(p.status.error().kind == ErrorKind::invalid_data);
    CHECK(p.status.error().message.find("errno") != std::string::npos);
    CHECK(p.progress.nl_errno == 0);
  }
  SECTION("the fuzzer's input as it was found") {
    const unsigned char found[] = {0x24, 0, 0, 0, 0x02, 0, 0, 0xba, 0xf5, 0, 0, 0, 0x05, 0,    0,
                                   0,    0, 0, 0, 0x80, 0, 0, 0,    0,    0, 0, 0, 0,    0,    0,
                                   0,    0, 0, 0, 0,    0, 0, 0,    0,    0, 0, 0, 0xff, 0xff, 0xff,
                                   0xf9, 0, 0, 0, 0,    0, 0, 0,    0};
    Bytes b(sizeof found);
    std::memcpy(b.data(), found, sizeof found);
    const auto p = parse(b);
    REQUIRE_FALSE(p.status.ok());
    CHECK(p.status.error().kind == ErrorKind::invalid_data);
  }
  SECTION("the largest errno is still the kernel's") {
    const auto p = parse(error_message(-4095));
    CHECK(p.progress.nl_errno == 4095);
    CHECK(p.status.error().kind == ErrorKind::io);
  }
}

TEST_CASE("sock_diag: a truncated datagram is an error at every cut, never a crash") {
  const Bytes first =
      entry_message(Entry().family(AF_INET6).address("::1").port(443).inode(5).v6only(1));
  const Bytes full = concat({first, entry_message(Entry().port(80).inode(6))});
  const std::size_t first_len = first.size();
  for (std::size_t cut = 1; cut < full.size(); ++cut) {
    INFO("cut at " << cut);
    const Bytes part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
    const auto p = parse(part);
    if (cut == first_len) {
      CHECK(p.status.ok());  // exactly one whole message
      CHECK(p.sockets.size() == 1);
    } else {
      REQUIRE_FALSE(p.status.ok());
      CHECK(p.status.error().kind == ErrorKind::invalid_data);
    }
  }
  CHECK(parse(Bytes{}).status.ok());  // nothing at all is not malformed
}

TEST_CASE("sock_diag: bogus length fields are errors, not crashes") {
  const Bytes good =
      entry_message(Entry().family(AF_INET6).address("::").port(80).inode(1).v6only(0));
  const std::size_t attr_at = NLMSG_HDRLEN + sizeof(inet_diag_msg);

  SECTION("nlmsg_len beyond the datagram") {
    for (std::uint32_t len : {std::uint32_t(good.size() + 4), 0xFFFFFFFFu, 0x80000000u}) {
      Bytes b = good;
      set_u32(b, 0, len);
      const auto p = parse(b);
      REQUIRE_FALSE(p.status.ok());
      CHECK(p.status.error().kind == ErrorKind::invalid_data);
      CHECK(p.sockets.empty());
    }
  }
  SECTION("nlmsg_len smaller than a header") {
    for (std::uint32_t len : {0u, 1u, 15u}) {
      Bytes b = good;
      set_u32(b, 0, len);
      CHECK_FALSE(parse(b).status.ok());
    }
  }
  SECTION("nlmsg_len too small for inet_diag_msg") {
    Bytes b = good;
    set_u32(b, 0, NLMSG_HDRLEN + 8);
    const auto p = parse(b);
    REQUIRE_FALSE(p.status.ok());
    CHECK(p.status.error().message.find("inet_diag_msg") != std::string::npos);
  }
  SECTION("attribute length past the message") {
    Bytes b = good;
    const std::uint16_t bad = 200;
    std::memcpy(b.data() + attr_at, &bad, sizeof bad);
    CHECK_FALSE(parse(b).status.ok());
  }
  SECTION("attribute length of zero (would loop forever)") {
    Bytes b = good;
    const std::uint16_t zero = 0;
    std::memcpy(b.data() + attr_at, &zero, sizeof zero);
    CHECK_FALSE(parse(b).status.ok());
  }
  SECTION("unknown message type") {
    Bytes b = good;
    const std::uint16_t type = 0x1234;
    std::memcpy(b.data() + 4, &type, sizeof type);
    CHECK_FALSE(parse(b).status.ok());
  }
  SECTION("unknown address family") {
    Bytes b = good;
    b[NLMSG_HDRLEN] = std::byte{AF_UNIX};
    CHECK_FALSE(parse(b).status.ok());
  }
}

TEST_CASE("sock_diag: random corruption of a datagram never crashes") {
  const Bytes base =
      concat({entry_message(Entry().family(AF_INET6).address("::1").port(443).inode(5).v6only(1)),
              entry_message(Entry().port(80).inode(6)), done_message()});
  std::mt19937 rng(20240601);  // fixed seed: reproducible
  std::uniform_int_distribution<std::size_t> at(0, base.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  int failures = 0;
  for (int round = 0; round < 5000; ++round) {
    Bytes b = base;
    for (int k = 0; k < 3; ++k) b[at(rng)] = static_cast<std::byte>(byte(rng));
    b.resize(at(rng) + 1);
    const auto p = parse(b, round % 2 ? Protocol::udp : Protocol::tcp);
    if (!p.status.ok()) ++failures;
    CHECK(p.sockets.size() <= 2);
  }
  CHECK(failures > 0);  // corruption is noticed, not silently accepted every time
}

TEST_CASE("sock_diag: 50000 sockets in one datagram parse in linear time") {
  Bytes datagram;
  const Bytes one =
      entry_message(Entry().family(AF_INET6).address("fd00::1").port(1).inode(1).v6only(1));
  datagram.reserve(one.size() * 50000 + 32);
  for (std::uint32_t i = 0; i < 50000; ++i) {
    Bytes m = one;
    const std::uint16_t port = htons(static_cast<std::uint16_t>(i % 65535 + 1));
    std::memcpy(m.data() + NLMSG_HDRLEN + offsetof(inet_diag_msg, id), &port, sizeof port);
    set_u32(m, NLMSG_HDRLEN + offsetof(inet_diag_msg, idiag_inode), i + 1);
    datagram.insert(datagram.end(), m.begin(), m.end());
  }
  const Bytes done = done_message();
  datagram.insert(datagram.end(), done.begin(), done.end());
  const auto p = parse(datagram);
  REQUIRE(p.status.ok());
  CHECK(p.progress.done);
  REQUIRE(p.sockets.size() == 50000);
  CHECK(p.sockets.back().inode == 50000);
  CHECK(p.sockets.back().port == 50000);
}

TEST_CASE("sock_diag: the port filter is a two-comparison bytecode program") {
  const Bytes bc = sock_diag_port_filter(8080);
  REQUIRE(bc.size() == 4 * sizeof(inet_diag_bc_op));
  inet_diag_bc_op ops[4];
  std::memcpy(ops, bc.data(), bc.size());
  CHECK(ops[0].code == INET_DIAG_BC_S_GE);
  CHECK(ops[0].yes == 8);
  CHECK(ops[0].no == 20);  // one op past the end: reject
  CHECK(ops[1].no == 8080);
  CHECK(ops[2].code == INET_DIAG_BC_S_LE);
  CHECK(ops[2].yes == 8);
  CHECK(ops[2].no == 12);
  CHECK(ops[3].no == 8080);
}

// ---- live: real sockets of this process, found by the real collector ----

namespace {

struct LiveSocket {
  UniqueFd fd;
  std::uint16_t port = 0;
  std::uint64_t inode = 0;
};

// Binds (and for TCP listens) a socket on an ephemeral port of `address`; nullopt when the
// host cannot (no IPv6).
std::optional<LiveSocket> open_live(int family, int type, const char* address, int v6only) {
  LiveSocket s;
  s.fd = UniqueFd(::socket(family, type | SOCK_CLOEXEC, 0));
  if (!s.fd) return std::nullopt;
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, address, &sin->sin_addr);
    len = sizeof *sin;
  } else {
    ::setsockopt(s.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, address, &sin6->sin6_addr);
    len = sizeof *sin6;
  }
  if (::bind(s.fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return std::nullopt;
  if (type == SOCK_STREAM && ::listen(s.fd.get(), 4) != 0) return std::nullopt;
  len = sizeof ss;
  if (::getsockname(s.fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  s.port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                   : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  struct stat st {};
  if (::fstat(s.fd.get(), &st) != 0) return std::nullopt;
  s.inode = st.st_ino;
  return s;
}

const ListeningSocket* find_inode(const LiveState& state, std::uint64_t inode) {
  for (const ListeningSocket& s : state.sockets) {
    if (s.inode == inode) return &s;
  }
  return nullptr;
}

bool netlink_available() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  return static_cast<bool>(fd);
}

std::string own_netns() {
  std::error_code ec;
  auto target = std::filesystem::read_symlink("/proc/self/ns/net", ec);
  return ec ? std::string{} : target.string();
}

}  // namespace

TEST_CASE("sockets collector (live netlink): finds this process's TCP, TCP6 and UDP sockets") {
  if (!netlink_available()) {
    portman::test::skip_test("NETLINK_SOCK_DIAG unavailable here");
  }
  auto tcp4 = open_live(AF_INET, SOCK_STREAM, "127.0.0.1", 0);
  auto udp4 = open_live(AF_INET, SOCK_DGRAM, "127.0.0.1", 0);
  REQUIRE(tcp4);
  REQUIRE(udp4);
  auto tcp6_only = open_live(AF_INET6, SOCK_STREAM, "::1", 1);
  // Bound to a v4-mapped loopback address: dual-stack, yet reachable only from this host
  // (the kernel marks a socket bound to a plain IPv6 address v6only by itself).
  auto tcp6_dual = open_live(AF_INET6, SOCK_STREAM, "::ffff:127.0.0.1", 0);
  if (!tcp6_only || !tcp6_dual) WARN("no IPv6 loopback here; IPv6 part skipped");

  auto collector = make_sockets_collector({.procfs = "/proc", .socket_source = "netlink"});
  LiveState state;
  const Status st = collector->collect(ScanScope{}, state);
  INFO((st.ok() ? std::string() : st.error().message));
  REQUIRE(st.ok());
  CHECK(state.socket_source == "netlink");

  const ListeningSocket* t = find_inode(state, tcp4->inode);
  REQUIRE(t != nullptr);
  CHECK(t->protocol == Protocol::tcp);
  CHECK(t->family == Family::ipv4);
  CHECK(t->address == "127.0.0.1");
  CHECK(t->port == tcp4->port);
  CHECK(t->uid == ::geteuid());
  CHECK(t->netns == own_netns());

  const ListeningSocket* u = find_inode(state, udp4->inode);
  REQUIRE(u != nullptr);
  CHECK(u->protocol == Protocol::udp);
  CHECK(u->address == "127.0.0.1");
  CHECK(u->port == udp4->port);

  if (tcp6_only && tcp6_dual) {
    const ListeningSocket* a = find_inode(state, tcp6_only->inode);
    REQUIRE(a != nullptr);
    CHECK(a->family == Family::ipv6);
    CHECK(a->address == "::1");
    CHECK(a->port == tcp6_only->port);
    CHECK(a->v6only);
    const ListeningSocket* b = find_inode(state, tcp6_dual->inode);
    REQUIRE(b != nullptr);
    CHECK(b->family == Family::ipv6);
    CHECK(b->address == "::ffff:127.0.0.1");
    CHECK(b->port == tcp6_dual->port);
    CHECK_FALSE(b->v6only);
  }

  SECTION("auto picks netlink on the real /proc") {
    LiveState again;
    REQUIRE(make_sockets_collector({})->collect(ScanScope{}, again).ok());
    CHECK(again.socket_source == "netlink");
    CHECK(find_inode(again, tcp4->inode) != nullptr);
  }
  SECTION("a scope narrows the dump to one port and protocol") {
    LiveState one;
    ScanScope scope;
    scope.only = PortKey{udp4->port, Protocol::udp};
    REQUIRE(collector->collect(scope, one).ok());
    REQUIRE(find_inode(one, udp4->inode) != nullptr);
    CHECK(find_inode(one, tcp4->inode) == nullptr);
    for (const ListeningSocket& s : one.sockets) {
      CHECK(s.port == udp4->port);
      CHECK(s.protocol == Protocol::udp);
    }
  }
}
