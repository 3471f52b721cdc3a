// Ports typed by users and registry keys: the first line of defence against bad input.
#include <catch2/catch.hpp>

#include <string>

#include "libportman/port.hpp"

using namespace portman;

TEST_CASE("parse_port accepts every whole number from 1 to 65535", "[port]") {
  CHECK(*parse_port("1") == 1);
  CHECK(*parse_port("80") == 80);
  CHECK(*parse_port("3000") == 3000);
  CHECK(*parse_port("65535") == 65535);
}

TEST_CASE("parse_port refuses text that is not a port with a bad_input error", "[port]") {
  auto bad = GENERATE(as<std::string>{}, "abc", "0", "65536", "-1", "80.5", "", "+80", " 80",
                      "0x50", "80 ", "99999999999999999999");
  INFO("input: '" << bad << "'");
  auto r = parse_port(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::bad_input);
  // The message names the bad value and what is valid.
  CHECK_THAT(r.error().message, Catch::Contains("'" + bad + "'"));
  CHECK_THAT(r.error().message, Catch::Contains("1 to 65535"));
}

TEST_CASE("registry keys read as tcp by default, with an optional /tcp or /udp", "[port]") {
  CHECK(*parse_registry_key("3000") == PortKey{3000, Protocol::tcp});
  CHECK(*parse_registry_key("3000/tcp") == PortKey{3000, Protocol::tcp});
  CHECK(*parse_registry_key("53/udp") == PortKey{53, Protocol::udp});
}

TEST_CASE("registry keys with another protocol or no port number are refused", "[port]") {
  auto bad = GENERATE(as<std::string>{}, "3000/sctp", "x", "", "3000/", "/udp", "0/udp", "65536",
                      "3000/UDP ", "3000/tcp/udp");
  INFO("key: '" << bad << "'");
  auto r = parse_registry_key(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::invalid_data);
  CHECK_THAT(r.error().message, Catch::Contains("'" + bad + "'"));
}

TEST_CASE("registry keys have one spelling: no leading zeros, sign or spaces", "[port]") {
  auto bad = GENERATE(as<std::string>{}, "0080", "080/udp", "00080/tcp", "+80", "-80", " 80", "80 ",
                      "8 0", "\t80", "80\n", "0", "00", "65535 ", "0x50", "8e1", "1234567");
  INFO("key: '" << bad << "'");
  auto r = parse_registry_key(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::invalid_data);
  CHECK_THAT(r.error().message, Catch::Contains("without leading zeros, sign or spaces"));
}

TEST_CASE("registry_key writes tcp as the bare port and udp with a /udp suffix", "[port]") {
  CHECK(registry_key({3000, Protocol::tcp}) == "3000");
  CHECK(registry_key({53, Protocol::udp}) == "53/udp");
  // Round trip through the parser.
  for (PortKey k : {PortKey{1, Protocol::tcp}, PortKey{65535, Protocol::udp}})
    CHECK(*parse_registry_key(registry_key(k)) == k);
}

TEST_CASE("port keys order by port number first, then tcp before udp", "[port]") {
  CHECK(PortKey{53, Protocol::tcp} < PortKey{53, Protocol::udp});
  CHECK(PortKey{53, Protocol::udp} < PortKey{80, Protocol::tcp});
  CHECK(to_string(Protocol::tcp) == "tcp");
  CHECK(to_string(Protocol::udp) == "udp");
}
