// Every integration test process starts in a fresh network namespace with only loopback up, so
// that listeners elsewhere on the machine never leak into what a test sees. Needs root.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace {

bool loopback_up() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (::unshare(CLONE_NEWNET) != 0 || !loopback_up()) {
    std::fprintf(stderr, "integration tests need root to make a network namespace: %s\n",
                 std::strerror(errno));
    return 1;
  }
  return Catch::Session().run(argc, argv);
}
