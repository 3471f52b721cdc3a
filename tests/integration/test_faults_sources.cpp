// Docker and Dokploy misbehaving: answering slowly or never, with garbage, with huge bodies,
// closing mid-response, or (Docker) no longer accepting connections. The CLI says so in one line
// and the other sources still report; the agent's scrapes keep their latency (the scraper's
// median during the fault against its own median alone, in the same test), the source's up
// series goes to 0 and the error is logged. A real dockerd cannot be made to misbehave, so Docker
// is a fake unix-socket HTTP server here (FakeDocker); Dokploy is fake_dokploy.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fake_dokploy.hpp"
#include "harness.hpp"
#include "scrape_latency.hpp"

using itest::Agent;
using itest::bound_for;
using itest::Latencies;
using itest::metric;
using itest::scrape;
using itest::TempDir;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// Docker's Engine API on a unix socket, in one of these modes (switchable while it runs):
//   ok       /info and /containers/json as a Docker without containers answers them
//   slow     reads the request and never answers (the connection stays open)
//   notjson  200 with a body that is no JSON
//   nothttp  bytes that are no HTTP, then close
//   huge     200 with a 48 MiB body (portman reads at most 32 MiB)
//   dropped  a body far shorter than its Content-Length, then close
//   backlog  stops accepting: connections pile up in a backlog of 4
class FakeDocker {
 public:
  FakeDocker(fs::path path, std::string mode) : path_(std::move(path)), mode_(std::move(mode)) {
    REQUIRE(::pipe2(stop_pipe_, O_CLOEXEC) == 0);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 4) == 0);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  FakeDocker(const FakeDocker&) = delete;
  FakeDocker& operator=(const FakeDocker&) = delete;
  ~FakeDocker() {
    ::write(stop_pipe_[1], "x", 1);
    acceptor_.join();
    std::vector<std::thread> handlers;
    {
      std::lock_guard lock(mu_);
      handlers.swap(handlers_);
    }
    for (auto& t : handlers) t.join();
    ::close(fd_);
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
    fs::remove(path_);
  }
  std::string host() const { return "unix://" + path_.string(); }
  void set_mode(const std::string& mode) {
    std::lock_guard lock(mu_);
    mode_ = mode;
  }
  int requests() const { return requests_; }

 private:
  std::string mode() {
    std::lock_guard lock(mu_);
    return mode_;
  }
  bool stopping(int timeout_ms) {
    pollfd p{stop_pipe_[0], POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) > 0;
  }

  void accept_loop() {
    while (!stopping(0)) {
      if (mode() == "backlog") {
        stopping(20);
        continue;
      }
      pollfd p[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (::poll(p, 2, 20) <= 0 || !(p[0].revents & POLLIN)) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::lock_guard lock(mu_);
      handlers_.emplace_back([this, c, m = mode_] { serve(c, m); });
    }
  }

  static void send_all(int c, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(c, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }
  static std::string reply(const std::string& body, std::size_t length) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
           "Content-Length: " +
           std::to_string(length) + "\r\n\r\n" + body;
  }

  void serve(int c, const std::string& mode) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      pollfd p[2] = {{c, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (::poll(p, 2, 5000) <= 0 || (p[1].revents & POLLIN)) break;
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      req.append(buf, static_cast<std::size_t>(n));
    }
    if (req.find("\r\n\r\n") != std::string::npos) {
      ++requests_;
      const bool info = req.rfind("GET /v1.41/info", 0) == 0;
      if (mode == "ok") {
        std::string body = info ? R"({"Swarm":{"LocalNodeState":"inactive"}})" : "[]";
        send_all(c, reply(body, body.size()));
      } else if (mode == "slow") {
        // Until the client gives up (its end closes) or the fake stops.
        pollfd p[2] = {{c, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        while (::poll(p, 2, -1) > 0 && !(p[1].revents & POLLIN))
          if (::read(c, buf, sizeof buf) <= 0) break;
      } else if (mode == "notjson") {
        std::string body = "<html><body>502 Bad Gateway\x01\x02{{{[[";
        send_all(c, reply(body, body.size()));
      } else if (mode == "nothttp") {
        send_all(c, std::string("\x00\x01\x02SSH-2.0-OpenSSH\r\n\xff\xfe", 22));
      } else if (mode == "huge") {
        const std::size_t total = 48u << 20;
        send_all(c, reply("[", total));
        std::string chunk(1 << 16, ' ');
        for (std::size_t sent = 1; sent < total && !stopping(0); sent += chunk.size()) {
          ssize_t n = ::send(c, chunk.data(), chunk.size(), MSG_NOSIGNAL);
          if (n <= 0) break;
        }
      } else if (mode == "dropped") {
        send_all(c, reply(R"([{"Id":"4f1c","Names":["/web"],"Ports":[{"Priv)", 100000));
      }
    }
    ::close(c);
  }

  fs::path path_;
  int fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::mutex mu_;
  std::string mode_;                   // guarded by mu_
  std::vector<std::thread> handlers_;  // guarded by mu_
  std::atomic<int> requests_{0};
  std::thread acceptor_;
};

bool one_line(const std::string& s) {
  return !s.empty() && s.find('\n') == std::string::npos;
}

std::string scrape_text(const Agent& agent) {
  return itest::curl({"--max-time", "10", agent.url("/metrics")}).out;
}

// Scrapes until `name` reads `value` (or `seconds` pass); the scrapes' latencies on the way.
bool wait_for(const Agent& agent, const std::string& name, double value, double seconds,
              Latencies* on_the_way = nullptr) {
  auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    // curl's own time_total on the last line, as scrape() measures.
    std::string text =
        itest::curl({"--max-time", "10", "-w", "\n%{time_total}", agent.url("/metrics")}).out;
    const auto last = text.rfind('\n');
    if (on_the_way && last != std::string::npos)
      on_the_way->seconds.push_back(std::atof(text.c_str() + last + 1));
    if (metric(text, name) == value) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// The agent's log once it says `says` (or after `seconds`). The source can go down for another
// reason first: a refused connection in the moment the faulty server takes over the port, before
// its own fault has been met once.
std::string log_once_it_says(const Agent& agent, const std::string& says, double seconds) {
  auto end = Clock::now() + std::chrono::duration<double>(seconds);
  std::string log = agent.log();
  while (log.find(says) == std::string::npos && Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    log = agent.log();
  }
  return log;
}

const char* kRegistry = R"({"allocations": {"7000": {"service": "stays"}}})";

// The agent with Docker in `mode` after a good start: up 1, then the fault.
void agent_with_docker_fault(const std::string& mode, const std::string& says) {
  TempDir dir;
  itest::write_file(dir / "reg.json", kRegistry);
  itest::Listener stays({"tcp:127.0.0.1:7000"});
  FakeDocker docker(dir / "docker.sock", "ok");
  Agent agent({"--scan.min-interval", "0s", "--registry", (dir / "reg.json").string(),
               "--docker.host", docker.host()},
              itest::RunOptions{});
  REQUIRE(wait_for(agent, "portman_docker_up", 1, 10));
  const std::string url = agent.url("/metrics");
  Latencies base = scrape(url, 20);
  REQUIRE(base.failed == 0);

  docker.set_mode(mode);
  Latencies until_down;
  const bool down = wait_for(agent, "portman_docker_up", 0, 15, &until_down);
  Latencies under = scrape(url, 20);
  const std::string text = scrape_text(agent);
  WARN("docker " << mode << ": alone " << base.text() << "; until up went 0 " << until_down.text()
                 << "; during " << under.text() << "; fake served " << docker.requests()
                 << " requests");
  CHECK(down);
  CHECK(under.failed == 0);
  CHECK(under.median() < bound_for(base));
  CHECK(until_down.median() < bound_for(base));
  CHECK(until_down.max() < 1.0);  // not one scrape waits for Docker's timeout (5 s)
  // The other sources still report.
  CHECK(metric(text, "portman_port_up", {"port=\"7000\""}) == 1);
  CHECK(metric(text, "portman_scrape_collector_success", {"collector=\"sockets\""}) == 1);
  CHECK(metric(text, "portman_scrape_collector_success", {"collector=\"owners\""}) == 1);
  CHECK(metric(text, "portman_scrape_collector_success", {"collector=\"docker\""}) == 0);
  const std::string log = agent.log();
  INFO(log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  CHECK(log.find("collector failed") != std::string::npos);
  CHECK(log.find(says) != std::string::npos);

  // Docker comes back: up 1 again.
  docker.set_mode("ok");
  CHECK(wait_for(agent, "portman_docker_up", 1, 15));
  auto [code, took] = agent.stop();
  CHECK(code == 0);
  CHECK(took < 7.0);  // a fetch still waiting on a slow Docker ends within its timeout
}

}  // namespace

TEST_CASE("faults: Docker failing in each way gives scan one line and the other sources report") {
  TempDir dir;
  itest::write_file(dir / "reg.json", kRegistry);
  itest::Listener stays({"tcp:127.0.0.1:7000"});
  struct Case {
    std::string mode, says;
  };
  const std::vector<Case> cases = {
      {"slow", "no answer within"},
      {"notjson", "JSON"},
      {"nothttp", "HTTP"},
      {"huge", "MiB"},
      {"dropped", "cannot reach the Engine API"},
      {"backlog", "backlog is full"},
  };
  for (const Case& c : cases) {
    FakeDocker docker(dir / "docker.sock", c.mode);
    std::vector<int> pending;
    if (c.mode == "backlog") {
      // Fill the backlog as a hung daemon's fills up: connections nobody accepts.
      for (int i = 0; i < 8; ++i) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, (dir / "docker.sock").c_str(), sizeof a.sun_path - 1);
        ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        pending.push_back(fd);  // open until the case ends: they hold their place
      }
    }
    auto start = Clock::now();
    auto r = itest::portman({"scan", "--json", "--docker.host", docker.host(), "--registry",
                             (dir / "reg.json").string()});
    const double took = std::chrono::duration<double>(Clock::now() - start).count();
    INFO(c.mode << ": exit " << r.code << " in " << took << " s; " << r.err);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(took < 8.0);  // Docker's own timeout is 5 s
    auto j = r.json();
    REQUIRE(j["notes"].size() == 1);
    const std::string note = j["notes"][0];
    INFO(note);
    CHECK(note.rfind("docker: cannot reach the Engine API at " + docker.host(), 0) == 0);
    CHECK(note.find(c.says) != std::string::npos);
    CHECK(one_line(note));
    WARN("docker " << c.mode << " (" << took << " s): " << note);
    bool stays_seen = false;
    for (const auto& s : j["listening"])
      stays_seen = stays_seen || (s["port"] == 7000 && s["process"] == "test_listener");
    CHECK(stays_seen);
    for (const auto& run : j["collectors"])
      CHECK(run["success"].get<bool>() == (run["collector"] != "docker"));

    // The table says it once, in one line.
    auto text = itest::portman(
        {"scan", "--docker.host", docker.host(), "--registry", (dir / "reg.json").string()});
    CHECK(text.code == 0);
    int lines = 0;
    std::istringstream out(text.out);
    for (std::string line; std::getline(out, line);)
      lines += line.find("Engine API") != std::string::npos;
    CHECK(lines == 1);
    CHECK(text.out.find("7000") != std::string::npos);
    for (int fd : pending) ::close(fd);
  }
}

TEST_CASE("faults: the agent keeps its scrape latency while Docker never answers") {
  agent_with_docker_fault("slow", "no answer within");
}

TEST_CASE("faults: the agent keeps its scrape latency while Docker answers garbage") {
  agent_with_docker_fault("notjson", "JSON");
}

TEST_CASE("faults: the agent keeps its scrape latency while Docker answers a huge body") {
  agent_with_docker_fault("huge", "MiB");
}

TEST_CASE("faults: the agent keeps its scrape latency while Docker closes mid-response") {
  agent_with_docker_fault("dropped", "cannot reach the Engine API");
}

TEST_CASE("faults: the agent keeps its scrape latency while Docker stops accepting") {
  agent_with_docker_fault("backlog", "backlog is full");
}

TEST_CASE("faults: the agent keeps its scrape latency while Dokploy misbehaves in each way") {
  TempDir dir;
  itest::write_file(dir / "reg.json", kRegistry);
  itest::Listener stays({"tcp:127.0.0.1:7000"});
  struct Case {
    std::string mode, says;
  };
  const std::vector<Case> cases = {{"slow", "no answer within"},
                                   {"truncated", "JSON"},
                                   {"html", "text/html"},
                                   {"huge", "MiB"},
                                   {"dropped", "transfer closed"}};
  for (const Case& c : cases) {
    auto good = std::make_unique<itest::FakeDokploy>();
    const int port = good->port();
    Agent agent(
        {"--scan.min-interval", "0s", "--registry", (dir / "reg.json").string(),
         "--no-collector.docker", "--dokploy.interval", "1s", "--dokploy.timeout", "1s"},
        itest::RunOptions{{{"DOKPLOY_API_URL", good->url()}, {"DOKPLOY_API_KEY", "test-key"}}});
    REQUIRE(wait_for(agent, "portman_dokploy_up", 1, 10));
    const std::string url = agent.url("/metrics");
    Latencies base = scrape(url, 20);
    REQUIRE(base.failed == 0);
    // The same address, now misbehaving.
    good.reset();
    itest::FakeDokploy bad({"--mode", c.mode, "--port", std::to_string(port)});
    Latencies until_down;
    const bool down = wait_for(agent, "portman_dokploy_up", 0, 15, &until_down);
    Latencies under = scrape(url, 20);
    const std::string text = scrape_text(agent);
    WARN("dokploy " << c.mode << ": alone " << base.text() << "; until up went 0 "
                    << until_down.text() << "; during " << under.text());
    INFO(c.mode);
    CHECK(down);
    CHECK(under.failed == 0);
    CHECK(under.median() < bound_for(base));
    CHECK(until_down.max() < 1.0);
    CHECK(metric(text, "portman_port_up", {"port=\"7000\""}) == 1);
    const std::string log = log_once_it_says(agent, c.says, 10);
    INFO(log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
    CHECK(log.find(c.says) != std::string::npos);
    CHECK(log.find("test-key") == std::string::npos);
  }
}
