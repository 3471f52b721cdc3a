#include "collectors/proc_net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <string>

#include "collectors/address_text.hpp"

namespace portman {
namespace {

constexpr unsigned kTcpListen = 0x0A;
constexpr unsigned kUdpUnconnected = 0x07;

// The columns we read, by position after splitting on blanks:
// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
constexpr std::size_t kLocal = 1, kState = 3, kUid = 7, kInode = 9, kMinFields = 10;

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

// Splits into at most N fields; returns how many there were (capped at N).
template <std::size_t N>
std::size_t split_fields(std::string_view line, std::array<std::string_view, N>& fields) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < line.size() && count < N) {
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i == line.size()) break;
    const std::size_t start = i;
    while (i < line.size() && !is_blank(line[i])) ++i;
    fields[count++] = line.substr(start, i - start);
  }
  return count;
}

// Whole-field number in `base`; rejects signs, empty text and trailing junk.
template <class T>
bool parse_number(std::string_view text, int base, T& value) {
  if (text.empty() || text.front() == '-' || text.front() == '+') return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return ec == std::errc{} && end == text.data() + text.size();
}

// "0100007F:1F90" -> address bytes (network order) and port. Each 8-hex-digit word is the
// kernel printing a __be32 as a host (little-endian) integer, so its bytes come out reversed.
bool parse_endpoint(std::string_view text, Family family, std::array<std::uint8_t, 16>& addr,
                    std::uint16_t& port) {
  const std::size_t words = family == Family::ipv4 ? 1 : 4;
  if (text.size() != words * 8 + 5 || text[words * 8] != ':') return false;
  for (std::size_t w = 0; w < words; ++w) {
    std::uint32_t value = 0;
    if (!parse_number(text.substr(w * 8, 8), 16, value)) return false;
    for (std::size_t b = 0; b < 4; ++b) addr[w * 4 + b] = (value >> (8 * b)) & 0xFF;
  }
  return parse_number(text.substr(words * 8 + 1), 16, port);
}

Error bad_line(std::size_t number, const char* what) {
  return make_error(ErrorKind::invalid_data,
                    "proc/net: line " + std::to_string(number) + ": " + what);
}

}  // namespace

Status parse_proc_net(std::string_view text, Protocol proto, Family family,
                      std::vector<ListeningSocket>& out) {
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    ++number;

    std::array<std::string_view, kMinFields> f;
    const std::size_t count = split_fields(line, f);
    if (count == 0) continue;
    if (number == 1 && f[0] == "sl") continue;  // the header
    if (count < kMinFields) return bad_line(number, "too few columns");
    if (f[0].empty() || f[0].back() != ':') return bad_line(number, "no slot number");

    std::array<std::uint8_t, 16> addr{};
    std::uint16_t port = 0;
    unsigned state = 0;
    std::uint32_t uid = 0;
    std::uint64_t inode = 0;
    if (!parse_endpoint(f[kLocal], family, addr, port)) {
      return bad_line(number, family == Family::ipv4 ? "bad local address (want XXXXXXXX:PPPP)"
                                                     : "bad local address (want 32 hex:PPPP)");
    }
    if (!parse_number(f[kState], 16, state) || state > 0xFF) return bad_line(number, "bad state");
    if (!parse_number(f[kUid], 10, uid)) return bad_line(number, "bad uid");
    if (!parse_number(f[kInode], 10, inode)) return bad_line(number, "bad inode");

    const bool listening =
        proto == Protocol::tcp ? state == kTcpListen : state == kUdpUnconnected && port != 0;
    if (!listening) continue;

    char buf[INET6_ADDRSTRLEN];
    auto address = address_text(family == Family::ipv4 ? AF_INET : AF_INET6, addr.data(), buf);
    if (!address) return bad_line(number, "unprintable address");
    ListeningSocket& s = out.emplace_back();
    s.protocol = proto;
    s.family = family;
    s.address = *address;
    s.port = port;
    s.inode = inode;
    s.uid = static_cast<uid_t>(uid);
  }
  return {};
}

}  // namespace portman
