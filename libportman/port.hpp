// Ports and protocols: the key shared by the registry, the collectors and the findings.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "libportman/result.hpp"

namespace portman {

enum class Protocol : std::uint8_t { tcp, udp };

constexpr std::string_view to_string(Protocol p) {
  return p == Protocol::tcp ? "tcp" : "udp";
}

struct PortKey {
  std::uint16_t port = 0;
  Protocol protocol = Protocol::tcp;
  auto operator<=>(const PortKey&) const = default;
};

// "3000" for tcp (the seed's keys), "3000/udp" for udp.
std::string registry_key(PortKey key);

// Parses a registry key: "3000", "3000/tcp" or "3000/udp", in that spelling only ("0080", "+80"
// and " 80" are refused): two spellings of one port would be two entries that look like one.
Result<PortKey> parse_registry_key(std::string_view key);

// Parses a port typed by a user: a whole number 1-65535, nothing else ("80.5", "-1", "0x50" fail).
Result<std::uint16_t> parse_port(std::string_view text);

}  // namespace portman
