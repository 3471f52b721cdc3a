// Which ports can be handed out: the states of a range and the lowest free ports.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "libportman/allocation.hpp"
#include "unit/support.hpp"

using namespace portman;
using namespace portman::test;
using namespace std::chrono_literals;

namespace {

const auto kNow = std::chrono::system_clock::from_time_t(1772625600);  // 2026-03-04T12:00:00Z

std::string released(std::chrono::system_clock::duration ago) {
  return local_timestamp(kNow - ago);
}

// web (3000-3099) in one registry and host, for tcp:
//   3000 reserved · 3001 registered · 3002 listening on 0.0.0.0 · 3003 udp only listening
//   3004 listening on ::1 · 3005 registered for udp only · 3010 released a day ago
//   3011 released a month ago · 3012 released a day ago for udp · 3020-3021 ignored
struct Fixture {
  Config config = default_config();
  Registry reg;
  LiveState live;

  Fixture() {
    config.ignore.ports.push_back(*parse_port_range("3020-3021"));
    const std::string doc = R"({
      "allocations": {
        "3001": {"service": "web", "status": "active"},
        "3005/udp": {"service": "stats", "status": "active"}
      },
      "archive": [
        {"port": 3010, "service": "old", "released_at": ")" +
                            released(24h) + R"("},
        {"port": 3011, "service": "older", "released_at": ")" +
                            released(24h * 30) + R"("},
        {"port": 3012, "protocol": "udp", "service": "udp-old", "released_at": ")" +
                            released(24h) + R"("},
        {"port": 3013, "service": "no-date"}
      ]})";
    auto r = Registry::parse(doc, "alloc.json");
    if (!r) FAIL(r.error().message);
    reg = std::move(r).value();
    live.sockets = {sock("0.0.0.0", 3002, {owner(10, "node")}, 1),
                    sock("0.0.0.0", 3003, {owner(11, "statsd")}, 2, Protocol::udp),
                    sock("::1", 3004, {owner(12, "node")}, 3)};
  }
};

}  // namespace

TEST_CASE("PortPlanner tells allocated, unregistered, unavailable and free ports apart",
          "[allocation]") {
  Fixture fx;
  PortPlanner plan(fx.config, fx.reg, fx.live, kNow);
  auto tcp = [&](std::uint16_t p) { return plan.state({p, Protocol::tcp}); };
  CHECK(tcp(3000) == PortState::unavailable);  // reserved
  CHECK(tcp(3001) == PortState::allocated);
  CHECK(tcp(3002) == PortState::unregistered);
  CHECK(tcp(3003) == PortState::free);          // only udp listens there
  CHECK(tcp(3004) == PortState::unregistered);  // any address counts, ::1 too
  CHECK(tcp(3005) == PortState::free);          // registered for udp only
  CHECK(tcp(3010) == PortState::unavailable);   // in quarantine
  CHECK(tcp(3011) == PortState::free);          // quarantine over
  CHECK(tcp(3012) == PortState::free);          // the udp port is in quarantine, not tcp
  CHECK(tcp(3013) == PortState::free);          // no released_at: no quarantine
  CHECK(tcp(3020) == PortState::unavailable);   // ignored
  CHECK(tcp(3021) == PortState::unavailable);
  CHECK(tcp(3022) == PortState::free);

  auto udp = [&](std::uint16_t p) { return plan.state({p, Protocol::udp}); };
  CHECK(udp(3003) == PortState::unregistered);
  CHECK(udp(3005) == PortState::allocated);
  CHECK(udp(3012) == PortState::unavailable);
  CHECK(udp(3001) == PortState::free);
}

