// Collection at scrape time, as the Prometheus guide asks, but one scan serves every request
// within --scan.min-interval: ten Prometheus servers scraping at once cost one scan. Requests that
// arrive while a scan runs wait for it instead of starting their own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "agent/log.hpp"
#include "agent/snapshot.hpp"
#include "libportman/scan.hpp"

namespace portman::agent {

class ScanService {
 public:
  ScanService(const CollectorOptions& collectors, const std::vector<std::string>& disabled,
              std::chrono::milliseconds min_interval, Logger& log);

  // The latest snapshot, scanning first if it is older than min_interval.
  std::shared_ptr<const Snapshot> current();

  // What the next scans compare against. The registry passed is the file's; the agent's own
  // ports are added to it as registered to the agent.
  void use_registry(std::shared_ptr<const Registry> registry, double loaded_at);
  void mark_registry_invalid();  // the file on disk is bad: keep the last good one
  void use_config(std::shared_ptr<const Config> config);
  void set_own_ports(const std::vector<std::uint16_t>& ports);

 private:
  std::shared_ptr<const Registry> with_own_ports(const Registry& r) const;
  std::shared_ptr<const Snapshot> scan_now();

  using SocketId = std::tuple<Protocol, Family, std::string, std::uint16_t, std::uint64_t>;

  Scanner scanner_;  // used by one scan at a time (scanning_ guards it)
  const std::chrono::milliseconds min_interval_;
  Logger& log_;

  std::mutex mu_;
  std::condition_variable done_;
  bool scanning_ = false;
  std::shared_ptr<const Snapshot> last_;
  std::chrono::steady_clock::time_point last_at_{};
  std::shared_ptr<const Registry> file_registry_;  // as read from disk
  std::shared_ptr<const Registry> registry_;       // file_registry_ plus the agent's own ports
  std::shared_ptr<const Config> config_;
  std::vector<std::uint16_t> own_ports_;
  bool registry_valid_ = true;
  double registry_loaded_at_ = 0;
  std::set<SocketId> previous_sockets_;
  bool first_scan_ = true;
  std::uint64_t listener_changes_ = 0;
};

}  // namespace portman::agent
