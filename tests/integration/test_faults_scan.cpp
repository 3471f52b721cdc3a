// Scans while processes come and go: 200 short-lived listeners a second, each in a process of
// its own that exits while portman walks /proc (or iterates with BPF). Every scan must exit as a
// clean scan does, with every collector successful and nothing unreadable, keep reporting the
// listener that stays, and never report as unregistered a socket that had gone before the scan
// wrote its answer.
//
// How the test tells: every churn listener gets a port of its own, and the test notes when its
// process was reaped (after its socket closed). The scan says when it last looked at the sockets
// (`sockets_seen_at_unix_ms`); a finding for a port whose listener was reaped more than kSlack
// before that is a socket the scan reported after it had gone. PORTMAN_FAULT_SECONDS sets how long
// the churn lasts (default 12).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "unit/skip.hpp"

using itest::TempDir;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kFirstPort = 20000, kPorts = 12000;  // below the ephemeral range
constexpr int kPerSecond = 200;
// The scan's instant is in whole milliseconds, and the reaper notes its time after waitpid().
constexpr auto kSlack = std::chrono::milliseconds(2);
using Wall = std::chrono::system_clock;

// When the scan last looked at the sockets, as it says in its JSON.
Wall::time_point sockets_seen_at(const json& scan) {
  return Wall::time_point(
      std::chrono::milliseconds(scan.at("sockets_seen_at_unix_ms").get<std::int64_t>()));
}

// One churn listener's life, as the test saw it.
struct Life {
  Wall::time_point forked;
  std::optional<Wall::time_point> reaped;
};

// Forks kPerSecond processes a second; each listens on its own port for a while and exits.
class Churn {
 public:
  Churn() : forker_([this] { fork_loop(); }), reaper_([this] { reap_loop(); }) {}
  Churn(const Churn&) = delete;
  Churn& operator=(const Churn&) = delete;
  ~Churn() { stop(); }

  void stop() {
    if (stop_.exchange(true)) return;
    forker_.join();
    reaper_.join();
  }
  int started() const { return started_; }
  int failed_to_listen() const { return failed_; }

  // How long before `t` the listener on `port` had certainly gone (was reaped); nullopt when it
  // may still have been there at `t`, or no churn listener had that port.
  std::optional<Wall::duration> gone_for(int port, Wall::time_point t) {
    std::lock_guard lock(mu_);
    auto it = lives_.find(port);
    if (it == lives_.end()) return std::nullopt;
    std::optional<Wall::duration> gone;
    for (const Life& l : it->second) {
      if (l.forked >= t) continue;
      if (!l.reaped || *l.reaped >= t) return std::nullopt;
      gone = gone ? std::min(*gone, t - *l.reaped) : t - *l.reaped;
    }
    return gone;
  }

