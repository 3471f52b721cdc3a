// The fake Dokploy (fake_dokploy.cpp) as a test fixture: started with its options on
// 127.0.0.1:0, stopped when destroyed.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace itest {

class FakeDokploy {
 public:
  // `args`: --layout v2, --mode 401, --fail ID... (see fake_dokploy.cpp).
  explicit FakeDokploy(const std::vector<std::string>& args = {},
                       const std::string& exe = FAKE_DOKPLOY_BIN) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      std::vector<char*> argv = {const_cast<char*>(exe.c_str())};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(exe.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    port_ = line.empty() ? 0 : std::stoi(line);
    if (port_ <= 0) {
      stop();
      throw std::runtime_error("fake_dokploy did not start: " + exe);
    }
  }
  FakeDokploy(const FakeDokploy&) = delete;
  FakeDokploy& operator=(const FakeDokploy&) = delete;
  ~FakeDokploy() { stop(); }

  int port() const { return port_; }
  // The base URL, as dokploy.url takes it (without /api).
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace itest
