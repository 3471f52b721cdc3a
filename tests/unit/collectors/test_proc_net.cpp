// /proc/net/{tcp,tcp6,udp,udp6}: the parser on fixture files, and the collector on a fixture tree.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include "unit/support.hpp"

#include "collectors/proc_net.hpp"
#include "collectors/sockets.hpp"
#include "libportman/unique_fd.hpp"

using namespace portman;

namespace {

const std::string kFixtures = PORTMAN_FIXTURES_DIR;

using test::slurp;

std::vector<ListeningSocket> parse_ok(const std::string& file, Protocol proto, Family family) {
  std::vector<ListeningSocket> out;
  const Status st = parse_proc_net(slurp(kFixtures + "/proc_net/" + file), proto, family, out);
  INFO((st.ok() ? std::string() : st.error().message));
  REQUIRE(st.ok());
  return out;
}

void check_socket(const ListeningSocket& s, Protocol proto, Family family, const char* address,
                  std::uint16_t port, uid_t uid, std::uint64_t inode) {
  CHECK(s.protocol == proto);
  CHECK(s.family == family);
  CHECK(s.address == address);
  CHECK(s.port == port);
  CHECK(s.uid == uid);
  CHECK(s.inode == inode);
  CHECK_FALSE(s.v6only);  // not visible in /proc/net
}

}  // namespace

TEST_CASE("proc_net: tcp fixture yields only the LISTEN rows") {
  const auto s = parse_ok("tcp", Protocol::tcp, Family::ipv4);
  REQUIRE(s.size() == 3);  // ESTABLISHED and TIME_WAIT rows are not listeners
  check_socket(s[0], Protocol::tcp, Family::ipv4, "0.0.0.0", 22, 0, 21001);
  check_socket(s[1], Protocol::tcp, Family::ipv4, "127.0.0.1", 5432, 105, 21002);
  check_socket(s[2], Protocol::tcp, Family::ipv4, "10.0.0.5", 8080, 1000, 21003);
  CHECK(s[0].wildcard());
}

TEST_CASE("proc_net: tcp6 fixture decodes ::, ::1 and IPv4-mapped addresses") {
  const auto s = parse_ok("tcp6", Protocol::tcp, Family::ipv6);
  REQUIRE(s.size() == 3);
  check_socket(s[0], Protocol::tcp, Family::ipv6, "::", 80, 33, 22001);
  check_socket(s[1], Protocol::tcp, Family::ipv6, "::1", 631, 0, 22002);
  check_socket(s[2], Protocol::tcp, Family::ipv6, "::ffff:127.0.0.1", 9090, 1000, 22003);
}

TEST_CASE("proc_net: udp fixture keeps unconnected sockets bound to a port") {
  const auto s = parse_ok("udp", Protocol::udp, Family::ipv4);
  REQUIRE(s.size() == 2);  // the connected one and the one on port 0 are left out
  check_socket(s[0], Protocol::udp, Family::ipv4, "0.0.0.0", 68, 0, 23001);
  check_socket(s[1], Protocol::udp, Family::ipv4, "127.0.0.53", 53, 101, 23002);
}

TEST_CASE("proc_net: udp6 fixture") {
  const auto s = parse_ok("udp6", Protocol::udp, Family::ipv6);
  REQUIRE(s.size() == 3);
  check_socket(s[0], Protocol::udp, Family::ipv6, "::", 5353, 107, 24001);
  check_socket(s[1], Protocol::udp, Family::ipv6, "::1", 323, 0, 24002);
  check_socket(s[2], Protocol::udp, Family::ipv6, "::ffff:10.0.0.5", 161, 0, 24003);
}

TEST_CASE("proc_net: a malformed line is invalid_data naming its line number") {
  std::vector<ListeningSocket> out;
  const Status st = parse_proc_net(slurp(kFixtures + "/proc_net/tcp_malformed"), Protocol::tcp,
                                   Family::ipv4, out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().kind == ErrorKind::invalid_data);
  CHECK(st.error().message.find("line 3") != std::string::npos);
  REQUIRE(out.size() == 1);  // line 2 was fine
  CHECK(out[0].port == 22);
}

