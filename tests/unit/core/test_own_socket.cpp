// portman's own sockets: one rule for the CLI and the agent (libportman/own_socket.hpp).
#include <catch2/catch.hpp>

#include "libportman/findings.hpp"
#include "libportman/own_socket.hpp"
#include "unit/support.hpp"

using namespace portman;
using namespace portman::test;

namespace {

Owner named(std::string process, std::string cmdline) {
  return owner(4242, std::move(process), "/usr/bin/portman", std::move(cmdline));
}

}  // namespace

TEST_CASE("a portman agent is a process named portman running the agent command", "[own]") {
  CHECK(is_portman_agent(named("portman", "portman agent")));
  CHECK(is_portman_agent(named("portman", "/usr/bin/portman agent --web.listen-address :9097")));
  CHECK(is_portman_agent(named("portman", "portman --config /etc/portman.yml agent")));
  CHECK(is_portman_agent(named("portman", "portman  agent")));  // an empty argument between
  CHECK_FALSE(is_portman_agent(named("portman", "portman scan --json")));
  CHECK_FALSE(is_portman_agent(named("portman", "portman --registry /srv/agent list")));
  CHECK_FALSE(is_portman_agent(named("portman", "agent")));  // argv[0] is not the command
  CHECK_FALSE(is_portman_agent(named("portman", "")));
  CHECK_FALSE(is_portman_agent(named("node", "node agent")));
  CHECK_FALSE(is_portman_agent(named("portman-agent", "portman-agent agent")));
}

TEST_CASE("an agent's own socket is no finding, and carries the portman-agent service", "[own]") {
  Registry reg = registry(R"({"3000": {"service": "web", "status": "active"}})");
  LiveState live;
  live.sockets = {sock("0.0.0.0", 3000, {owner(10, "node")}, 1),
                  sock("0.0.0.0", 9097, {named("portman", "/usr/bin/portman agent")}, 2),
                  sock("0.0.0.0", 9098, {named("portman", "portman scan")}, 3)};
  auto findings = compare(reg, live, default_config());
  REQUIRE(findings.size() == 1);  // only the socket that is not the agent
  CHECK(findings[0].kind == FindingKind::unregistered);
  CHECK(findings[0].key.port == 9098);

  CHECK(service_name_of(live.sockets[0], reg) == "web");
  CHECK(service_name_of(live.sockets[1], reg) == kAgentServiceName);
  CHECK(service_name_of(live.sockets[2], reg).empty());

  // Registered, the entry speaks for it, as for any port.
  Registry named_reg = registry(R"({"9097": {"service": "exporter", "status": "active"}})");
  CHECK(service_name_of(live.sockets[1], named_reg) == "exporter");
}