 private:
  void fork_loop() {
    std::mt19937 rng(7);
    auto next = Clock::now();
    for (int i = 0; !stop_; ++i) {
      const int port = kFirstPort + i % kPorts;
      // Most live 5 to 80 ms, shorter than a scan; one in four 300 to 600 ms, so that some
      // outlive a scan even on a busy machine and are rightly reported.
      const int life_ms =
          i % 4 == 3 ? 300 + static_cast<int>(rng() % 301) : 5 + static_cast<int>(rng() % 76);
      auto forked = Wall::now();
      pid_t pid = ::fork();
      if (pid == 0) {
        // Only async-signal-safe calls: the parent has threads.
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 8) != 0)
          ::_exit(3);
        timespec ts{0, life_ms * 1000000L};
        ::nanosleep(&ts, nullptr);
        ::_exit(0);
      }
      if (pid > 0) {
        std::lock_guard lock(mu_);
        lives_[port].push_back({forked, std::nullopt});
        children_.push_back({pid, port});
        ++started_;
      }
      next += std::chrono::microseconds(1000000 / kPerSecond);
      std::this_thread::sleep_until(next);
    }
  }

  // Each child by its pid (never waitpid(-1): the test's own portman runs are children too).
  void reap_loop() {
    for (;;) {
      bool stopping = stop_;
      {
        std::lock_guard lock(mu_);
        for (auto it = children_.begin(); it != children_.end();) {
          int status = 0;
          if (::waitpid(it->first, &status, WNOHANG) == it->first) {
            lives_[it->second].back().reaped = Wall::now();
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed_;
            it = children_.erase(it);
          } else {
            ++it;
          }
        }
        if (stopping && children_.empty()) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<int, std::vector<Life>> lives_;       // by port
  std::vector<std::pair<pid_t, int>> children_;  // pid, port: not yet reaped
  std::atomic<int> started_{0}, failed_{0};
  std::thread forker_, reaper_;
};

int churn_seconds() {
  const char* s = std::getenv("PORTMAN_FAULT_SECONDS");
  int n = s ? std::atoi(s) : 0;
  return n > 0 ? n : 12;
}

// Skips unless this portman loads its BPF owner source here.
void require_bpf(const std::string& reg) {
  auto r = itest::portman(
      {"scan", "--json", "--no-collector.docker", "--owners.method", "bpf", "--registry", reg});
  if (r.code == 2 && r.err.find("built without BPF") != std::string::npos)
    portman::test::skip_test("portman was built without BPF (clang or bpftool missing)");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const json scan = r.json();  // kept: a range-for over r.json()[...] would outlive it
  for (const auto& c : scan["collectors"])
    if (c["collector"] == "owners" && !c["success"].get<bool>()) {
      std::string why = c["error"];
      if (why.find("cannot load the BPF owners iterator") != std::string::npos)
        portman::test::skip_test(why.c_str());
      FAIL(why);
    }
}

void scans_during_churn(const std::string& method) {
  TempDir dir;
  const std::string reg = (dir / "reg.json").string();
  itest::write_file(reg, R"({"allocations": {"7000": {"service": "stays"}}})");
  if (method == "bpf") require_bpf(reg);
  itest::Listener stays({"tcp:127.0.0.1:7000"});

  // Processes root cannot read on this machine before the churn (a sandbox's own): the churn
  // must add none.
  int unreadable_before = 0;
  {
    auto quiet = itest::portman(
        {"scan", "--json", "--no-collector.docker", "--owners.method", method, "--registry", reg});
    REQUIRE(quiet.code == 0);
    unreadable_before = quiet.json()["processes_unreadable"];
  }
  Churn churn;
  const auto end = Clock::now() + std::chrono::seconds(churn_seconds());
  int scans = 0, churn_findings = 0, stale = 0, max_ms = 0;
  std::vector<int> durations;
  while (Clock::now() < end) {
    auto start = Clock::now();
    itest::RunResult r = itest::portman(
        {"scan", "--json", "--no-collector.docker", "--owners.method", method, "--registry", reg});
    durations.push_back(static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()));
    ++scans;
    INFO("scan " << scans << ": exit " << r.code << ", stderr: " << r.err);
    REQUIRE(r.code == 0);
    CHECK(r.err.empty());
    json j = json::parse(r.out);
    for (const auto& c : j["collectors"]) {
      INFO(c.dump());
      CHECK(c["success"].get<bool>());
    }
    CHECK(j["notes"].empty());
    CHECK(j["processes_unreadable"] <= unreadable_before);
    CHECK(j["owner_source"] == method);
    bool saw_stays = false;
    for (const auto& s : j["listening"])
      saw_stays = saw_stays || (s["port"] == 7000 && s["process"] == "test_listener");
    CHECK(saw_stays);
    for (const auto& f : j["findings"]) {
      if (f["kind"] != "unregistered") continue;
      int port = f["port"];
      if (port < kFirstPort || port >= kFirstPort + kPorts) continue;
      ++churn_findings;
      auto gone = churn.gone_for(port, sockets_seen_at(j));
      if (gone && *gone > kSlack) {
        ++stale;
        WARN("scan " << scans << " (" << durations.back() << " ms): port " << port
                     << " reported; its listener had gone "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(*gone).count()
                     << " ms before the scan's last look at the sockets");
      }
    }
  }
  churn.stop();
  std::sort(durations.begin(), durations.end());
  max_ms = durations.empty() ? 0 : durations.back();
  WARN(method << ": " << scans << " scans in " << churn_seconds() << " s, median "
              << durations[durations.size() / 2] << " ms, slowest " << max_ms << " ms; "
              << churn.started() << " listeners started (" << churn.started() / churn_seconds()
              << " a second); " << churn_findings << " findings for churn ports, " << stale
              << " for sockets already gone");
  CHECK(churn.failed_to_listen() == 0);
  // Forks fall behind on a loaded machine (the rate reached is in the warning above); a tenth
  // of the rate still makes processes exit during every scan.
  CHECK(churn.started() >= kPerSecond * churn_seconds() / 10);
  CHECK(churn_findings > 0);  // the scans did see the churn: the check below means something
  CHECK(stale == 0);
}

}  // namespace

