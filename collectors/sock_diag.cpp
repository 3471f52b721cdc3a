#include "collectors/sock_diag.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "collectors/address_text.hpp"
#include "libportman/unique_fd.hpp"

namespace portman {
namespace {

// Kernel socket states (include/net/tcp_states.h); UDP reuses them: unconnected = TCP_CLOSE.
constexpr std::uint8_t kStateClose = 7;
constexpr std::uint8_t kStateListen = 10;

// Large enough for any dump datagram the kernel builds (it caps them near 32 KiB); a bigger
// one is still received whole because recv_datagram() peeks its size first.
constexpr std::size_t kRecvBufferSize = 64 * 1024;

Error invalid(std::string what) {
  return make_error(ErrorKind::invalid_data, "sock_diag: malformed reply: " + std::move(what));
}

Error sys_error(const char* what, int err) {
  return make_error(ErrorKind::io, std::string("sock_diag: ") + what + ": " + std::strerror(err));
}

// The largest errno the kernel reports (MAX_ERRNO in linux/err.h).
constexpr int kMaxErrno = 4095;

// memcpy instead of a cast: the bytes may not be aligned for T.
template <class T>
T load(std::span<const std::byte> bytes) {
  T value;
  std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

// The attributes after inet_diag_msg: only INET_DIAG_SKV6ONLY matters, but every length is
// checked so a corrupt attribute cannot send us past the message.
Status parse_attributes(std::span<const std::byte> attrs, bool& v6only) {
  while (!attrs.empty()) {
    if (attrs.size() < sizeof(nlattr)) return invalid("truncated attribute header");
    const auto attr = load<nlattr>(attrs);
    if (attr.nla_len < sizeof(nlattr) || attr.nla_len > attrs.size()) {
      return invalid("attribute length " + std::to_string(attr.nla_len) + " out of bounds");
    }
    if ((attr.nla_type & NLA_TYPE_MASK) == INET_DIAG_SKV6ONLY) {
      if (attr.nla_len < sizeof(nlattr) + 1) return invalid("empty INET_DIAG_SKV6ONLY");
      v6only = attrs[sizeof(nlattr)] != std::byte{0};
    }
    attrs = attrs.subspan(std::min<std::size_t>(NLA_ALIGN(attr.nla_len), attrs.size()));
  }
  return {};
}

Status parse_entry(std::span<const std::byte> payload, Protocol proto,
                   std::vector<ListeningSocket>& out) {
  if (payload.size() < sizeof(inet_diag_msg)) {
    return invalid("inet_diag_msg of " + std::to_string(payload.size()) + " bytes");
  }
  const auto msg = load<inet_diag_msg>(payload);
  if (msg.idiag_family != AF_INET && msg.idiag_family != AF_INET6) {
    return invalid("unexpected address family " + std::to_string(msg.idiag_family));
  }
  bool v6only = false;
  const std::size_t attrs_at = std::min<std::size_t>(NLMSG_ALIGN(sizeof msg), payload.size());
  if (auto st = parse_attributes(payload.subspan(attrs_at), v6only); !st) return st;

  const std::uint16_t port = ntohs(msg.id.idiag_sport);
  const bool listening = proto == Protocol::tcp ? msg.idiag_state == kStateListen
                                                : msg.idiag_state == kStateClose && port != 0;
  if (!listening) return {};

  char text[INET6_ADDRSTRLEN];
  auto address = address_text(msg.idiag_family, msg.id.idiag_src, text);
  if (!address) return invalid("unprintable address");
  ListeningSocket& s = out.emplace_back();
  s.protocol = proto;
  s.family = msg.idiag_family == AF_INET ? Family::ipv4 : Family::ipv6;
  s.address = *address;
  s.port = port;
  s.v6only = s.family == Family::ipv6 && v6only;
  s.inode = msg.idiag_inode;
  s.uid = msg.idiag_uid;
  return {};
}

}  // namespace

Status parse_sock_diag(std::span<const std::byte> datagram, Protocol proto,
                       std::vector<ListeningSocket>& out, SockDiagProgress& progress) {
  std::size_t offset = 0;
  while (offset < datagram.size()) {
    const std::size_t left = datagram.size() - offset;
    // Built only on the error paths: a dump can hold 50,000 messages.
    const auto where = [offset] { return " at offset " + std::to_string(offset); };
    if (left < sizeof(nlmsghdr)) return invalid("truncated netlink header" + where());
    const auto hdr = load<nlmsghdr>(datagram.subspan(offset));
    if (hdr.nlmsg_len < sizeof(nlmsghdr) || hdr.nlmsg_len > left) {
      return invalid("netlink length " + std::to_string(hdr.nlmsg_len) + where() + " in a " +
                     std::to_string(datagram.size()) + "-byte datagram");
    }
    const auto payload =
        datagram.subspan(offset + sizeof(nlmsghdr), hdr.nlmsg_len - sizeof(nlmsghdr));

    switch (hdr.nlmsg_type) {
      case NLMSG_NOOP:
        break;
      case NLMSG_ERROR: {
        if (payload.size() < sizeof(int)) return invalid("truncated NLMSG_ERROR" + where());
        const int err = load<int>(payload);
        if (err == 0) break;  // an acknowledgement, not an error
        // The kernel sends -errno; INT_MIN cannot even be negated.
        if (err < -kMaxErrno || err > kMaxErrno)
          return invalid("NLMSG_ERROR errno " + std::to_string(err) + where());
        progress.nl_errno = err < 0 ? -err : err;
        return sys_error("kernel refused the dump", progress.nl_errno);
      }
      case NLMSG_DONE: {
        progress.done = true;
        // The kernel reports an error that ended the dump early in NLMSG_DONE's payload.
        if (payload.size() >= sizeof(int)) {
          const int err = load<int>(payload);
          if (err < -kMaxErrno) return invalid("NLMSG_DONE errno " + std::to_string(err) + where());
          if (err < 0) {
            progress.nl_errno = -err;
            return sys_error("dump ended with an error", -err);
          }
        }
        return {};  // anything after DONE belongs to no request of ours
      }
      case NLMSG_OVERRUN:
        return make_error(ErrorKind::io, "sock_diag: netlink overrun, data lost");
      case SOCK_DIAG_BY_FAMILY:
        if (auto st = parse_entry(payload, proto, out); !st) return st;
        break;
      default:
        return invalid("unexpected message type " + std::to_string(hdr.nlmsg_type) + where());
    }
    offset += std::min<std::size_t>(NLMSG_ALIGN(hdr.nlmsg_len), left);
  }
  return {};
}

std::vector<std::byte> sock_diag_port_filter(std::uint16_t port) {
  // Each comparison is an op followed by a pseudo-op whose `no` holds the port (host order).
  // yes = next op; no = one op past the end, which makes the program reject the socket.
  const inet_diag_bc_op program[] = {
      {INET_DIAG_BC_S_GE, 8, 20},
      {0, 0, port},
      {INET_DIAG_BC_S_LE, 8, 12},
      {0, 0, port},
  };
  std::vector<std::byte> bytes(sizeof program);
  std::memcpy(bytes.data(), program, sizeof program);
  return bytes;
}

namespace {

struct DumpRequest {
  int family;
  Protocol proto;
  const std::vector<std::byte>* filter;  // null: no bytecode
  std::uint32_t seq;
};

std::vector<std::byte> build_request(const DumpRequest& r) {
  const std::size_t attr_len = r.filter ? NLA_HDRLEN + r.filter->size() : 0;
  const std::size_t total = NLMSG_LENGTH(sizeof(inet_diag_req_v2)) + NLA_ALIGN(attr_len);
  std::vector<std::byte> buf(total);

  nlmsghdr hdr{};
  hdr.nlmsg_len = static_cast<std::uint32_t>(total);
  hdr.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  hdr.nlmsg_seq = r.seq;
  std::memcpy(buf.data(), &hdr, sizeof hdr);

  inet_diag_req_v2 req{};
  req.sdiag_family = static_cast<std::uint8_t>(r.family);
  req.sdiag_protocol = r.proto == Protocol::tcp ? IPPROTO_TCP : IPPROTO_UDP;
  req.idiag_states = r.proto == Protocol::tcp ? (1U << kStateListen) : (1U << kStateClose);
  std::memcpy(buf.data() + NLMSG_HDRLEN, &req, sizeof req);

  if (r.filter) {
    nlattr attr{};
    attr.nla_len = static_cast<std::uint16_t>(attr_len);
    attr.nla_type = INET_DIAG_REQ_BYTECODE;
    std::byte* at = buf.data() + NLMSG_LENGTH(sizeof req);
    std::memcpy(at, &attr, sizeof attr);
    std::memcpy(at + NLA_HDRLEN, r.filter->data(), r.filter->size());
  }
  return buf;
}

// Receives one whole datagram from the kernel, growing `buf` if it is larger (MSG_TRUNC on a
// peek gives the real size). Returns its length; datagrams from other senders are skipped.
Result<std::size_t> recv_datagram(int fd, std::vector<std::byte>& buf, int& sys_errno) {
  for (;;) {
    const ssize_t want = ::recv(fd, buf.data(), buf.size(), MSG_PEEK | MSG_TRUNC);
    if (want < 0) {
      if (errno == EINTR) continue;
      sys_errno = errno;
      return sys_error("recv", errno);
    }
    if (static_cast<std::size_t>(want) > buf.size()) buf.resize(static_cast<std::size_t>(want));

    sockaddr_nl from{};
    socklen_t from_len = sizeof from;
    const ssize_t n =
        ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      sys_errno = errno;
      return sys_error("recv", errno);
    }
    if (from.nl_pid != 0) continue;  // not the kernel
    return static_cast<std::size_t>(n);
  }
}

Status run_dump(int fd, const DumpRequest& r, std::vector<std::byte>& buf,
                std::vector<ListeningSocket>& out, int& sys_errno) {
  const auto request = build_request(r);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    const ssize_t sent = ::sendto(fd, request.data(), request.size(), 0,
                                  reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
    if (sent >= 0) break;
    if (errno == EINTR) continue;
    sys_errno = errno;
    return sys_error("send", errno);
  }

  SockDiagProgress progress;
  while (!progress.done) {
    auto n = recv_datagram(fd, buf, sys_errno);
    if (!n) return n.error();
    auto st = parse_sock_diag(std::span<const std::byte>(buf.data(), *n), r.proto, out, progress);
    if (!st) {
      sys_errno = progress.nl_errno;
      return st;
    }
  }
  return {};
}

}  // namespace

Status fetch_sock_diag(std::optional<PortKey> only, std::vector<ListeningSocket>& out,
                       int& sys_errno) {
  sys_errno = 0;
  const std::size_t first = out.size();
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd) {
    sys_errno = errno;
    return sys_error("socket(NETLINK_SOCK_DIAG)", errno);
  }
  // A kernel that never answers must not hang a scan forever.
  const timeval timeout{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

  const std::vector<std::byte> filter =
      only ? sock_diag_port_filter(only->port) : std::vector<std::byte>{};
  std::vector<std::byte> buf(kRecvBufferSize);
  std::uint32_t seq = 1;
  for (Protocol proto : {Protocol::tcp, Protocol::udp}) {
    if (only && only->protocol != proto) continue;
    for (int family : {AF_INET, AF_INET6}) {
      const std::size_t before = out.size();
      DumpRequest req{family, proto, only ? &filter : nullptr, seq++};
      Status st = run_dump(fd.get(), req, buf, out, sys_errno);
      if (!st && req.filter && sys_errno == EINVAL) {
        // A kernel that rejects the bytecode still dumps everything; we filter below.
        out.resize(before);
        req.filter = nullptr;
        req.seq = seq++;
        st = run_dump(fd.get(), req, buf, out, sys_errno);
      }
      if (!st) return st;
    }
  }
  if (only) {
    // The bytecode already did this on any kernel that took it; this keeps the contract anyway.
    const auto mine = out.begin() + static_cast<std::ptrdiff_t>(first);
    out.erase(std::remove_if(mine, out.end(),
                             [&](const ListeningSocket& s) { return s.port != only->port; }),
              out.end());
  }
  return {};
}

}  // namespace portman
