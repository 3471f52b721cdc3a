// Durations in the config (quarantine, lock_timeout), written as Prometheus writes them.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "libportman/duration.hpp"

using namespace portman;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST_CASE("parse_duration reads each unit from milliseconds to weeks", "[duration]") {
  CHECK(*parse_duration("500ms") == 500ms);
  CHECK(*parse_duration("5s") == 5s);
  CHECK(*parse_duration("2m") == 2min);
  CHECK(*parse_duration("1h") == 1h);
  CHECK(*parse_duration("7d") == std::chrono::hours(7 * 24));
  CHECK(*parse_duration("1w") == std::chrono::hours(7 * 24));
  CHECK(*parse_duration("0s") == 0ms);
}

TEST_CASE("parse_duration adds up sums written in decreasing units", "[duration]") {
  CHECK(*parse_duration("1h30m") == 90min);
  CHECK(*parse_duration("1d12h") == 36h);
  CHECK(*parse_duration("1m500ms") == 60500ms);
}

TEST_CASE("parse_duration refuses a missing unit, a bad unit, a wrong order or a sign",
          "[duration]") {
  auto bad = GENERATE(as<std::string>{}, "5", "s", "5x", "30m1h", "-1s", "", "1h1h", "1.5h", " 5s",
                      "5 s", "5S");
  INFO("input: '" << bad << "'");
  auto r = parse_duration(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::bad_input);
  CHECK_THAT(r.error().message, Catch::Contains("'" + bad + "'"));
}

TEST_CASE("format_duration writes the shortest exact form", "[duration]") {
  CHECK(format_duration(std::chrono::hours(24 * 7)) == "1w");
  CHECK(format_duration(std::chrono::hours(24)) == "1d");
  CHECK(format_duration(90min) == "1h30m");
  CHECK(format_duration(10s) == "10s");
  CHECK(format_duration(500ms) == "500ms");
  CHECK(format_duration(0ms) == "0s");
}

TEST_CASE("format_duration and parse_duration round trip", "[duration]") {
  for (milliseconds d :
       {milliseconds(1), milliseconds(500), milliseconds(5000), milliseconds(90 * 60 * 1000),
        milliseconds(8 * 24 * 3600 * 1000LL + 1), milliseconds(3 * 7 * 24 * 3600 * 1000LL)}) {
    std::string text = format_duration(d);
    INFO(text);
    auto back = parse_duration(text);
    REQUIRE(back.ok());
    CHECK(*back == d);
  }
  for (std::string text : {"6d", "1h30m", "500ms", "2m", "1w1d1h1m1s1ms"})
    CHECK(format_duration(*parse_duration(text)) == text);
}
