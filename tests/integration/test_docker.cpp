// portman against a real dockerd (tests/integration/dockerd.hpp): containers published through
// docker-proxy and through dockerd itself, a --network host container, a stopped one, a Swarm
// service in host publish mode, and the agent's portman_docker_up. Each test case starts one
// daemon (about 1 s) and checks all it can against it, in blocks rather than SECTIONs (each
// SECTION would run the case, and start a daemon, again); where dockerd cannot run they skip.
//
// The JSON contract checked here: each socket carries "workload": {"kind", "name", "id",
// "image", "via"} when the docker collector knows what is behind it, and a finding's "process"
// is ListeningSocket::holder(), i.e. the container's or service's name.
#include <catch2/catch.hpp>

#include <chrono>
#include <sstream>
#include <string>
#include <thread>

#include "dockerd.hpp"
#include "harness.hpp"

using itest::Dockerd;
using itest::TempDir;
using nlohmann::json;

namespace {

constexpr const char* kImage = Dockerd::kImage;

itest::RunResult portman_at(const Dockerd& d, const TempDir& dir, std::vector<std::string> args,
                            itest::RunOptions options = {}) {
  args.insert(args.end(), {"--registry", (dir / "reg.json").string()});
  options.env["DOCKER_HOST"] = d.host();
  return itest::portman(args, options);
}

json scan(const Dockerd& d, const TempDir& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"scan", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = portman_at(d, dir, args);
  INFO(r.err);
  REQUIRE(!r.out.empty());
  return r.json();
}

// The listening entries of `port` (one per socket) in a scan report.
std::vector<json> on_port(const json& report, int port) {
  std::vector<json> out;
  for (const json& s : report["listening"])
    if (s["port"] == port) out.push_back(s);
  return out;
}

json collector_run(const json& report, const std::string& name) {
  for (const json& r : report["collectors"])
    if (r["collector"] == name) return r;
  return json();
}

// No finding names the proxy: behind every docker-proxy there is a container the collector
// knows. (dockerd may be named: Swarm's own ports, 2377 and 7946, are its.)
void check_no_finding_names_docker_proxy(const json& report) {
  for (const json& f : report["findings"]) {
    INFO(f.dump());
    CHECK(f["process"] != "docker-proxy");
  }
}

const json* finding(const json& report, const std::string& kind, int port) {
  for (const json& f : report["findings"])
    if (f["kind"] == kind && f["port"] == port) return &f;
  return nullptr;
}

std::optional<double> metric(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  return std::nullopt;
}

}  // namespace

TEST_CASE(
    "docker: ports published through docker-proxy and a host-network container show "
    "their container in scan and check and the agent") {
  Dockerd d;
  TempDir dir;
  d.run({"--name", "web", "-p", "127.0.0.1:18480:80", "-l", "com.docker.compose.project=shop", "-l",
         "com.docker.compose.service=front", kImage});
  d.run({"--name", "hostnet", "--network", "host", kImage, "/bin/httpd", "-f", "-p",
         "127.0.0.1:18481", "-h", "/www"});
  auto created =
      d.docker({"create", "--init", "--name", "stopped", "-p", "127.0.0.1:18482:80", kImage});
  REQUIRE(created.code == 0);
  REQUIRE(itest::wait_for_port(18480, 5));
  REQUIRE(itest::wait_for_port(18481, 5));

  json report = scan(d, dir);
  INFO(report.dump(1));
  CHECK(collector_run(report, "docker")["success"] == true);

  auto web = on_port(report, 18480);
  REQUIRE(web.size() == 1);
  CHECK(web[0]["process"] == "docker-proxy");  // the holder stays visible as it is
  REQUIRE(web[0].contains("workload"));
  CHECK(web[0]["workload"]["kind"] == "container");
  CHECK(web[0]["workload"]["name"] == "web");
  CHECK(web[0]["workload"]["image"] == kImage);
  CHECK(web[0]["workload"]["via"] == "docker-proxy");
  CHECK(web[0]["workload"]["id"].get<std::string>().size() == 64);
  const json* unregistered = finding(report, "unregistered", 18480);
  REQUIRE(unregistered);
  CHECK((*unregistered)["process"] == "web");

  auto host = on_port(report, 18481);
  REQUIRE(host.size() == 1);
  CHECK(host[0]["process"] == "httpd");
  REQUIRE(host[0].contains("workload"));
  CHECK(host[0]["workload"]["name"] == "hostnet");
  CHECK(host[0]["workload"]["via"] == "");
  CHECK(host[0]["container"].get<std::string>().size() == 64);  // from its cgroup

  CHECK(on_port(report, 18482).empty());  // a stopped container publishes nothing
  CHECK_FALSE(finding(report, "unregistered", 18482));
  check_no_finding_names_docker_proxy(report);

  auto check = portman_at(d, dir, {"check", "18480", "--json"});
  INFO(check.out << check.err);
  json c = check.json();
  REQUIRE(c["sockets"].size() == 1);
  CHECK(c["sockets"][0]["workload"]["name"] == "web");
  for (const json& f : c["findings"]) CHECK(f["process"] == "web");
  auto stopped = portman_at(d, dir, {"check", "18482", "--json"});
  CHECK(stopped.json()["listening"] == false);
  CHECK_FALSE(stopped.json().contains("collector_errors"));

  {  // the opt-in netns collector shows the container's own listener on port 80
    json with_netns = scan(d, dir, {"--collector.netns"});
    bool found = false;
    for (const json& s : on_port(with_netns, 80)) {
      if (!s.contains("workload") || s["workload"]["name"] != "web") continue;
      found = true;
      CHECK(s["process"] == "httpd");  // the owners collector found it in the container
    }
    CHECK(found);
    CHECK(on_port(report, 80).empty());  // not without it
  }

  {  // the agent reports portman_docker_up 1
    itest::Agent agent({"--registry", (dir / "reg.json").string(), "--scan.min-interval", "0s"},
                       {.env = {{"DOCKER_HOST", d.host()}}});
    auto r = itest::curl({agent.url("/metrics")});
    REQUIRE(r.code == 0);
    CHECK(metric(r.out, "portman_docker_up") == 1);
  }

  {  // a user who may not use the socket gets one clear line, and the rest as before
    TempDir home;
    auto as_nobody = itest::as_user(home);
    as_nobody.env["DOCKER_HOST"] = d.host();
    auto r =
        itest::portman({"scan", "--json", "--registry", (dir / "reg.json").string()}, as_nobody);
    json j = r.json();
    json run = collector_run(j, "docker");
    CHECK(run["success"] == false);
    CHECK(run["error"] == "cannot reach the Engine API at " + d.host() + ": Permission denied");
    CHECK(on_port(j, 18480).size() == 1);  // everything else as before
    auto human = itest::portman({"scan", "--registry", (dir / "reg.json").string()}, as_nobody);
    CHECK(human.out.find("docker: cannot reach the Engine API at " + d.host() +
                         ": Permission denied; ports published by containers are shown by their "
                         "proxy process") != std::string::npos);
  }
}

