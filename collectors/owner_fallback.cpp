#include "collectors/owner_fallback.hpp"

#include <algorithm>
#include <utility>

namespace portman {

void OwnerFallback::for_good(std::string why) {
  why_ = std::move(why);
  retry_at_.reset();
}

void OwnerFallback::for_now(std::string why, Clock::time_point now) {
  why_ = std::move(why);
  retry_at_ = now + pause_;
  pause_ = std::min<Clock::duration>(pause_ * 2, kLongestPause);
}

bool OwnerFallback::walking(Clock::time_point now) {
  if (why_.empty()) return false;
  if (!retry_at_ || now < *retry_at_) return true;
  why_.clear();
  retry_at_.reset();
  return false;
}

}  // namespace portman
