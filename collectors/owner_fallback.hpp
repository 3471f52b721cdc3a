// Why owners.method auto finds owners with the /proc walk rather than the BPF iterator, and when
// it tries the iterator again. A program the kernel refuses to load (privileges, kernel, BTF,
// lockdown) is refused the same way every time: the walk stays. An iteration that failed after a
// good load (memory, an fd limit) may work on the next try: BPF is tried again after a pause that
// doubles with each failure in a row, from a minute up to an hour, so that an agent running for
// months is not left on the slow path by one bad moment, nor retries a broken kernel every scan.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace portman {

class OwnerFallback {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kFirstPause = std::chrono::minutes(1);
  static constexpr Clock::duration kLongestPause = std::chrono::hours(1);

  // The walk from now on, for good.
  void for_good(std::string why);
  // The walk until the pause after this failure is over.
  void for_now(std::string why, Clock::time_point now);
  // BPF ran: the next failure pauses it for kFirstPause again.
  void bpf_worked() { pause_ = kFirstPause; }

  // Whether a run at `now` uses the walk. Once a pause is over, the fallback is cleared and the
  // run tries BPF.
  bool walking(Clock::time_point now);
  // Why the walk runs (what scan --json and the landing page say); empty when it does not.
  const std::string& why() const { return why_; }
  // Whether it runs only for a pause, after a failure that may pass.
  bool passing() const { return !why_.empty() && retry_at_.has_value(); }

 private:
  std::string why_;
  std::optional<Clock::time_point> retry_at_;  // unset with a fallback: for good
  Clock::duration pause_ = kFirstPause;        // the pause after the next failure
};

}  // namespace portman
