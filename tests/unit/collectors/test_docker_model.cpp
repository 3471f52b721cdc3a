// The Engine API parsers on responses recorded from a real dockerd (20.10, API 1.41): bridge
// containers published through docker-proxy, a --network host one, a created (never started)
// one, and two Swarm services, one in host publish mode and one in ingress mode (recorded too:
// the API reports it even where the kernel lacks IPVS and nothing listens).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "collectors/docker_model.hpp"
#include "unit/support.hpp"

using namespace portman;
using portman::test::slurp;

namespace {

std::string fixture(const std::string& name) {
  return slurp(std::string(PORTMAN_FIXTURES_DIR) + "/docker/" + name);
}

const DockerContainer& named(const std::vector<DockerContainer>& list, const std::string& name) {
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const DockerContainer& c) { return c.name == name; });
  REQUIRE(it != list.end());
  return *it;
}

}  // namespace

TEST_CASE("docker: containers/json lists running and stopped containers with their ports") {
  auto list = parse_containers(fixture("containers.json"));
  REQUIRE(list.ok());
  REQUIRE(list->size() == 5);

  const DockerContainer& web = named(*list, "web");
  CHECK(web.id == "008d11e9a3d2f0c863a0ba5579d76570c13729dfc4a2ee414dd96a2086e2b4bb");
  CHECK(web.image == "tiny:local");
  CHECK(web.state == "running");
  CHECK(web.network_mode == "default");
  REQUIRE(web.ports.size() == 1);
  CHECK(web.ports[0].ip == "127.0.0.1");
  CHECK(web.ports[0].private_port == 80);
  CHECK(web.ports[0].public_port == 18080);
  CHECK(web.ports[0].protocol == Protocol::tcp);
  CHECK(web.addresses == std::vector<std::string>{"172.17.0.2"});
  CHECK(web.compose_project == "shop");
  CHECK(web.compose_service == "front");
  CHECK(web.swarm_service_name.empty());

  const DockerContainer& host = named(*list, "hostnet");
  CHECK(host.network_mode == "host");
  CHECK(host.ports.empty());
  CHECK(host.addresses.empty());

  // Listed although it never ran: it publishes nothing until it starts.
  const DockerContainer& stopped = named(*list, "stopped");
  CHECK(stopped.state == "created");
  CHECK(stopped.ports.empty());

  const DockerContainer& task = named(*list, "svc.1.uuabiq4pya46x1in6n52i5cui");
  CHECK(task.swarm_service_name == "svc");
  CHECK(task.swarm_service_id == "519t2o5wdt9ys6ncf6kbohucp");
  REQUIRE(task.ports.size() == 2);  // one per address family
  CHECK(task.ports[0].ip == "0.0.0.0");
  CHECK(task.ports[1].ip == "::");
  CHECK(task.ports[1].public_port == 18083);
}

TEST_CASE("docker: info tells whether this node is in a Swarm") {
  auto active = parse_swarm_active(fixture("info_swarm_active.json"));
  REQUIRE(active.ok());
  CHECK(*active);
  auto inactive = parse_swarm_active(fixture("info.json"));
  REQUIRE(inactive.ok());
  CHECK_FALSE(*inactive);
  auto bare = parse_swarm_active("{\"ServerVersion\": \"20.10.24\"}");  // no Swarm at all
  REQUIRE(bare.ok());
  CHECK_FALSE(*bare);
}

TEST_CASE("docker: services lists published ports in host and ingress mode") {
  auto services = parse_services(fixture("services.json"));
  REQUIRE(services.ok());
  REQUIRE(services->size() == 2);
  const SwarmService& host = (*services)[0];
  CHECK(host.name == "svc");
  CHECK(host.id == "519t2o5wdt9ys6ncf6kbohucp");
  CHECK(host.image == "tiny:local");
  REQUIRE(host.ports.size() == 1);
  CHECK(host.ports[0].publish_mode == "host");
  CHECK(host.ports[0].published_port == 18083);
  CHECK(host.ports[0].target_port == 80);
  const SwarmService& ingress = (*services)[1];
  CHECK(ingress.name == "ingsvc");
  REQUIRE(ingress.ports.size() == 1);
  CHECK(ingress.ports[0].publish_mode == "ingress");
  CHECK(ingress.ports[0].published_port == 18090);
  CHECK(ingress.ports[0].protocol == Protocol::tcp);
}

TEST_CASE("docker: udp and sctp ports and odd values") {
  auto list = parse_containers(R"([{"Id": "abc", "Names": ["/dns"], "Ports": [
      {"IP": "0.0.0.0", "PrivatePort": 53, "PublicPort": 5353, "Type": "udp"},
      {"PrivatePort": 9000, "Type": "tcp"},
      {"IP": "0.0.0.0", "PrivatePort": 36412, "PublicPort": 36412, "Type": "sctp"},
      {"IP": "0.0.0.0", "PrivatePort": 1, "PublicPort": 70000, "Type": "tcp"}],
      "Labels": null, "NetworkSettings": null}])");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  const DockerContainer& c = (*list)[0];
  CHECK(c.name == "dns");
  REQUIRE(c.ports.size() == 3);  // sctp left out
  CHECK(c.ports[0].protocol == Protocol::udp);
  CHECK(c.ports[0].public_port == 5353);
  CHECK(c.ports[1].public_port == 0);  // exposed, not published
  CHECK(c.ports[2].public_port == 0);  // out of range: not a host port
}

TEST_CASE("docker: answers that are not the API's are refused with one line") {
  auto html = parse_containers("<html>502 Bad Gateway</html>");
  REQUIRE_FALSE(html.ok());
  CHECK(html.error().kind == ErrorKind::invalid_data);
  CHECK(html.error().message == "Docker Engine API /containers/json: the answer is not valid JSON");
  auto object = parse_containers(R"({"message": "page not found"})");
  REQUIRE_FALSE(object.ok());
  CHECK(object.error().message ==
        "Docker Engine API /containers/json: expected an array of containers");
  CHECK_FALSE(parse_containers(R"([{"Names": ["/x"]}])").ok());  // no Id
  CHECK_FALSE(parse_containers(R"([{"Id": "abc"},)").ok());      // truncated
  CHECK_FALSE(parse_services(R"({"ID": "x"})").ok());
  CHECK_FALSE(parse_swarm_active("[]").ok());
  CHECK(parse_containers("[]").ok());
}
