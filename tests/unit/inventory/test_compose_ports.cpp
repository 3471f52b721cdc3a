// compose_ports: every form of `ports:` that Compose accepts, interpolation, and bad entries.
#include <catch2/catch.hpp>

#include "inventory/compose_ports.hpp"

using namespace portman;
using namespace portman::dokploy;

namespace {

ComposePorts parse(const std::string& yaml, const std::string& env = {}, bool stack = false) {
  auto r = parse_compose_ports(yaml, env, stack, "test.yml");
  if (!r) FAIL(r.error().message);
  return std::move(r).value();
}

ComposePorts ports_of(const std::string& entries, const std::string& env = {}, bool stack = false) {
  return parse("services:\n  web:\n    image: x\n    ports:\n" + entries, env, stack);
}

std::string keys(const ComposePorts& p) {
  std::string out;
  for (const auto& x : p.ports)
    out += (out.empty() ? "" : " ") + (x.host_ip.empty() ? "" : x.host_ip + ":") +
           std::to_string(x.published) + "->" + std::to_string(x.target) + "/" +
           std::string(to_string(x.protocol)) + "," + x.publish_mode;
  return out;
}

}  // namespace

TEST_CASE("compose short syntax: host and container port", "[compose]") {
  auto p = ports_of("      - \"8080:80\"\n");
  CHECK(keys(p) == "8080->80/tcp,host");
  CHECK(p.warnings.empty());
  REQUIRE(p.ports.size() == 1);
  CHECK(p.ports[0].compose_service == "web");
}

TEST_CASE("compose short syntax: address and protocol", "[compose]") {
  auto p = ports_of("      - \"127.0.0.1:8080:80/udp\"\n      - 9000:9000/tcp\n");
  CHECK(keys(p) == "127.0.0.1:8080->80/udp,host 9000->9000/tcp,host");
}

TEST_CASE("compose short syntax: a bracketed IPv6 address", "[compose]") {
  auto p = ports_of("      - \"[::1]:5353:53/udp\"\n");
  CHECK(keys(p) == "::1:5353->53/udp,host");
}

TEST_CASE("compose short syntax: ranges map one to one", "[compose]") {
  auto p = ports_of("      - \"8080-8081:80-81\"\n");
  CHECK(keys(p) == "8080->80/tcp,host 8081->81/tcp,host");
}

TEST_CASE("compose: a container port alone is a warning and no port", "[compose]") {
  auto p = ports_of("      - \"3000\"\n      - 4000\n      - \"127.0.0.1::5000\"\n");
  CHECK(p.ports.empty());
  REQUIRE(p.warnings.size() == 3);
  CHECK(p.warnings[0].find("service web ports[0] '3000'") == 0);
  CHECK(p.warnings[0].find("random") != std::string::npos);
  CHECK(p.warnings[2].find("127.0.0.1::5000") != std::string::npos);
}

TEST_CASE("compose: a host range for one container port is not predictable", "[compose]") {
  auto p = ports_of("      - \"8080-8085:80\"\n      - \"8080-8082:80-81\"\n");
  CHECK(p.ports.empty());
  REQUIRE(p.warnings.size() == 2);
  CHECK(p.warnings[0].find("picks one") != std::string::npos);
  CHECK(p.warnings[1].find("differ in length") != std::string::npos);
}

TEST_CASE("compose long syntax", "[compose]") {
  auto p = ports_of(
      "      - target: 9102\n        published: 9102\n        protocol: tcp\n        mode: host\n"
      "      - target: 53-54\n        published: \"5300-5301\"\n        protocol: udp\n"
      "        host_ip: 10.0.0.1\n"
      "      - {target: 80, published: \"8088\"}\n");
  CHECK(keys(p) ==
        "9102->9102/tcp,host 10.0.0.1:5300->53/udp,host 10.0.0.1:5301->54/udp,host "
        "8088->80/tcp,host");
  CHECK(p.warnings.empty());
}

TEST_CASE("compose long syntax without published or target", "[compose]") {
  auto p = ports_of("      - target: 80\n      - published: 8080\n");
  CHECK(p.ports.empty());
  REQUIRE(p.warnings.size() == 2);
  CHECK(p.warnings[0].find("random") != std::string::npos);
  CHECK(p.warnings[1].find("no target") != std::string::npos);
}

TEST_CASE("compose stack: ingress unless the long syntax says host", "[compose]") {
  auto p = ports_of("      - \"8080:80\"\n      - {target: 81, published: 8081, mode: host}\n", {},
                    true);
  CHECK(keys(p) == "8080->80/tcp,ingress 8081->81/tcp,host");
  auto compose = ports_of("      - {target: 81, published: 8081, mode: ingress}\n");
  CHECK(keys(compose) == "8081->81/tcp,host");  // Compose alone binds on its host
}

