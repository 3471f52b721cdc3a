// A real dockerd for the Docker tests, with its own data root, exec root, pid file and socket in
// a scratch folder, started inside the test's network namespace (its bridge, iptables chains and
// ip_forward stay there) so that nothing else on the machine is touched. Slow to start (about a
// second, plus containerd): a test case starts one and checks everything it can against it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "harness.hpp"

namespace itest {

struct DockerdOptions {
  bool userland_proxy = true;  // false: dockerd holds published ports itself (DNAT)
};

class Dockerd {
 public:
  // Starts dockerd and imports kImage from busybox-static. Skips the test (exit 77) when dockerd
  // or busybox is missing or the daemon does not come up.
  explicit Dockerd(DockerdOptions options = {});
  Dockerd(const Dockerd&) = delete;
  Dockerd& operator=(const Dockerd&) = delete;
  // Removes every container, leaves the Swarm, stops dockerd and its containerd, unmounts what
  // they left and removes the folder.
  ~Dockerd();

  // busybox httpd serving /www on port 80 (CMD), imported without a registry.
  static constexpr const char* kImage = "portman-tiny:local";

  std::string host() const { return "unix://" + socket_.string(); }
  const std::filesystem::path& socket() const { return socket_; }
  // Runs the docker CLI against this daemon.
  RunResult docker(const std::vector<std::string>& args) const;
  // `docker run -d --init ARGS...`; skips the test when the first container cannot start here
  // (a runtime without cgroups or overlayfs), fails it for any later one.
  std::string run(const std::vector<std::string>& args);
  // `docker swarm init` on loopback.
  void swarm_init();

 private:
  void import_image();
  void stop_daemon();

  std::filesystem::path dir_, socket_;
  pid_t pid_ = -1;
  bool swarm_ = false;
  bool ran_one_ = false;
};

// Waits until something accepts TCP connections on 127.0.0.1:port, for at most `seconds`.
bool wait_for_port(int port, double seconds);

}  // namespace itest
