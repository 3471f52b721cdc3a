// agent_netlink: the netlink dump alone, as the floor for the agent's scan work per scrape.
//
//   agent_netlink [--runs N]
//
// Makes the same sock_diag requests as portman's sockets collector (one NETLINK_SOCK_DIAG socket;
// inet_diag_req_v2 dumps of TCP in LISTEN and UDP in CLOSE, IPv4 then IPv6, no extensions) N
// times (default 200) after 5 warmup rounds, walks every reply message and keeps each listening
// socket's inode, port and address (inet_ntop, as portman does) - and nothing else: no /proc, no
// owners, no findings, no output. Prints key=value lines:
//   sockets=  sockets seen in the last round
//   runs=     timed rounds
//   wall_median_ms= wall_p90_ms=  per round (all four dumps)
//   cpu_ms=   process CPU time (user + system) per round, averaged over the runs
//   user_ms= sys_ms=   the same split (getrusage)
//   syscalls_per_round=  socket + sendto + recv calls of one round
//
// Build: g++ -std=c++20 -O2 -o agent_netlink agent_netlink.cpp
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::uint8_t kStateClose = 7, kStateListen = 10;

struct Sock {
  std::uint64_t inode;
  std::uint16_t port;
  std::string address;
};

long g_syscalls = 0;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "agent_netlink: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

void dump(int fd, int family, int proto, std::uint32_t seq, std::vector<char>& buf,
          std::vector<Sock>& out) {
  struct {
    nlmsghdr hdr;
    inet_diag_req_v2 req;
  } msg{};
  msg.hdr.nlmsg_len = sizeof msg;
  msg.hdr.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.hdr.nlmsg_seq = seq;
  msg.req.sdiag_family = static_cast<std::uint8_t>(family);
  msg.req.sdiag_protocol = static_cast<std::uint8_t>(proto);
  msg.req.idiag_states = proto == IPPROTO_TCP ? (1U << kStateListen) : (1U << kStateClose);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ++g_syscalls;
  if (::sendto(fd, &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    die("sendto");
  for (;;) {
    ++g_syscalls;
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) die("recv");
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return;
      if (h->nlmsg_type == NLMSG_ERROR) {
        errno = -*static_cast<int*>(NLMSG_DATA(h));
        die("dump refused");
      }
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
      const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      std::uint16_t port = ntohs(m->id.idiag_sport);
      bool listening = proto == IPPROTO_TCP ? m->idiag_state == kStateListen
                                            : m->idiag_state == kStateClose && port != 0;
      if (!listening) continue;
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(m->idiag_family, m->id.idiag_src, text, sizeof text);
      out.push_back({m->idiag_inode, port, text});
    }
  }
}

double cpu_ms(const rusage& a, const rusage& b, bool user) {
  const timeval& x = user ? a.ru_utime : a.ru_stime;
  const timeval& y = user ? b.ru_utime : b.ru_stime;
  return (static_cast<double>(y.tv_sec - x.tv_sec) * 1e3 +
          static_cast<double>(y.tv_usec - x.tv_usec) / 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 200;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: agent_netlink [--runs N]\n");
      return 2;
    }
  }
  if (runs < 1) runs = 1;
  std::vector<char> buf(64 * 1024);
  std::vector<Sock> socks;
  std::vector<double> wall;
  long syscalls_last = 0;
  rusage r0{}, r1{};
  for (int round = -5; round < runs; ++round) {
    if (round == 0) getrusage(RUSAGE_SELF, &r0);
    auto t0 = std::chrono::steady_clock::now();
    long before = g_syscalls;
    // A fresh socket per round, as portman opens one per scan.
    ++g_syscalls;
    int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) die("socket");
    socks.clear();
    std::uint32_t seq = 1;
    for (int proto : {IPPROTO_TCP, IPPROTO_UDP})
      for (int family : {AF_INET, AF_INET6}) dump(fd, family, proto, seq++, buf, socks);
    ::close(fd);
    ++g_syscalls;
    auto t1 = std::chrono::steady_clock::now();
    syscalls_last = g_syscalls - before;
    if (round >= 0) wall.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  getrusage(RUSAGE_SELF, &r1);
  std::sort(wall.begin(), wall.end());
  auto pct = [&](double p) {
    return wall[std::min(wall.size() - 1, static_cast<std::size_t>(p * (wall.size() - 1) + 0.5))];
  };
  double user = cpu_ms(r0, r1, true) / runs, sys = cpu_ms(r0, r1, false) / runs;
  std::printf("sockets=%zu\nruns=%d\nwall_median_ms=%.3f\nwall_p90_ms=%.3f\n", socks.size(), runs,
              pct(0.5), pct(0.9));
  std::printf("cpu_ms=%.3f\nuser_ms=%.3f\nsys_ms=%.3f\nsyscalls_per_round=%ld\n", user + sys, user,
              sys, syscalls_last);
  return 0;
}