TEST_CASE(
    "docker: with the userland proxy off dockerd holds the published port and it shows "
    "the container") {
  Dockerd d({.userland_proxy = false});
  TempDir dir;
  d.run({"--name", "direct", "-p", "127.0.0.1:18483:80", kImage});
  REQUIRE(itest::wait_for_port(18483, 5));
  json report = scan(d, dir);
  INFO(report.dump(1));
  auto s = on_port(report, 18483);
  REQUIRE(s.size() == 1);
  CHECK(s[0]["process"] == "dockerd");
  REQUIRE(s[0].contains("workload"));
  CHECK(s[0]["workload"]["name"] == "direct");
  CHECK(s[0]["workload"]["via"] == "dockerd");
  const json* unregistered = finding(report, "unregistered", 18483);
  REQUIRE(unregistered);
  CHECK((*unregistered)["process"] == "direct");
  check_no_finding_names_docker_proxy(report);
}

TEST_CASE("docker: a Swarm service published in host mode shows the service") {
  Dockerd d;
  TempDir dir;
  d.swarm_init();
  auto created = d.docker({"service", "create", "-d", "--name", "svc", "--no-resolve-image",
                           "--publish", "mode=host,published=18484,target=80", kImage});
  REQUIRE(created.code == 0);
  REQUIRE(itest::wait_for_port(18484, 30));  // a service converges in about 6 s
  // Its proxy listens while the task's container is still "created", which the Engine API
  // lists without ports or address until it runs: wait for that.
  bool running = false;
  for (int i = 0; i < 100 && !running; ++i) {
    auto ps = d.docker({"ps", "-q", "--filter", "status=running", "--filter",
                        "label=com.docker.swarm.service.name=svc"});
    running = ps.code == 0 && !ps.out.empty();
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(running);
  json report = scan(d, dir);
  INFO(report.dump(1));
  auto s = on_port(report, 18484);
  REQUIRE_FALSE(s.empty());
  for (const json& x : s) {
    REQUIRE(x.contains("workload"));
    CHECK(x["workload"]["kind"] == "service");
    CHECK(x["workload"]["name"] == "svc");
    CHECK(x["workload"]["via"] == "docker-proxy");
  }
  const json* unregistered = finding(report, "unregistered", 18484);
  REQUIRE(unregistered);
  CHECK((*unregistered)["process"] == "svc");
  // Swarm's own management port is dockerd's, and nothing publishes it.
  auto manager = on_port(report, 2377);
  REQUIRE(manager.size() == 1);
  CHECK(manager[0]["process"] == "dockerd");
  CHECK_FALSE(manager[0].contains("workload"));
  check_no_finding_names_docker_proxy(report);
}

TEST_CASE("docker: without a Docker socket the collector is quiet and docker_up is 0") {
  TempDir dir;
  const std::string missing = "unix://" + (dir / "no-docker.sock").string();
  auto r = itest::portman(
      {"scan", "--json", "--docker.host", missing, "--registry", (dir / "reg.json").string()});
  INFO(r.err);
  json run = collector_run(r.json(), "docker");
  CHECK(run["success"] == true);
  itest::Agent agent({"--registry", (dir / "reg.json").string(), "--docker.host", missing});
  auto m = itest::curl({agent.url("/metrics")});
  REQUIRE(m.code == 0);
  CHECK(metric(m.out, "portman_docker_up") == 0);
}

TEST_CASE("docker: a tcp:// docker.host is refused with one line") {
  TempDir dir;
  auto r = itest::portman({"scan", "--registry", (dir / "reg.json").string()},
                          {.env = {{"DOCKER_HOST", "tcp://127.0.0.1:2375"}}});
  CHECK(r.code == 2);
  std::vector<std::string> errors;  // the missing registry is a warning of its own
  std::istringstream lines(r.err);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("portman: error:", 0) == 0) errors.push_back(line);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("docker.host (from $DOCKER_HOST): \"tcp://127.0.0.1:2375\" is not "
                       "supported") != std::string::npos);
}