TEST_CASE("unavailable_reason says why a port cannot be handed out", "[allocation]") {
  Fixture fx;
  PortPlanner plan(fx.config, fx.reg, fx.live, kNow);
  CHECK(plan.unavailable_reason({3000, Protocol::tcp}) == "reserved in the config");
  CHECK(plan.unavailable_reason({3020, Protocol::tcp}) == "ignored in the config");
  CHECK(plan.unavailable_reason({3010, Protocol::tcp}) ==
        "released recently, in quarantine until " + local_timestamp(kNow + 24h * 6).substr(0, 19));
  CHECK(plan.unavailable_reason({3011, Protocol::tcp}).empty());
  CHECK(plan.unavailable_reason({3022, Protocol::tcp}).empty());
}

TEST_CASE("a registered port stays allocated even when reserved or listening", "[allocation]") {
  Fixture fx;
  fx.config.reserved.push_back(3001);
  fx.live.sockets.push_back(sock("0.0.0.0", 3001, {owner(20, "node")}, 9));
  PortPlanner plan(fx.config, fx.reg, fx.live, kNow);
  CHECK(plan.state({3001, Protocol::tcp}) == PortState::allocated);
}

TEST_CASE("a shorter quarantine frees a recently released port", "[allocation]") {
  Fixture fx;
  fx.config.quarantine = 12h;
  PortPlanner plan(fx.config, fx.reg, fx.live, kNow);
  CHECK(plan.state({3010, Protocol::tcp}) == PortState::free);
  fx.config.quarantine = 0ms;
  PortPlanner none(fx.config, fx.reg, fx.live, kNow);
  CHECK(none.state({3012, Protocol::udp}) == PortState::free);
}

TEST_CASE("free_ports gives the lowest free ports first, per protocol", "[allocation]") {
  Fixture fx;
  PortPlanner plan(fx.config, fx.reg, fx.live, kNow);
  const PortRange web = fx.config.find_type("web")->range;
  CHECK(plan.free_ports(web, Protocol::tcp, 5) ==
        std::vector<std::uint16_t>{3003, 3005, 3006, 3007, 3008});
  CHECK(plan.free_ports(web, Protocol::udp, 5) ==
        std::vector<std::uint16_t>{3001, 3002, 3004, 3006, 3007});
  CHECK(plan.free_ports(web, Protocol::tcp, 1) == std::vector<std::uint16_t>{3003});
  CHECK(plan.free_ports(web, Protocol::tcp, 0).empty());
  // Asking for more than there are gives all of them, in order.
  auto all = plan.free_ports(web, Protocol::tcp, 1000);
  CHECK(all.size() == 93);
  CHECK(std::is_sorted(all.begin(), all.end()));
  CHECK(all.back() == 3099);
  // A range with nothing free.
  CHECK(plan.free_ports(*parse_port_range("3000-3002"), Protocol::tcp, 5).empty());
}

TEST_CASE("the four states of a range add up to its size", "[allocation]") {
  Fixture fx;
  PortPlanner plan(fx.config, fx.reg, fx.live, kNow);
  const PortRange web = fx.config.find_type("web")->range;
  std::map<PortState, int> count;
  for (int p = web.first; p <= web.last; ++p)
    ++count[plan.state({static_cast<std::uint16_t>(p), Protocol::tcp})];
  CHECK(count[PortState::allocated] == 1);     // 3001
  CHECK(count[PortState::unregistered] == 2);  // 3002, 3004
  CHECK(count[PortState::unavailable] == 4);   // 3000, 3010, 3020, 3021
  CHECK(count[PortState::free] == 93);
  CHECK(count[PortState::allocated] + count[PortState::unregistered] +
            count[PortState::unavailable] + count[PortState::free] ==
        web.size());
  CHECK(static_cast<int>(plan.free_ports(web, Protocol::tcp, 1000).size()) ==
        count[PortState::free]);
}

TEST_CASE("port states have their names", "[allocation]") {
  CHECK(to_string(PortState::allocated) == "allocated");
  CHECK(to_string(PortState::unregistered) == "unregistered");
  CHECK(to_string(PortState::unavailable) == "unavailable");
  CHECK(to_string(PortState::free) == "free");
}