TEST_CASE("proc_net: an IPv6 file read as IPv4 is an error on its first row") {
  std::vector<ListeningSocket> out;
  const Status st =
      parse_proc_net(slurp(kFixtures + "/proc_net/tcp6"), Protocol::tcp, Family::ipv4, out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("line 2") != std::string::npos);
  CHECK(out.empty());
}

TEST_CASE("proc_net: broken rows are errors, empty input and a lone header are not") {
  const std::string ok_row =
      "   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 777 1";
  auto run = [](const std::string& text, std::vector<ListeningSocket>& out) {
    return parse_proc_net(text, Protocol::tcp, Family::ipv4, out);
  };
  std::vector<ListeningSocket> out;

  SECTION("a good row without a trailing newline, with CRLF") {
    REQUIRE(run(ok_row, out).ok());
    REQUIRE(run(ok_row + "\r\n\n   \n", out).ok());
    REQUIRE(out.size() == 2);
    CHECK(out[0].address == "127.0.0.1");
    CHECK(out[0].port == 3306);
    CHECK(out[0].uid == 1000);
    CHECK(out[0].inode == 777);
  }
  SECTION("empty text and a lone header") {
    CHECK(run("", out).ok());
    CHECK(run("  sl  local_address rem_address   st tx_queue\n", out).ok());
    CHECK(out.empty());
  }
  SECTION("malformed rows") {
    const std::vector<std::string> bad = {
        "   0: 0100007F:0CEA 00000000:0000 0A",                                     // short
        "   0 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 1",                      // no ':'
        "   0: 0100007F0CEA 00000000:0000 0A 0:0 0:0 0 0 0 1",                      // no port
        "   0: 0100007F:CEA 00000000:0000 0A 0:0 0:0 0 0 0 1",                      // short port
        "   0: 100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 1",                      // short addr
        "   0: 0100007F:0CEA 00000000:0000 ZZ 0:0 0:0 0 0 0 1",                     // state
        "   0: 0100007F:0CEA 00000000:0000 1FF 0:0 0:0 0 0 0 1",                    // state
        "   0: 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 -1 0 1",                    // uid
        "   0: 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 99999999999 0 1",           // uid
        "   0: 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 +1",                    // inode
        "   0: 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 12x",                   // inode
        "   0: +100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 1",                     // sign
        "   0: 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 99999999999999999999",  // inode
    };
    for (const std::string& row : bad) {
      INFO(row);
      const Status st = run("  sl  local_address rem_address   st\n" + row + "\n", out);
      REQUIRE_FALSE(st.ok());
      CHECK(st.error().kind == ErrorKind::invalid_data);
      CHECK(st.error().message.find("line 2") != std::string::npos);
    }
    CHECK(out.empty());
  }
}

TEST_CASE("proc_net: every prefix of a fixture parses or fails cleanly") {
  const std::string text = slurp(kFixtures + "/proc_net/udp6");
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    std::vector<ListeningSocket> out;
    const Status st =
        parse_proc_net(std::string_view(text).substr(0, cut), Protocol::udp, Family::ipv6, out);
    if (!st.ok()) CHECK(st.error().kind == ErrorKind::invalid_data);
    CHECK(out.size() <= 3);
  }
}

// ---- the collector on a fixture tree ----

namespace {

Status collect(const std::string& tree, const std::string& source, const ScanScope& scope,
               LiveState& state) {
  CollectorOptions options;
  options.procfs = kFixtures + "/" + tree;
  options.socket_source = source;
  return make_sockets_collector(options)->collect(scope, state);
}

}  // namespace

