// Naming the container or Swarm service behind each socket, on hand-built live state and the
// model parsed from the recorded Engine API responses.
#include <catch2/catch.hpp>

#include <string>

#include "collectors/docker_attribution.hpp"
#include "unit/support.hpp"

using namespace portman;
using portman::test::owner;
using portman::test::slurp;
using portman::test::sock;

namespace {

const std::string kWebId = "008d11e9a3d2f0c863a0ba5579d76570c13729dfc4a2ee414dd96a2086e2b4bb";
const std::string kHostnetId = "75180590ac7df890779cdb70dd6db2a7230600bd3a30c084f5cd5df972a3657e";

std::string fixture(const std::string& name) {
  return slurp(std::string(PORTMAN_FIXTURES_DIR) + "/docker/" + name);
}

DockerModel recorded() {
  DockerModel m;
  auto containers = parse_containers(fixture("containers.json"));
  REQUIRE(containers.ok());
  m.containers = *containers;
  m.swarm_active = true;
  auto services = parse_services(fixture("services.json"));
  REQUIRE(services.ok());
  m.services = *services;
  return m;
}

Owner proxy(pid_t pid, const std::string& args) {
  return owner(pid, "docker-proxy", "/usr/sbin/docker-proxy", "/usr/sbin/docker-proxy " + args);
}

Owner dockerd() {
  return owner(700, "dockerd", "/usr/sbin/dockerd", "/usr/sbin/dockerd -H fd://");
}

}  // namespace

TEST_CASE("docker: a docker-proxy command line names the container address and port") {
  auto t = parse_docker_proxy_cmdline(
      "/usr/sbin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 18080 -container-ip "
      "172.17.0.2 -container-port 80");
  REQUIRE(t);
  CHECK(t->protocol == Protocol::tcp);
  CHECK(t->host_ip == "127.0.0.1");
  CHECK(t->host_port == 18080);
  CHECK(t->container_ip == "172.17.0.2");
  CHECK(t->container_port == 80);

  auto udp = parse_docker_proxy_cmdline(
      "docker-proxy -proto udp -host-ip :: -host-port 5353 -container-ip fd00::2 "
      "-container-port 53 -use-listen-fd");
  REQUIRE(udp);
  CHECK(udp->protocol == Protocol::udp);
  CHECK(udp->container_ip == "fd00::2");

  CHECK_FALSE(parse_docker_proxy_cmdline("/usr/sbin/docker-proxy"));
  CHECK_FALSE(
      parse_docker_proxy_cmdline("docker-proxy -proto sctp -host-port 1 -container-ip "
                                 "172.17.0.2 -container-port 1"));
  CHECK_FALSE(parse_docker_proxy_cmdline(
      "docker-proxy -proto tcp -host-port 99999 -container-ip 172.17.0.2 -container-port 80"));
  CHECK_FALSE(parse_docker_proxy_cmdline("docker-proxy -proto tcp -host-port 80 -container-ip"));
}

TEST_CASE("docker: a port held by docker-proxy is the container's, with its compose labels") {
  LiveState state;
  state.sockets.push_back(sock("127.0.0.1", 18080,
                               {proxy(900,
                                      "-proto tcp -host-ip 127.0.0.1 -host-port 18080 "
                                      "-container-ip 172.17.0.2 -container-port 80")},
                               1));
  attribute_workloads(recorded(), state);
  const ListeningSocket& s = state.sockets[0];
  REQUIRE(s.workload);
  CHECK(s.workload->kind == "container");
  CHECK(s.workload->name == "web");
  CHECK(s.workload->id == kWebId);
  CHECK(s.workload->image == "tiny:local");
  CHECK(s.workload->via == "docker-proxy");
  CHECK(s.workload->compose_project == "shop");
  CHECK(s.workload->compose_service == "front");
  CHECK(s.holder() == "web");
}

TEST_CASE("docker: a proxy whose container address changed is matched by its host port") {
  LiveState state;
  state.sockets.push_back(sock("127.0.0.1", 18080,
                               {proxy(900,
                                      "-proto tcp -host-ip 127.0.0.1 -host-port 18080 "
                                      "-container-ip 172.17.0.9 -container-port 80")},
                               1));
  attribute_workloads(recorded(), state);
  REQUIRE(state.sockets[0].workload);
  CHECK(state.sockets[0].workload->name == "web");
}

TEST_CASE("docker: a task of a Swarm service in host mode is named by its service") {
  LiveState state;
  state.sockets.push_back(sock("0.0.0.0", 18083,
                               {proxy(901,
                                      "-proto tcp -host-ip 0.0.0.0 -host-port 18083 "
                                      "-container-ip 172.17.0.3 -container-port 80")},
                               1));
  state.sockets.push_back(sock("::", 18083,
                               {proxy(902,
                                      "-proto tcp -host-ip :: -host-port 18083 "
                                      "-container-ip 172.17.0.3 -container-port 80")},
                               2));
  attribute_workloads(recorded(), state);
  for (const ListeningSocket& s : state.sockets) {
    REQUIRE(s.workload);
    CHECK(s.workload->kind == "service");
    CHECK(s.workload->name == "svc");
    CHECK(s.workload->id == "519t2o5wdt9ys6ncf6kbohucp");
    CHECK(s.workload->via == "docker-proxy");
  }
}

