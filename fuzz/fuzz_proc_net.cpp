// /proc/net/{tcp,tcp6,udp,udp6}: the first byte picks the protocol and family, the rest is the
// file's text.
#include "collectors/proc_net.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using portman::Family, portman::Protocol;
  Protocol proto = (data[0] & 1) ? Protocol::udp : Protocol::tcp;
  Family family = (data[0] & 2) ? Family::ipv6 : Family::ipv4;
  std::vector<portman::ListeningSocket> out;
  (void)portman::parse_proc_net(portman::fuzz::as_text(data + 1, size - 1), proto, family, out);
  return 0;
}