TEST_CASE("sockets collector (procfs fixture): reads all four tables and the netns") {
  LiveState state;
  const Status st = collect("procfs_sockets", "auto", ScanScope{}, state);
  INFO((st.ok() ? std::string() : st.error().message));
  REQUIRE(st.ok());
  CHECK(state.socket_source == "procfs");  // a fixture tree: never netlink
  REQUIRE(state.sockets.size() == 6);
  const auto& s = state.sockets;
  check_socket(s[0], Protocol::tcp, Family::ipv4, "0.0.0.0", 22, 0, 31001);
  check_socket(s[1], Protocol::tcp, Family::ipv4, "127.0.0.1", 6379, 110, 31002);
  check_socket(s[2], Protocol::tcp, Family::ipv6, "::", 22, 0, 31004);
  check_socket(s[3], Protocol::tcp, Family::ipv6, "::ffff:127.0.0.1", 8080, 1000, 31005);
  check_socket(s[4], Protocol::udp, Family::ipv4, "127.0.0.53", 53, 101, 31006);
  check_socket(s[5], Protocol::udp, Family::ipv6, "::", 6379, 110, 31008);
  for (const ListeningSocket& sock : s) CHECK(sock.netns == "net:[4026531999]");
}

TEST_CASE("sockets collector (procfs fixture): a scope keeps one port and protocol") {
  LiveState state;
  ScanScope scope;
  scope.only = PortKey{22, Protocol::tcp};
  REQUIRE(collect("procfs_sockets", "procfs", scope, state).ok());
  REQUIRE(state.sockets.size() == 2);
  CHECK(state.sockets[0].address == "0.0.0.0");
  CHECK(state.sockets[1].address == "::");

  LiveState udp;
  scope.only = PortKey{6379, Protocol::udp};
  REQUIRE(collect("procfs_sockets", "procfs", scope, udp).ok());
  REQUIRE(udp.sockets.size() == 1);  // the tcp 6379 is not it
  CHECK(udp.sockets[0].protocol == Protocol::udp);
  CHECK(udp.sockets[0].inode == 31008);
}

TEST_CASE("sockets collector (procfs fixture): missing tcp6/udp6 is not an error") {
  LiveState state;
  state.sockets.emplace_back().port = 1;  // what was there before is kept
  const Status st = collect("procfs_sockets_noipv6", "auto", ScanScope{}, state);
  REQUIRE(st.ok());
  CHECK(state.socket_source == "procfs");
  REQUIRE(state.sockets.size() == 4);
  CHECK(state.sockets[0].port == 1);
  CHECK(state.sockets[1].port == 22);
  CHECK(state.sockets[2].port == 6379);
  CHECK(state.sockets[3].port == 53);
  CHECK(state.sockets[3].netns.empty());  // no self/ns/net in that tree
}

TEST_CASE("sockets collector: a missing procfs tree is an io error") {
  LiveState state;
  const Status st = collect("no_such_tree", "procfs", ScanScope{}, state);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().kind == ErrorKind::io);
  CHECK(st.error().message.find("no_such_tree/net/tcp") != std::string::npos);
  CHECK(state.sockets.empty());
  CHECK(state.socket_source.empty());
}

TEST_CASE("sockets collector: an unknown socket source is bad_input") {
  LiveState state;
  const Status st = collect("procfs_sockets", "carrier-pigeon", ScanScope{}, state);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().kind == ErrorKind::bad_input);
}

TEST_CASE("sockets collector (live procfs): finds a listener of this process in /proc") {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
  REQUIRE(::listen(fd.get(), 1) == 0);
  socklen_t len = sizeof sin;
  REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sin), &len) == 0);
  struct stat st {};
  REQUIRE(::fstat(fd.get(), &st) == 0);

  CollectorOptions options;
  options.socket_source = "procfs";
  LiveState state;
  ScanScope scope;
  scope.only = PortKey{ntohs(sin.sin_port), Protocol::tcp};
  REQUIRE(make_sockets_collector(options)->collect(scope, state).ok());
  CHECK(state.socket_source == "procfs");
  const ListeningSocket* mine = nullptr;
  for (const ListeningSocket& s : state.sockets) {
    CHECK(s.port == ntohs(sin.sin_port));
    if (s.inode == st.st_ino) mine = &s;
  }
  REQUIRE(mine != nullptr);
  CHECK(mine->address == "127.0.0.1");
  CHECK(mine->uid == ::geteuid());
  CHECK_FALSE(mine->netns.empty());
}
