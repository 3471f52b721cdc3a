// Skipping a test whose condition is missing (a capability, a kernel feature), so that ctest
// reports it skipped instead of passed.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace portman::test {

// ctest runs each test case in a process of its own and reads this exit code as "skipped"
// (SKIP_RETURN_CODE in tests/CMakeLists.txt): a test whose condition is missing says so instead
// of passing. Run the test binary by hand and it stops at the first skip.
inline constexpr int kSkipReturnCode = 77;

[[noreturn]] inline void skip_test(const char* why) {
  std::fprintf(stderr, "SKIPPED: %s\n", why);
  std::fflush(nullptr);
  std::_Exit(kSkipReturnCode);
}

}  // namespace portman::test