TEST_CASE("faults: scans while 200 listeners a second come and go (owners from /proc)") {
  scans_during_churn("procfs");
}

TEST_CASE("faults: scans while 200 listeners a second come and go (owners from BPF)", "[bpf]") {
  scans_during_churn("bpf");
}

TEST_CASE("faults: a listener whose process exits during the scan is not reported") {
  // The deterministic half: processes that hold a listener and exit exactly while the owners
  // are read. A thousand sleeping processes make the walk of /proc long enough to land in.
  TempDir dir;
  const std::string reg = (dir / "reg.json").string();
  itest::write_file(reg, R"({"allocations": {}})");
  std::vector<pid_t> sleepers;
  for (int i = 0; i < 1000; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::pause();
      ::_exit(0);
    }
    sleepers.push_back(pid);
  }
  int reported_gone = 0, gone_during_scan = 0;
  for (int round = 0; round < 10; ++round) {
    // 20 listeners, stopped (killed and reaped) one every 2 ms from the scan's start.
    const int first = 21000 + round * 20;
    std::vector<std::unique_ptr<itest::Listener>> listeners;
    for (int i = 0; i < 20; ++i)
      listeners.push_back(std::make_unique<itest::Listener>(
          std::vector<std::string>{"tcp:127.0.0.1:" + std::to_string(first + i)}));
    std::vector<Wall::time_point> stopped(listeners.size());
    const auto start = Wall::now();
    std::thread killer([&] {
      for (std::size_t i = 0; i < listeners.size(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        listeners[i]->stop();
        stopped[i] = Wall::now();
      }
    });
    itest::RunResult r =
        itest::portman({"scan", "--json", "--no-collector.docker", "--registry", reg});
    killer.join();
    INFO(r.err);
    REQUIRE(r.code == 0);
    json j = json::parse(r.out);
    for (const auto& c : j["collectors"]) CHECK(c["success"].get<bool>());
    const auto answered = sockets_seen_at(j) - kSlack;
    for (std::size_t i = 0; i < stopped.size(); ++i)
      gone_during_scan += stopped[i] > start && stopped[i] < answered;
    // A listener stopped before the scan's last look at the sockets must not be in it.
    for (const auto& s : j["listening"]) {
      int port = s["port"];
      if (port >= first && port < first + 20 && stopped[port - first] < answered) {
        ++reported_gone;
        UNSCOPED_INFO("round " << round << ": port " << port << " reported after it had gone");
      }
    }
  }
  WARN(gone_during_scan << " listeners went while a scan ran; " << reported_gone
                        << " of them were reported");
  CHECK(gone_during_scan > 0);
  for (pid_t pid : sleepers) ::kill(pid, SIGKILL);
  for (pid_t pid : sleepers) ::waitpid(pid, nullptr, 0);
  CHECK(reported_gone == 0);
}
