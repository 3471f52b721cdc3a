#include "agent/idle_trim.hpp"

#include <malloc.h>

#include <algorithm>

namespace portman::agent {

void IdleTrim::used() {
  std::lock_guard lock(mu_);
  last_use_ = Clock::now();
}

int IdleTrim::poll_timeout_ms() const {
  std::lock_guard lock(mu_);
  if (!last_use_) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(*last_use_ + idle_ - Clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
}

bool IdleTrim::run() {
  {
    std::lock_guard lock(mu_);
    if (!last_use_ || Clock::now() - *last_use_ < idle_) return false;
    last_use_.reset();
  }
  ::malloc_trim(0);  // not under the lock: a render finishing meanwhile need not wait
  return true;
}

int shorter_timeout(int a_ms, int b_ms) {
  if (a_ms < 0) return b_ms;
  if (b_ms < 0) return a_ms;
  return std::min(a_ms, b_ms);
}

}  // namespace portman::agent
