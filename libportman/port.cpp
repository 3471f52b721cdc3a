#include "libportman/port.hpp"

#include <charconv>

namespace portman {

std::string registry_key(PortKey key) {
  std::string s = std::to_string(key.port);
  if (key.protocol == Protocol::udp) s += "/udp";
  return s;
}

Result<std::uint16_t> parse_port(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error(ErrorKind::bad_input, "invalid port '" + std::string(text) +
                                                "': " + std::string(why) +
                                                "; a port is a whole number from 1 to 65535");
  };
  if (text.empty()) return bad("empty");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) return bad("out of range");
  if (ec != std::errc() || text.front() == '+' || end != text.data() + text.size())
    return bad("not a whole number");
  if (value == 0 || value > 65535) return bad("out of range");
  return static_cast<std::uint16_t>(value);
}

Result<PortKey> parse_registry_key(std::string_view key) {
  // One spelling per key, so that "80" and "0080" cannot name two entries for one port.
  auto bad = [&] {
    return make_error(ErrorKind::invalid_data,
                      "key '" + std::string(key) +
                          "' is not PORT, PORT/tcp or PORT/udp with PORT 1-65535 written "
                          "without leading zeros, sign or spaces");
  };
  PortKey out;
  std::string_view number = key;
  if (auto slash = key.find('/'); slash != std::string_view::npos) {
    number = key.substr(0, slash);
    std::string_view proto = key.substr(slash + 1);
    if (proto == "udp") {
      out.protocol = Protocol::udp;
    } else if (proto != "tcp") {
      return make_error(ErrorKind::invalid_data,
                        "key '" + std::string(key) + "': protocol must be tcp or udp");
    }
  }
  if (number.empty() || number.size() > 5 || number.front() == '0' ||
      number.find_first_not_of("0123456789") != std::string_view::npos)
    return bad();
  auto port = parse_port(number);
  if (!port) return bad();
  out.port = *port;
  return out;
}

}  // namespace portman
