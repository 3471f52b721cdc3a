// The netns collector on the fixture tree tests/fixtures/procfs_netns (see its README.md).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "collectors/netns.hpp"

using namespace portman;

namespace {

const std::string kRoot = std::string(PORTMAN_FIXTURES_DIR) + "/procfs_netns";
const std::string kA = "3f1c9a2b7d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd";
const std::string kB = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807f6e5d4c3b2a1908f7e6d5c4b";

const ListeningSocket* find(const LiveState& s, std::uint16_t port, Protocol p, Family f) {
  auto it = std::find_if(s.sockets.begin(), s.sockets.end(), [&](const ListeningSocket& x) {
    return x.port == port && x.protocol == p && x.family == f;
  });
  return it == s.sockets.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("netns: listeners of containers' own namespaces, one process read per namespace") {
  LiveState state;
  REQUIRE(collect_netns_sockets(kRoot, ScanScope{}, state).ok());
  CHECK(state.sockets.size() == 5);  // 80, 6379, 5353/udp of A; 5432 twice of B

  const ListeningSocket* web = find(state, 80, Protocol::tcp, Family::ipv4);
  REQUIRE(web);
  CHECK(web->address == "0.0.0.0");
  CHECK(web->netns == "net:[4026532100]");
  CHECK(web->inode == 5001);
  REQUIRE(web->workload);
  CHECK(web->workload->kind == "container");
  CHECK(web->workload->id == kA);
  CHECK(web->workload->name == kA.substr(0, 12));  // until Docker names it
  CHECK(web->workload->via.empty());

  const ListeningSocket* redis = find(state, 6379, Protocol::tcp, Family::ipv4);
  REQUIRE(redis);
  CHECK(redis->address == "127.0.0.1");
  const ListeningSocket* mdns = find(state, 5353, Protocol::udp, Family::ipv4);
  REQUIRE(mdns);
  CHECK(mdns->workload->id == kA);

  const ListeningSocket* pg6 = find(state, 5432, Protocol::tcp, Family::ipv6);
  REQUIRE(pg6);
  CHECK(pg6->netns == "net:[4026532300]");
  CHECK(pg6->workload->id == kB);  // systemd cgroup driver: docker-<id>.scope
  CHECK(find(state, 5432, Protocol::tcp, Family::ipv4));

  CHECK_FALSE(find(state, 9999, Protocol::tcp, Family::ipv4));  // 501: same namespace as 500
  CHECK_FALSE(find(state, 22, Protocol::tcp, Family::ipv4));    // no container / scanned one
}

TEST_CASE("netns: check PORT reads only that port") {
  LiveState state;
  ScanScope scope;
  scope.only = PortKey{5432, Protocol::tcp};
  REQUIRE(collect_netns_sockets(kRoot, scope, state).ok());
  REQUIRE(state.sockets.size() == 2);
  for (const ListeningSocket& s : state.sockets) CHECK(s.port == 5432);
}

TEST_CASE("netns: a namespace already scanned is not read again") {
  LiveState state;
  ListeningSocket known;
  known.netns = "net:[4026532300]";  // as if the scan had run inside B's namespace
  known.port = 1;
  state.sockets.push_back(known);
  REQUIRE(collect_netns_sockets(kRoot, ScanScope{}, state).ok());
  CHECK_FALSE(find(state, 5432, Protocol::tcp, Family::ipv4));
  CHECK(find(state, 80, Protocol::tcp, Family::ipv4));
}

TEST_CASE("netns: a missing procfs is an error that names it") {
  LiveState state;
  auto st = collect_netns_sockets("/nonexistent/proc", ScanScope{}, state);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("/nonexistent/proc") != std::string::npos);
}
