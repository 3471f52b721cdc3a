// Asks the inventory sources (Dokploy) in the background, each on its own interval, so that no
// scrape ever waits for them. A failed fetch keeps the last good inventory, with its time.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/log.hpp"
#include "libportman/sources.hpp"

namespace portman::agent {

class InventoryPoller {
 public:
  using Changed = std::function<void(std::vector<InventoryState>)>;
  // `changed` gets every source's state after each fetch, from the poller's thread.
  InventoryPoller(const SourcePlan& plan, Logger& log, Changed changed);
  ~InventoryPoller();  // stops and joins the threads; a fetch in flight ends by its timeout
  InventoryPoller(const InventoryPoller&) = delete;
  InventoryPoller& operator=(const InventoryPoller&) = delete;

  // Every source's state now: copies, safe to keep.
  std::vector<InventoryState> states() const;

 private:
  void run(std::size_t index, std::unique_ptr<InventorySource> source,
           std::chrono::milliseconds interval);

  Logger& log_;
  Changed changed_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::vector<InventoryState> states_;  // one per enabled source, in plan order
  std::vector<std::thread> threads_;
};

}  // namespace portman::agent
