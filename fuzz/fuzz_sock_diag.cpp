// One datagram of a NETLINK_SOCK_DIAG dump: the first byte picks the protocol, the rest is the
// datagram, copied to an aligned buffer as recv() would fill one.
#include <cstring>
#include <vector>

#include "collectors/sock_diag.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  portman::Protocol proto = (data[0] & 1) ? portman::Protocol::udp : portman::Protocol::tcp;
  std::vector<std::byte> datagram(size - 1);
  if (!datagram.empty()) std::memcpy(datagram.data(), data + 1, size - 1);
  std::vector<portman::ListeningSocket> out;
  portman::SockDiagProgress progress;
  (void)portman::parse_sock_diag(datagram, proto, out, progress);
  return 0;
}
