// What a scan's LiveState answers about itself.
#include <catch2/catch.hpp>

#include <vector>

#include "libportman/live_state.hpp"
#include "unit/support.hpp"

using namespace portman;
using namespace portman::test;

TEST_CASE("listening ports: sorted, each once, whatever the order of the sockets") {
  LiveState live;
  live.netns = "net:[1]";
  live.sockets = {sock("::", 8080, {}, 1),      sock("0.0.0.0", 53, {}, 2, Protocol::udp),
                  sock("0.0.0.0", 8080, {}, 3), sock("127.0.0.1", 22, {}, 4),
                  sock("0.0.0.0", 53, {}, 5),   sock("0.0.0.0", 9000, {}, 6)};
  live.sockets[5].netns = "net:[2]";  // a container's socket (the netns collector)
  CHECK(live.listening_ports() == std::vector<PortKey>{{22, Protocol::tcp},
                                                       {53, Protocol::tcp},
                                                       {53, Protocol::udp},
                                                       {8080, Protocol::tcp},
                                                       {9000, Protocol::tcp}});
  // Only this namespace's: port 9000 listens in another one.
  CHECK(live.listening_ports(true) ==
        std::vector<PortKey>{
            {22, Protocol::tcp}, {53, Protocol::tcp}, {53, Protocol::udp}, {8080, Protocol::tcp}});
  CHECK(LiveState{}.listening_ports().empty());
}
