#include "collectors/address_text.hpp"

#include <charconv>
#include <cstring>

namespace portman {

std::optional<std::string_view> address_text(int family, const void* addr,
                                             std::span<char, INET6_ADDRSTRLEN> buf) {
  if (family == AF_INET) {
    unsigned char b[4];
    std::memcpy(b, addr, sizeof b);
    char* p = buf.data();
    for (int i = 0; i < 4; ++i) {
      if (i > 0) *p++ = '.';
      p = std::to_chars(p, buf.data() + buf.size(), b[i]).ptr;
    }
    return std::string_view(buf.data(), static_cast<std::size_t>(p - buf.data()));
  }
  if (family == AF_INET6 && ::inet_ntop(AF_INET6, addr, buf.data(), buf.size()))
    return std::string_view(buf.data());
  return std::nullopt;
}

}  // namespace portman
