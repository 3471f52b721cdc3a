// When owners.method auto walks /proc instead of running the BPF iterator, and when it tries the
// iterator again (collectors/owner_fallback.hpp).
#include <catch2/catch.hpp>

#include <chrono>

#include "collectors/owner_fallback.hpp"

using portman::OwnerFallback;
using namespace std::chrono_literals;

namespace {
const OwnerFallback::Clock::time_point t0{std::chrono::hours(1000)};
}

TEST_CASE("owners use BPF until something fails") {
  OwnerFallback f;
  CHECK_FALSE(f.walking(t0));
  CHECK(f.why().empty());
  CHECK_FALSE(f.passing());
}

TEST_CASE("a program the kernel refused to load leaves owners to the walk for good") {
  OwnerFallback f;
  f.for_good("cannot load the BPF owners iterator: Operation not permitted");
  CHECK(f.walking(t0));
  CHECK(f.walking(t0 + 1000h));
  CHECK(f.why() == "cannot load the BPF owners iterator: Operation not permitted");
  CHECK_FALSE(f.passing());  // the agent says it once, at debug level: expected
}

TEST_CASE("after a failed iteration BPF is tried again once the pause is over") {
  OwnerFallback f;
  f.for_now("cannot read the BPF owners iterator: Cannot allocate memory", t0);
  CHECK(f.walking(t0));
  CHECK(f.walking(t0 + 59s));
  CHECK(f.why() == "cannot read the BPF owners iterator: Cannot allocate memory");
  CHECK(f.passing());  // the agent warns
  CHECK_FALSE(f.walking(t0 + 60s));
  CHECK(f.why().empty());  // scan --json no longer names a fallback
  CHECK_FALSE(f.passing());
  CHECK_FALSE(f.walking(t0 + 61s));
}

TEST_CASE("failures in a row double the pause up to an hour, and a good run resets it") {
  OwnerFallback f;
  auto now = t0;
  std::chrono::minutes expected{1};
  for (int failure = 0; failure < 9; ++failure) {
    f.for_now("failed", now);
    INFO("failure " << failure + 1);
    CHECK(f.walking(now + expected - 1s));
    CHECK_FALSE(f.walking(now + expected));
    now += expected;
    expected = std::min(expected * 2, std::chrono::minutes(60));
  }
  CHECK(expected == 60min);  // 1, 2, 4, ... reached the cap and stayed there
  f.bpf_worked();
  f.for_now("failed", now);
  CHECK(f.walking(now + 59s));
  CHECK_FALSE(f.walking(now + 60s));
}

TEST_CASE("a refusal to load outlasts an earlier failed iteration's pause") {
  OwnerFallback f;
  f.for_now("failed", t0);
  CHECK_FALSE(f.walking(t0 + 60s));  // tried again: the load is refused this time
  f.for_good("cannot load the BPF owners iterator: Operation not permitted");
  CHECK(f.walking(t0 + 1000h));
}
