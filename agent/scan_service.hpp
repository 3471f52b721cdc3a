// Collection at scrape time, as the Prometheus guide asks, but one scan serves every request
// within --scan.min-interval: ten Prometheus servers scraping at once cost one scan. Requests that
// arrive while a scan runs wait for it instead of starting their own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "agent/log.hpp"
#include "agent/snapshot.hpp"
#include "libportman/scan.hpp"
#include "libportman/sources.hpp"

namespace portman::agent {

class ScanService {
 public:
  ScanService(Scanner scanner, SourcePlan sources, std::chrono::milliseconds min_interval,
              std::string registry_path, Logger& log);

  // The latest snapshot, scanning first if it is older than min_interval.
  std::shared_ptr<const Snapshot> current();

  // What the next scans compare against: the registry as read from `path`.
  void use_registry(std::shared_ptr<const Registry> registry, double loaded_at);
  void mark_registry_invalid();  // the file on disk is bad: keep the last good one
  void mark_registry_missing();  // no file at the path: keep the last good one, if any
  void use_config(std::shared_ptr<const Config> config);
  // The inventory sources' latest states (from the poller's thread); the next scan uses them.
  void use_inventories(std::vector<InventoryState> states);

 private:
  std::shared_ptr<const Snapshot> scan_now();

  // In the order a scan sorts its sockets (Scanner::scan), so that a scan's list is sorted as
  // made.
  using SocketId = std::tuple<std::uint16_t, Protocol, Family, std::string, std::uint64_t>;

  Scanner scanner_;     // used by one scan at a time (scanning_ guards it)
  SourcePlan sources_;  // for the inventory sources' findings and series
  const std::chrono::milliseconds min_interval_;
  Logger& log_;

  std::mutex mu_;
  std::vector<InventoryState> inventories_;  // guarded by mu_
  std::condition_variable done_;
  bool scanning_ = false;
  std::shared_ptr<const Snapshot> last_;
  std::chrono::steady_clock::time_point last_at_{};
  const std::string registry_path_;
  std::shared_ptr<const Registry> registry_;  // the last good one read from disk
  std::shared_ptr<const Config> config_;
  bool registry_present_ = true;
  bool registry_valid_ = true;
  double registry_loaded_at_ = 0;
  std::vector<SocketId> previous_sockets_;  // sorted, unique
  bool first_scan_ = true;
  std::string owner_fallback_logged_;  // why owners come from /proc, once logged
  std::uint64_t listener_changes_ = 0;
};

}  // namespace portman::agent
