// hoststate: builds a host state for the portman benchmark and keeps it alive until killed.
//
//   hoststate --tcp N --udp M --listeners P --idle I --files F [--seed S] [--layout FILE]
//             [--order shuffled|owners-first|owners-last]
//
// Forks P listener processes that together hold N TCP listeners and M bound UDP sockets (spread
// round-robin, so every listener holds sockets across the whole port range), and I idle
// processes that each hold F open files (/dev/null, /dev/zero, a temp file, a pipe, a unix
// socketpair) and no listening socket. Listener and idle processes are forked in a shuffled
// order, so that in pid order the socket owners are mixed among idle processes and not first
// (--order owners-first / owners-last fork all listeners before / after the idle processes, to
// show how much the pid order matters; the benchmark's figures use the shuffled default).
//
// Addresses: ports from 20000 up; most sockets on 127.0.0.1, every fifth port also on ::1
// (IPV6_V6ONLY), every twentieth port on 0.0.0.0 alone. When the ports run out the next loopback
// address (127.0.0.2, ...) takes over. TCP and UDP use separate port sequences.
//
// When everything is in place it writes the layout (one line per socket "pid proto addr port",
// one line per idle process "pid idle") to --layout, then prints "READY <pid>" on stdout.
// SIGTERM/SIGINT: kills and reaps every child, then exits 0. Children also have
// PR_SET_PDEATHSIG(SIGKILL), so a SIGKILL of the parent does not leave them behind either.
//
// Build: g++ -std=c++20 -O2 -o hoststate hoststate.cpp
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Spec {
  bool tcp;
  int family;  // AF_INET or AF_INET6
  std::string addr;
  int port;
};

struct Options {
  long tcp = 2000, udp = 200, listeners = 50, idle = 300, files = 30;
  unsigned seed = 42;
  std::string layout;
  std::string order = "shuffled";
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "hoststate: %s: %s\n", what, std::strerror(errno));
  std::_Exit(1);
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: hoststate --tcp N --udp M --listeners P --idle I --files F "
               "[--seed S] [--layout FILE] [--order shuffled|owners-first|owners-last]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage();
    const char* v = argv[++i];
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    bool numeric = end && *end == '\0' && n >= 0;
    if (a == "--layout") {
      o.layout = v;
    } else if (a == "--order") {
      o.order = v;
      if (o.order != "shuffled" && o.order != "owners-first" && o.order != "owners-last") usage();
    } else if (!numeric) {
      usage();
    } else if (a == "--tcp") {
      o.tcp = n;
    } else if (a == "--udp") {
      o.udp = n;
    } else if (a == "--listeners") {
      o.listeners = n;
    } else if (a == "--idle") {
      o.idle = n;
    } else if (a == "--files") {
      o.files = n;
    } else if (a == "--seed") {
      o.seed = static_cast<unsigned>(n);
    } else {
      usage();
    }
  }
  if (o.listeners == 0 && o.tcp + o.udp > 0) usage();
  return o;
}

// The address/port plan for `count` sockets of one protocol.
void plan(bool tcp, long count, std::vector<Spec>& out) {
  int port = 20000;
  int v4_host = 1;  // 127.0.0.<v4_host>
  long made = 0;
  auto loop4 = [&] { return "127.0.0." + std::to_string(v4_host); };
  while (made < count) {
    if (port > 65535) {
      port = 20000;
      ++v4_host;
    }
    if (v4_host == 1 && port % 20 == 0) {
      out.push_back({tcp, AF_INET, "0.0.0.0", port});
      ++made;
    } else {
      out.push_back({tcp, AF_INET, loop4(), port});
      ++made;
      if (v4_host == 1 && port % 5 == 0 && made < count) {
        out.push_back({tcp, AF_INET6, "::1", port});
        ++made;
      }
    }
    ++port;
  }
}