TEST_CASE("compose interpolation from the env text", "[compose]") {
  std::string env =
      "# ports\nWEB_PORT=8080\nexport API_PORT=\"9000\"\nEMPTY=\nBIND='127.0.0.1' \n"
      "DB_PORT=5433 # a comment\n";
  auto p = ports_of(
      "      - \"${WEB_PORT}:80\"\n"
      "      - \"$API_PORT:9000\"\n"
      "      - \"${MISSING:-7000}:70\"\n"
      "      - \"${EMPTY:-7100}:71\"\n"
      "      - \"${EMPTY-7200}7:72\"\n"
      "      - \"${BIND}:${DB_PORT}:5432\"\n"
      "      - target: 3000\n        published: ${WEB_PORT:+3001}\n",
      env);
  CHECK(keys(p) ==
        "8080->80/tcp,host 9000->9000/tcp,host 7000->70/tcp,host 7100->71/tcp,host "
        "7->72/tcp,host 127.0.0.1:5433->5432/tcp,host 3001->3000/tcp,host");
  CHECK(p.warnings.empty());
}

TEST_CASE("compose interpolation: unset variables and bad templates", "[compose]") {
  auto p = ports_of(
      "      - \"${NOPE}:80\"\n"
      "      - \"${REQ:?set REQ}:81\"\n"
      "      - \"${:-1}:82\"\n"
      "      - \"${OPEN:83\"\n"
      "      - \"$1:84\"\n");
  CHECK(p.ports.empty());
  REQUIRE(p.warnings.size() == 6);  // NOPE is unset and then the host port is empty
  CHECK(p.warnings[0].find("NOPE is not set") != std::string::npos);
  CHECK(p.warnings[1].find("random") != std::string::npos);
  CHECK(p.warnings[2].find("REQ is required: set REQ") != std::string::npos);
  CHECK(p.warnings[3].find("variable name") != std::string::npos);
  CHECK(p.warnings[4].find("unclosed") != std::string::npos);
  CHECK(p.warnings[5].find("$$") != std::string::npos);
}

TEST_CASE("interpolate: $$ and nested defaults", "[compose]") {
  EnvVars env{{"B", "2"}};
  CHECK(*interpolate("a$$b", env) == "a$b");
  CHECK(*interpolate("${A:-${B}}", env) == "2");
  CHECK(*interpolate("${A:-x${C:-y}}", env) == "xy");
  CHECK(!interpolate("trailing $", env));
}

TEST_CASE("compose: bad entries are warnings and the others still count", "[compose]") {
  auto p = ports_of(
      "      - \"99999:80\"\n"
      "      - \"abc:80\"\n"
      "      - \"8080:80/sctp\"\n"
      "      - [1, 2]\n"
      "      - target: [80]\n"
      "      - \"8081:0\"\n"
      "      - \"8082:82\"\n");
  CHECK(keys(p) == "8082->82/tcp,host");
  CHECK(p.warnings.size() == 6);
}

TEST_CASE("compose: documents that are not compose files are errors", "[compose]") {
  CHECK(!parse_compose_ports("services: [a, b]\n", "", false, "x.yml"));
  CHECK(!parse_compose_ports("- 1\n- 2\n", "", false, "x.yml"));
  auto bad = parse_compose_ports("services:\n  web: {ports: [\"80:80\"\n", "", false, "x.yml");
  REQUIRE(!bad);
  CHECK(bad.error().message.find("x.yml") == 0);
  // No services, a service without ports, ports: null, ports that is not a list.
  auto none = parse(
      "version: '3'\nservices:\n  a: {image: x}\n  b: {ports: null}\n  c: {ports: \"80:80\"}\n");
  CHECK(none.ports.empty());
  CHECK(none.warnings.size() == 1);
  CHECK(parse("volumes: {}\n").ports.empty());
}

TEST_CASE("compose: the fixture's observability stack", "[compose]") {
  auto p = parse(
      "services:\n  grafana:\n    ports:\n      - \"3001:3000\"\n  prometheus:\n    ports:\n"
      "      - \"127.0.0.1:9091:9090\"\n  statsd-exporter:\n    ports:\n      - \"9125:9125/udp\"\n"
      "      - target: 9102\n        published: 9102\n        protocol: tcp\n        mode: host\n");
  CHECK(
      keys(p) ==
      "3001->3000/tcp,host 127.0.0.1:9091->9090/tcp,host 9125->9125/udp,host 9102->9102/tcp,host");
}
