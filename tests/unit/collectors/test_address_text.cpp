// Addresses as text: the IPv4 formatter against inet_ntop, and IPv6 through it.
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <cstdint>
#include <random>
#include <string>

#include "collectors/address_text.hpp"

using namespace portman;

namespace {

std::string ntop(int family, const void* addr) {
  char buf[INET6_ADDRSTRLEN];
  REQUIRE(::inet_ntop(family, addr, buf, sizeof buf));
  return buf;
}

}  // namespace

TEST_CASE("IPv4 addresses read as inet_ntop writes them, for every byte value in every place") {
  char buf[INET6_ADDRSTRLEN];
  std::mt19937 random(42);
  for (int place = 0; place < 4; ++place) {
    for (int value = 0; value < 256; ++value) {
      unsigned char addr[4];
      for (unsigned char& b : addr) b = static_cast<unsigned char>(random());
      addr[place] = static_cast<unsigned char>(value);
      auto text = address_text(AF_INET, addr, buf);
      REQUIRE(text);
      INFO("place " << place << ", value " << value);
      CHECK(*text == ntop(AF_INET, addr));
    }
  }
  const unsigned char widest[4] = {255, 255, 255, 255}, zero[4] = {};
  CHECK(*address_text(AF_INET, widest, buf) == "255.255.255.255");
  CHECK(*address_text(AF_INET, zero, buf) == "0.0.0.0");
}

TEST_CASE("IPv6 addresses read as inet_ntop writes them; other families have no text") {
  char buf[INET6_ADDRSTRLEN];
  for (const char* text : {"::", "::1", "fe80::1:2", "2001:db8::ff00:42:8329", "::ffff:10.0.0.1"}) {
    unsigned char addr[16];
    REQUIRE(::inet_pton(AF_INET6, text, addr) == 1);
    auto out = address_text(AF_INET6, addr, buf);
    REQUIRE(out);
    CHECK(*out == ntop(AF_INET6, addr));
    CHECK(*out == text);
  }
  unsigned char any[16] = {};
  CHECK_FALSE(address_text(AF_UNIX, any, buf));
}