TEST_CASE("docker: with the userland proxy off dockerd holds the port of the container") {
  LiveState state;
  state.sockets.push_back(sock("127.0.0.1", 18080, {dockerd()}, 1));
  state.sockets.push_back(sock("0.0.0.0", 18083, {dockerd()}, 2));
  state.sockets.push_back(sock("127.0.0.1", 2377, {dockerd()}, 3));  // Swarm's own port
  attribute_workloads(recorded(), state);
  REQUIRE(state.sockets[0].workload);
  CHECK(state.sockets[0].workload->name == "web");
  CHECK(state.sockets[0].workload->via == "dockerd");
  REQUIRE(state.sockets[1].workload);
  CHECK(state.sockets[1].workload->name == "svc");
  CHECK(state.sockets[1].workload->kind == "service");
  CHECK_FALSE(state.sockets[2].workload);
  CHECK(state.sockets[2].holder() == "dockerd");
}

TEST_CASE("docker: dockerd holding an ingress port is the Swarm service that publishes it") {
  LiveState state;
  state.sockets.push_back(sock("::", 18090, {dockerd()}, 1));
  attribute_workloads(recorded(), state);
  REQUIRE(state.sockets[0].workload);
  CHECK(state.sockets[0].workload->kind == "service");
  CHECK(state.sockets[0].workload->name == "ingsvc");
  CHECK(state.sockets[0].workload->id == "t5dh6vafcgp6yg4b8ssf6fccq");
  CHECK(state.sockets[0].workload->image == "tiny:local");
  CHECK(state.sockets[0].workload->via == "dockerd");
}

TEST_CASE("docker: a --network host container is found by the cgroup of its process") {
  LiveState state;
  Owner httpd = owner(950, "httpd", "/bin/busybox", "/bin/httpd -f -p 127.0.0.1:18081");
  httpd.container = kHostnetId;
  state.sockets.push_back(sock("127.0.0.1", 18081, {httpd}, 1));
  Owner stranger = owner(951, "httpd");
  stranger.container = std::string(64, 'f');  // a container Docker does not list (podman's)
  state.sockets.push_back(sock("127.0.0.1", 18082, {stranger}, 2));
  attribute_workloads(recorded(), state);
  REQUIRE(state.sockets[0].workload);
  CHECK(state.sockets[0].workload->name == "hostnet");
  CHECK(state.sockets[0].workload->kind == "container");
  CHECK(state.sockets[0].workload->via.empty());
  CHECK_FALSE(state.sockets[1].workload);
  CHECK(state.sockets[1].holder() == "httpd");
}

TEST_CASE("docker: a socket from a container's namespace gets the container's name") {
  LiveState state;
  ListeningSocket s = sock("0.0.0.0", 80, {}, 1);
  s.workload = std::make_shared<const Workload>(
      Workload{"container", kWebId.substr(0, 12), kWebId, {}, {}, {}, {}});
  state.sockets.push_back(s);
  ListeningSocket gone = sock("0.0.0.0", 81, {}, 2);
  gone.workload = std::make_shared<const Workload>(
      Workload{"container", "0123456789ab", std::string(64, '0'), {}, {}, {}, {}});
  state.sockets.push_back(gone);
  attribute_workloads(recorded(), state);
  REQUIRE(state.sockets[0].workload);
  CHECK(state.sockets[0].workload->name == "web");
  CHECK(state.sockets[0].workload->image == "tiny:local");
  REQUIRE(state.sockets[1].workload);
  CHECK(state.sockets[1].workload->name == "0123456789ab");  // kept as it was
}

TEST_CASE("docker: sockets Docker does not explain are left alone") {
  LiveState state;
  state.sockets.push_back(sock("0.0.0.0", 22, {owner(100, "sshd")}, 1));
  state.sockets.push_back(sock("0.0.0.0", 18080, {}, 2));  // owner unknown
  state.sockets.push_back(sock("127.0.0.1", 18099,
                               {proxy(903,
                                      "-proto tcp -host-ip 127.0.0.1 -host-port 18099 "
                                      "-container-ip 172.17.0.7 -container-port 80")},
                               3));  // its container was removed meanwhile
  attribute_workloads(recorded(), state);
  for (const ListeningSocket& s : state.sockets) CHECK_FALSE(s.workload);
  CHECK(state.sockets[2].holder() == "docker-proxy");
}