void open_socket(const Spec& s) {
  int fd = ::socket(s.family, (s.tcp ? SOCK_STREAM : SOCK_DGRAM), 0);
  if (fd < 0) die("socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (s.family == AF_INET6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(s.port));
    ::inet_pton(AF_INET6, s.addr.c_str(), &a.sin6_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die(("bind [" + s.addr + "]:" + std::to_string(s.port)).c_str());
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(s.port));
    ::inet_pton(AF_INET, s.addr.c_str(), &a.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die(("bind " + s.addr + ":" + std::to_string(s.port)).c_str());
  }
  if (s.tcp && ::listen(fd, 16) != 0) die("listen");
}

void open_idle_files(long files, const std::string& temp_file) {
  for (long i = 0; i < files;) {
    switch (i % 5) {
      case 0:
        if (::open("/dev/null", O_RDONLY) < 0) die("open /dev/null");
        ++i;
        break;
      case 1:
        if (::open("/dev/zero", O_RDONLY) < 0) die("open /dev/zero");
        ++i;
        break;
      case 2:
        if (::open(temp_file.c_str(), O_RDONLY) < 0) die("open temp file");
        ++i;
        break;
      case 3: {
        int p[2];
        if (::pipe(p) != 0) die("pipe");
        i += 2;
        break;
      }
      default: {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair");
        i += 2;
        break;
      }
    }
  }
}

std::vector<pid_t> g_children;
volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

void kill_children() {
  for (pid_t p : g_children) ::kill(p, SIGKILL);
  for (pid_t p : g_children) {
    while (::waitpid(p, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  // If whoever started us dies without stopping us, stop (and so clean up) all the same.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);

  // Enough descriptors for the biggest listener; children inherit the limit.
  long per_listener = o.listeners ? (o.tcp + o.udp + o.listeners - 1) / o.listeners : 0;
  rlim_t want = static_cast<rlim_t>(std::max(per_listener, o.files) + 64);
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want) {
    rlimit nrl{want, std::max(want, rl.rlim_max)};
    if (::setrlimit(RLIMIT_NOFILE, &nrl) != 0) die("setrlimit RLIMIT_NOFILE");
  }

  std::vector<Spec> specs;
  plan(true, o.tcp, specs);
  plan(false, o.udp, specs);

  // Roles in fork order: 'L' listener k, 'I' idle, shuffled with a fixed seed.
  std::vector<long> roles;  // >= 0: listener index, -1: idle
  for (long k = 0; k < o.listeners; ++k) roles.push_back(k);
  for (long k = 0; k < o.idle; ++k) roles.push_back(-1);
  std::mt19937 rng(o.seed);
  std::shuffle(roles.begin(), roles.end(), rng);
  if (o.order != "shuffled") {
    bool first = o.order == "owners-first";
    std::stable_partition(roles.begin(), roles.end(),
                          [first](long k) { return first ? k >= 0 : k < 0; });
  }

  char temp_dir[] = "/tmp/hoststate.XXXXXX";
  if (!::mkdtemp(temp_dir)) die("mkdtemp");
  std::string temp_file = std::string(temp_dir) + "/held";
  {
    int fd = ::open(temp_file.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd < 0) die("create temp file");
    ::close(fd);
  }

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);

  int ready[2];
  if (::pipe(ready) != 0) die("pipe");
  pid_t parent = ::getpid();
  std::vector<pid_t> pid_of_role(roles.size());
  g_children.reserve(roles.size());

  for (std::size_t r = 0; r < roles.size(); ++r) {
    pid_t pid = ::fork();
    if (pid < 0) {
      int err = errno;
      kill_children();
      errno = err;
      die("fork");
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) std::_Exit(0);
      signal(SIGTERM, SIG_DFL);
      signal(SIGINT, SIG_DFL);
      signal(SIGHUP, SIG_DFL);
      ::close(ready[0]);
      long k = roles[r];
      if (k >= 0) {
        ::prctl(PR_SET_NAME, "bench-listen");
        for (std::size_t i = static_cast<std::size_t>(k); i < specs.size();
             i += static_cast<std::size_t>(o.listeners))
          open_socket(specs[i]);
      } else {
        ::prctl(PR_SET_NAME, "bench-idle");
        open_idle_files(o.files, temp_file);
      }
      char ok = 'k';
      if (::write(ready[1], &ok, 1) != 1) std::_Exit(1);
      ::close(ready[1]);
      for (;;) ::pause();
    }
    g_children.push_back(pid);
    pid_of_role[r] = pid;
  }
  ::close(ready[1]);

  // Every child writes one byte when ready; one that dies first closes its end without writing.
  std::size_t ready_count = 0;
  while (ready_count < roles.size()) {
    char buf[4096];
    ssize_t n = ::read(ready[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      if (g_stop) break;
      continue;
    }
    if (n <= 0) break;
    ready_count += static_cast<std::size_t>(n);
  }
  ::close(ready[0]);
  if (ready_count < roles.size()) {
    std::fprintf(stderr, "hoststate: only %zu of %zu children got ready\n", ready_count,
                 roles.size());
    kill_children();
    ::unlink(temp_file.c_str());
    ::rmdir(temp_dir);
    return 1;
  }

  if (!o.layout.empty()) {
    FILE* f = std::fopen(o.layout.c_str(), "w");
    if (!f) die("open layout");
    std::vector<pid_t> listener_pid(static_cast<std::size_t>(o.listeners));
    for (std::size_t r = 0; r < roles.size(); ++r) {
      if (roles[r] >= 0)
        listener_pid[static_cast<std::size_t>(roles[r])] = pid_of_role[r];
      else
        std::fprintf(f, "%d idle\n", pid_of_role[r]);
    }
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const Spec& s = specs[i];
      std::fprintf(f, "%d %s %s %d\n", listener_pid[i % static_cast<std::size_t>(o.listeners)],
                   s.tcp ? "tcp" : "udp", s.addr.c_str(), s.port);
    }
    std::fclose(f);
  }

  std::printf("READY %d\n", parent);
  std::fflush(stdout);

  sigset_t stop_set, none;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGTERM);
  sigaddset(&stop_set, SIGINT);
  sigaddset(&stop_set, SIGHUP);
  sigemptyset(&none);
  ::sigprocmask(SIG_BLOCK, &stop_set, nullptr);  // no signal lost between the test and the wait
  while (!g_stop) ::sigsuspend(&none);
  kill_children();
  ::unlink(temp_file.c_str());
  ::rmdir(temp_dir);
  return 0;
}
