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
  auto port = parse_port(number);
  if (!port) {
    return make_error(ErrorKind::invalid_data,
                      "key '" + std::string(key) + "' is not PORT or PORT/udp with PORT 1-65535");
  }
  out.port = *port;
  return out;
}

}  // namespace portman
