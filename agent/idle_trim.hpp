// Hands the memory a scan and its render freed back to the system once the agent has been idle
// for a while, outside any request. Trimming right after each render (as before) made the next
// scrape touch those pages again, at a page fault each: scrapes that follow one another closely
// now keep the memory, and an agent scraped every 15 s still gives it back between scrapes.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>

namespace portman::agent {

class IdleTrim {
 public:
  explicit IdleTrim(std::chrono::milliseconds idle = std::chrono::seconds(1)) : idle_(idle) {}

  // A render freed memory (any thread).
  void used();
  // How long the agent's loop may sleep before run() has work: -1 when none is pending.
  int poll_timeout_ms() const;
  // Trims when the last use is `idle` old; true when it did.
  bool run();

 private:
  using Clock = std::chrono::steady_clock;
  const std::chrono::milliseconds idle_;
  mutable std::mutex mu_;
  std::optional<Clock::time_point> last_use_;  // set until the trim that follows it
};

// The shorter of two poll() timeouts, where -1 is "no timeout".
int shorter_timeout(int a_ms, int b_ms);

}  // namespace portman::agent
