// The docker collector end to end against a fake Engine API on a unix socket (serving the
// recorded responses), and its settings: what a real dockerd cannot show on demand (a daemon
// answering 500 or HTML, a stale socket file). tests/integration/test_docker.cpp runs it against
// a real dockerd.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "collectors/docker_collector.hpp"
#include "libportman/unique_fd.hpp"
#include "unit/support.hpp"

using namespace portman;
using portman::test::owner;
using portman::test::slurp;
using portman::test::sock;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& name) {
  return slurp(std::string(PORTMAN_FIXTURES_DIR) + "/docker/" + name);
}

struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "portman-docker-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()));
    path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

UniqueFd bound_socket(const fs::path& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

// Answers GETs on a unix socket from a table of path -> (status, body), one connection at a time.
class FakeEngine {
 public:
  struct Answer {
    int status;
    std::string body;
  };
  FakeEngine(const fs::path& path, std::map<std::string, Answer> answers)
      : answers_(std::move(answers)), fd_(bound_socket(path)) {
    REQUIRE(::listen(fd_.get(), 8) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeEngine() {
    stop_ = true;
    thread_.join();
  }
  int requests() const { return requests_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      UniqueFd conn(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) continue;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(conn.get(), buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      if (request.find("\r\n\r\n") == std::string::npos) continue;  // the collector's probe
      ++requests_;
      auto start = request.find(' ') + 1;
      std::string target = request.substr(start, request.find(' ', start) - start);
      auto it = answers_.find(target);
      Answer a = it != answers_.end() ? it->second : Answer{404, R"({"message":"page not found"})"};
      std::string reply = "HTTP/1.1 " + std::to_string(a.status) +
                          " X\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(a.body.size()) + "\r\nConnection: close\r\n\r\n" + a.body;
      for (std::size_t off = 0; off < reply.size();) {
        ssize_t n = ::send(conn.get(), reply.data() + off, reply.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
    }
  }

  std::map<std::string, Answer> answers_;
  UniqueFd fd_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

std::unique_ptr<Collector> collector_for(const std::string& host) {
  static const CollectorOptions shared;
  SourceSettings settings("docker", docker_options());
  settings.set("host", host, "--docker.host");
  auto made = make_docker_collector(CollectorContext{shared, settings});
  REQUIRE(made.ok());
  return std::move(*made);
}

std::optional<double> docker_up(const LiveState& s) {
  for (const Sample& x : s.samples)
    if (x.spec == &kDockerUpMetric) return x.value;
  return std::nullopt;
}

std::map<std::string, FakeEngine::Answer> recorded() {
  return {
      {"/v1.41/info", {200, fixture("info_swarm_active.json")}},
      {"/v1.41/containers/json?all=1", {200, fixture("containers.json")}},
      {"/v1.41/services", {200, fixture("services.json")}},
  };
}

}  // namespace

TEST_CASE("docker: docker.host takes unix:// only and says why not tcp://") {
  auto ok = docker_socket_path("unix:///var/run/docker.sock", "docker.host");
  REQUIRE(ok.ok());
  CHECK(*ok == "/var/run/docker.sock");

  auto tcp = docker_socket_path("tcp://10.0.0.5:2375", "docker.host (from $DOCKER_HOST)");
  REQUIRE_FALSE(tcp.ok());
  CHECK(tcp.error().kind == ErrorKind::bad_input);
  CHECK(tcp.error().message ==
        "docker.host (from $DOCKER_HOST): \"tcp://10.0.0.5:2375\" is not supported: portman asks "
        "Docker's Engine API over its unix socket only, not over tcp://; give unix:///PATH, e.g. "
        "unix:///var/run/docker.sock");
  CHECK_FALSE(docker_socket_path("/var/run/docker.sock", "docker.host").ok());
  CHECK_FALSE(docker_socket_path("unix://", "docker.host").ok());
  CHECK_FALSE(docker_socket_path("unix://relative.sock", "docker.host").ok());
  CHECK_FALSE(docker_socket_path("unix:///" + std::string(200, 'x'), "docker.host").ok());
}

TEST_CASE("docker: the factory refuses a tcp:// host with the setting's origin") {
  static const CollectorOptions shared;
  SourceSettings settings("docker", docker_options());
  settings.set("host", "tcp://127.0.0.1:2375", "portman.yml:3:9");
  auto made = make_docker_collector(CollectorContext{shared, settings});
  REQUIRE_FALSE(made.ok());
  CHECK(made.error().message.starts_with("docker.host (from portman.yml:3:9): "));
}

TEST_CASE("docker: the default host is the usual socket and DOCKER_HOST overrides it") {
  SourceSettings settings("docker", docker_options());
  CHECK(settings.text("host") == "unix:///var/run/docker.sock");
  settings.apply_environment([](const char* n) {
    return std::strcmp(n, "DOCKER_HOST") == 0 ? "unix:///x.sock" : nullptr;
  });
  CHECK(settings.text("host") == "unix:///x.sock");
}

TEST_CASE("docker: no socket at all is Docker not installed: up 0 and no note") {
  ScratchDir dir;
  LiveState state;
  auto c = collector_for("unix://" + (dir.path / "docker.sock").string());
  CHECK(c->collect(ScanScope{}, state).ok());
  CHECK(docker_up(state) == 0);
  CHECK(state.notes.empty());
}

TEST_CASE("docker: a socket nobody answers on is a failure with a note") {
  ScratchDir dir;
  const fs::path path = dir.path / "docker.sock";
  { UniqueFd stale = bound_socket(path); }  // the file stays, nobody listens: a crashed dockerd
  LiveState state;
  auto c = collector_for("unix://" + path.string());
  Status st = c->collect(ScanScope{}, state);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message ==
        "cannot reach the Engine API at unix://" + path.string() + ": Connection refused");
  CHECK(docker_up(state) == 0);
  REQUIRE(state.notes.size() == 1);
  CHECK(state.notes[0] == "docker: cannot reach the Engine API at unix://" + path.string() +
                              ": Connection refused; ports published by containers are shown by "
                              "their proxy process");
}

TEST_CASE("docker: the recorded Engine API names the containers behind the sockets") {
  ScratchDir dir;
  const fs::path path = dir.path / "docker.sock";
  FakeEngine engine(path, recorded());
  LiveState state;
  state.sockets.push_back(
      sock("127.0.0.1", 18080,
           {owner(900, "docker-proxy", "/usr/sbin/docker-proxy",
                  "/usr/sbin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 18080 "
                  "-container-ip 172.17.0.2 -container-port 80")},
           1));
  state.sockets.push_back(sock("0.0.0.0", 18090, {owner(700, "dockerd")}, 2));
  auto c = collector_for("unix://" + path.string());
  REQUIRE(c->collect(ScanScope{}, state).ok());
  CHECK(docker_up(state) == 1);
  CHECK(state.notes.empty());
  CHECK(engine.requests() == 3);  // info, containers, and services: the node is in a Swarm
  REQUIRE(state.sockets[0].workload);
  CHECK(state.sockets[0].workload->name == "web");
  REQUIRE(state.sockets[1].workload);
  CHECK(state.sockets[1].workload->name == "ingsvc");
}

TEST_CASE("docker: outside a Swarm the services are not asked for") {
  ScratchDir dir;
  const fs::path path = dir.path / "docker.sock";
  auto answers = recorded();
  answers["/v1.41/info"] = {200, fixture("info.json")};
  answers.erase("/v1.41/services");
  FakeEngine engine(path, answers);
  LiveState state;
  auto c = collector_for("unix://" + path.string());
  REQUIRE(c->collect(ScanScope{}, state).ok());
  CHECK(docker_up(state) == 1);
  CHECK(engine.requests() == 2);
}

TEST_CASE("docker: an error status or an answer that is not JSON fails with one line") {
  ScratchDir dir;
  const fs::path path = dir.path / "docker.sock";
  SECTION("HTTP 500") {
    auto answers = recorded();
    answers["/v1.41/containers/json?all=1"] = {500, "{\"message\":\"daemon is shutting down\"}\n"};
    FakeEngine engine(path, answers);
    LiveState state;
    Status st = collector_for("unix://" + path.string())->collect(ScanScope{}, state);
    REQUIRE_FALSE(st.ok());
    CHECK(
        st.error().message ==
        "cannot reach the Engine API at unix://" + path.string() +
            ": GET /containers/json answered HTTP 500: {\"message\":\"daemon is shutting down\"}");
    CHECK(docker_up(state) == 0);
    CHECK(state.notes.size() == 1);
  }
  SECTION("HTML") {
    auto answers = recorded();
    answers["/v1.41/info"] = {200, "<html>hello</html>"};
    FakeEngine engine(path, answers);
    LiveState state;
    Status st = collector_for("unix://" + path.string())->collect(ScanScope{}, state);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.ends_with("Docker Engine API /info: the answer is not valid JSON"));
    CHECK(docker_up(state) == 0);
  }
}
