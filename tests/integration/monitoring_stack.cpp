#include "monitoring_stack.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "harness.hpp"

namespace itest {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("free_port: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("free_port: bind failed");
  return ntohs(addr.sin_port);
}

bool installed(const std::string& program) {
  return run({"sh", "-c", "command -v " + program}).code == 0;
}

Daemon::Daemon(const std::vector<std::string>& argv, fs::path log) : log_(std::move(log)) {
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    int out = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
}

bool Daemon::running() {
  if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) != 0) pid_ = -1;  // exited: reaped
  return pid_ > 0;
}

std::string Daemon::log() const {
  return read_file(log_);
}

Daemon::~Daemon() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string rules_with_for(const std::string& rules, const std::string& duration, int& rewritten) {
  std::istringstream in(rules);
  std::string line, out;
  rewritten = 0;
  while (std::getline(in, line)) {
    auto key = line.find_first_not_of(' ');
    if (key != std::string::npos && line.compare(key, 4, "for:") == 0) {
      line = line.substr(0, key) + "for: " + duration;
      ++rewritten;
    }
    out += line + '\n';
  }
  return out;
}

namespace {

// Polls `url` until it answers 200, for at most 15 s; throws with the program's log otherwise.
void wait_ready(const std::string& url, Daemon& daemon, const std::string& what) {
  auto deadline = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < deadline) {
    if (curl({"-o", "/dev/null", "-w", "%{http_code}", url}).out == "200") return;
    if (!daemon.running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error(what + " did not become ready: " + daemon.log());
}

}  // namespace

Prometheus::Prometheus(const fs::path& dir, const std::string& config, int port)
    : port_(port),
      daemon_(
          [&] {
            write_file(dir / "prometheus.yml", config);
            return std::vector<std::string>{
                "prometheus", "--config.file=" + (dir / "prometheus.yml").string(),
                "--storage.tsdb.path=" + (dir / "tsdb").string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(port)};
          }(),
          dir / "prometheus.log") {
  wait_ready(url("/-/ready"), daemon_, "prometheus");
}

std::string Prometheus::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

nlohmann::json Prometheus::get(const std::string& path,
                               const std::vector<std::string>& params) const {
  std::vector<std::string> args = {"-G"};
  for (const auto& p : params) args.insert(args.end(), {"--data-urlencode", p});
  args.push_back(url(path));
  auto r = curl(args);
  if (r.code != 0) return "curl exit " + std::to_string(r.code) + " on " + path;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded()) return "not JSON from " + path + ": " + r.out;
  return j;
}

nlohmann::json Prometheus::query(const std::string& promql) const {
  return get("/api/v1/query", {"query=" + promql});
}

Alertmanager::Alertmanager(const fs::path& dir, const std::string& config, int port)
    : port_(port),
      daemon_(
          [&] {
            write_file(dir / "alertmanager.yml", config);
            // Clustering off: with it on, the first notification waits ~10 s for gossip.
            return std::vector<std::string>{
                "prometheus-alertmanager", "--config.file=" + (dir / "alertmanager.yml").string(),
                "--storage.path=" + (dir / "alertmanager").string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(port),
                "--cluster.listen-address="};
          }(),
          dir / "alertmanager.log") {
  wait_ready("http://127.0.0.1:" + std::to_string(port_) + "/-/ready", daemon_, "alertmanager");
}

}  // namespace itest
