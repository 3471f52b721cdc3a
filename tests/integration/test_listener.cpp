// A process that holds the sockets an integration test asks for, then waits to be killed.
//   test_listener [--uid N] [--euid N] [--name NAME] [--reuseport] [--v6only] [--fork N]
//                 [--fd N] SPEC...
//   SPEC: tcp:ADDR:PORT or udp:ADDR:PORT (ADDR numeric; IPv6 in brackets: tcp:[::1]:8080), or
//   udpclient:ADDR:PORT: a UDP client that sends one datagram there without binding, so that the
//   kernel gives it a wildcard address and an ephemeral port (IPv4). PORT may be a range,
//   FIRST-LAST: one socket on each port of it (the fd limit is raised to allow them).
// --fd N moves the sockets to fds N, N+1, ... (a table grown past its first 64 slots).
// --euid N: once the sockets are open, run with effective uid N (the real one stays); --name
// NAME: then rename the process (what /proc/PID/comm shows).
// Prints "ready" on stdout once every socket is bound (and listening), so tests never race it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "test_listener: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

int open_socket(const std::string& spec, bool reuseport, bool v6only) {
  auto colon = spec.find(':');
  std::string proto = spec.substr(0, colon);
  std::string rest = spec.substr(colon + 1);
  auto last = rest.rfind(':');
  std::string addr = rest.substr(0, last);
  int port = std::atoi(rest.c_str() + last + 1);
  bool v6 = !addr.empty() && addr.front() == '[';
  if (v6) addr = addr.substr(1, addr.size() - 2);
  if (proto == "udpclient") {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) die("socket " + spec);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, addr.c_str(), &to.sin_addr) != 1) die("address " + addr);
    if (::sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) != 1)
      die("sendto " + spec);
    return fd;
  }
  int type = proto == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, type, 0);
  if (fd < 0) die("socket " + spec);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuseport && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    die("SO_REUSEPORT");
  if (v6) {
    int flag = v6only ? 1 : 0;
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &flag, sizeof flag) != 0) die("IPV6_V6ONLY");
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, addr.c_str(), &sa.sin6_addr) != 1) die("address " + addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) die("bind " + spec);
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1) die("address " + addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) die("bind " + spec);
  }
  if (type == SOCK_STREAM && ::listen(fd, 16) != 0) die("listen " + spec);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
  bool reuseport = false, v6only = false;
  int workers = 0;
  int first_fd = -1;
  long uid = -1, euid = -1;
  std::string name;
  std::vector<std::string> specs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--reuseport")
      reuseport = true;
    else if (a == "--v6only")
      v6only = true;
    else if (a == "--uid" && i + 1 < argc)
      uid = std::atol(argv[++i]);
    else if (a == "--euid" && i + 1 < argc)
      euid = std::atol(argv[++i]);
    else if (a == "--name" && i + 1 < argc)
      name = argv[++i];
    else if (a == "--fork" && i + 1 < argc)
      workers = std::atoi(argv[++i]);
    else if (a == "--fd" && i + 1 < argc)
      first_fd = std::atoi(argv[++i]);
    else
      specs.push_back(a);
  }
  // PROTO:ADDR:FIRST-LAST: one spec per port.
  std::vector<std::string> ports;
  for (const auto& s : specs) {
    auto last = s.rfind(':');
    auto dash = s.find('-', last);
    if (dash == std::string::npos) {
      ports.push_back(s);
      continue;
    }
    int first = std::atoi(s.c_str() + last + 1), end = std::atoi(s.c_str() + dash + 1);
    for (int p = first; p <= end; ++p) ports.push_back(s.substr(0, last + 1) + std::to_string(p));
  }
  specs = std::move(ports);
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < specs.size() + 64) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, specs.size() + 64);
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  if (uid >= 0) {
    // Create the sockets as that user, as a service started under User= would.
    if (::setgid(static_cast<gid_t>(uid)) != 0 || ::setuid(static_cast<uid_t>(uid)) != 0)
      die("setuid");
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // setuid clears it
    // setuid also made us non-dumpable (our /proc entries now belong to root); a process that the
    // user started itself is dumpable, and that is what this stands for.
    ::prctl(PR_SET_DUMPABLE, 1);
  }
  std::vector<int> fds;
  for (const auto& s : specs) {
    int fd = open_socket(s, reuseport, v6only);
    if (first_fd >= 0) {
      int target = first_fd + static_cast<int>(fds.size());
      if (::dup2(fd, target) != target) die("dup2 " + s);
      ::close(fd);
      fd = target;
    }
    fds.push_back(fd);
  }
  if (euid >= 0 &&
      ::setresuid(static_cast<uid_t>(-1), static_cast<uid_t>(euid), static_cast<uid_t>(-1)) != 0)
    die("setresuid");
  if (!name.empty()) ::prctl(PR_SET_NAME, name.c_str());
  // Pre-forking server: the workers inherit the very same sockets.
  for (int w = 0; w < workers; ++w) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      for (;;) ::pause();
    }
  }
  std::printf("ready %d\n", static_cast<int>(::getpid()));
  std::fflush(stdout);
  for (;;) ::pause();
}
