#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "agent/idle_trim.hpp"
#include "unit/support.hpp"

using namespace portman::agent;
using namespace std::chrono_literals;

namespace {
// Wide margins, scaled for the sanitizer build: a stall shorter than the idle time cannot fail
// these.
std::chrono::milliseconds scaled(int ms) {
  return std::chrono::milliseconds(static_cast<int>(ms * portman::test::kTimeScale));
}
}  // namespace

TEST_CASE("idle trim: nothing pending until a render, then once after the idle time") {
  IdleTrim trim(scaled(200));
  CHECK(trim.poll_timeout_ms() == -1);
  CHECK_FALSE(trim.run());

  trim.used();
  const int wait = trim.poll_timeout_ms();
  CHECK(wait >= 0);
  CHECK(wait <= scaled(200).count());
  CHECK_FALSE(trim.run());  // too early: the next scrape may come right away

  std::this_thread::sleep_for(scaled(220));
  CHECK(trim.poll_timeout_ms() == 0);
  CHECK(trim.run());
  CHECK(trim.poll_timeout_ms() == -1);  // done until the next render
  CHECK_FALSE(trim.run());
}

TEST_CASE("idle trim: a render before the idle time is up puts the trim off") {
  IdleTrim trim(scaled(400));
  trim.used();
  std::this_thread::sleep_for(scaled(250));
  trim.used();
  std::this_thread::sleep_for(scaled(250));  // 500 ms after the first render, 250 after the next
  CHECK_FALSE(trim.run());
  CHECK(trim.poll_timeout_ms() > 0);
}

TEST_CASE("idle trim: the shorter of two poll timeouts, -1 being none") {
  CHECK(shorter_timeout(-1, -1) == -1);
  CHECK(shorter_timeout(-1, 300) == 300);
  CHECK(shorter_timeout(2000, -1) == 2000);
  CHECK(shorter_timeout(2000, 300) == 300);
  CHECK(shorter_timeout(0, 300) == 0);
}
