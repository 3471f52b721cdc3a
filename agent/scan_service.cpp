#include "agent/scan_service.hpp"

#include <algorithm>

namespace portman::agent {

ScanService::ScanService(Scanner scanner, SourcePlan sources,
                         std::chrono::milliseconds min_interval, std::string registry_path,
                         Logger& log)
    : scanner_(std::move(scanner)),
      sources_(std::move(sources)),
      min_interval_(min_interval),
      log_(log),
      registry_path_(std::move(registry_path)) {
  registry_ = std::make_shared<const Registry>();
  config_ = std::make_shared<const Config>(default_config());
}

void ScanService::use_registry(std::shared_ptr<const Registry> registry, double loaded_at) {
  std::lock_guard lock(mu_);
  registry_ = std::move(registry);
  registry_present_ = true;
  registry_valid_ = true;
  registry_loaded_at_ = loaded_at;
  last_at_ = {};  // the next request sees the new registry
}

void ScanService::mark_registry_invalid() {
  std::lock_guard lock(mu_);
  registry_present_ = true;
  registry_valid_ = false;
  last_at_ = {};
}

void ScanService::mark_registry_missing() {
  std::lock_guard lock(mu_);
  registry_present_ = false;
  registry_valid_ = false;
  last_at_ = {};
}

void ScanService::use_inventories(std::vector<InventoryState> states) {
  std::lock_guard lock(mu_);
  inventories_ = std::move(states);
  last_at_ = {};
}

void ScanService::use_config(std::shared_ptr<const Config> config) {
  std::lock_guard lock(mu_);
  config_ = std::move(config);
  last_at_ = {};
}

std::shared_ptr<const Snapshot> ScanService::current() {
  std::unique_lock lock(mu_);
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    if (last_ && now - last_at_ < min_interval_) return last_;
    if (!scanning_) break;
    done_.wait(lock);  // someone else is scanning: share their result
  }
  scanning_ = true;
  lock.unlock();
  std::shared_ptr<const Snapshot> snap;
  try {
    snap = scan_now();
  } catch (...) {  // nothing may leave a waiting request stuck
    lock.lock();
    scanning_ = false;
    done_.notify_all();
    throw;
  }
  lock.lock();
  scanning_ = false;
  last_ = snap;
  last_at_ = std::chrono::steady_clock::now();
  done_.notify_all();
  return snap;
}

std::shared_ptr<const Snapshot> ScanService::scan_now() {
  std::shared_ptr<const Registry> registry;
  std::shared_ptr<const Config> config;
  bool present, valid;
  std::vector<InventoryState> snap_inventories;
  double loaded_at;
  {
    std::lock_guard lock(mu_);
    registry = registry_;
    config = config_;
    present = registry_present_;
    valid = registry_valid_;
    loaded_at = registry_loaded_at_;
    snap_inventories = inventories_;
  }
  auto snap = std::make_shared<Snapshot>();
  snap->live = scanner_.scan(ScanScope{});
  snap->registry = registry;
  snap->config = config;
  snap->findings = compare(*registry, snap->live, *config);
  add_inventory_findings(snap_inventories, sources_, *registry, snap->live, *config,
                         snap->findings);
  snap->inventory_samples = inventory_samples(snap_inventories, sources_);
  for (const InventoryState& i : snap_inventories)
    if (!i.up && !i.error.empty()) snap->live.notes.push_back(i.source + ": " + i.error);
  snap->inventories = std::move(snap_inventories);
  snap->registry_path = registry_path_;
  snap->registry_present = present;
  snap->registry_valid = valid;
  snap->registry_last_reload_success = loaded_at;
  snap->taken_at = std::chrono::system_clock::now();

  // A sorted vector, not a std::set: one allocation instead of one per socket and scan.
  std::vector<SocketId> sockets;
  sockets.reserve(snap->live.sockets.size());
  for (const auto& s : snap->live.sockets)
    sockets.emplace_back(s.port, s.protocol, s.family, s.address, s.inode);
  if (!std::is_sorted(sockets.begin(), sockets.end())) std::sort(sockets.begin(), sockets.end());
  sockets.erase(std::unique(sockets.begin(), sockets.end()), sockets.end());
  if (!first_scan_) {
    // Sockets in one scan but not the other: all of both, less twice those in both.
    std::size_t both = 0;
    for (auto a = sockets.begin(), b = previous_sockets_.begin();
         a != sockets.end() && b != previous_sockets_.end();) {
      if (*a < *b) {
        ++a;
      } else if (*b < *a) {
        ++b;
      } else {
        ++both, ++a, ++b;
      }
    }
    listener_changes_ += sockets.size() + previous_sockets_.size() - 2 * both;
  }
  first_scan_ = false;
  previous_sockets_ = std::move(sockets);
  snap->listener_changes_total = listener_changes_;

  for (const auto& r : snap->live.runs)
    if (!r.success) log_.warn("collector failed", {{"collector", r.collector}, {"err", r.error}});
  // owners.method auto on a kernel or with privileges that refuse BPF: expected, so said once
  // and only at debug level. A BPF iteration that failed after a good load is not: a warning,
  // and a line when BPF works again after the pause.
  if (const std::string& why = snap->live.owner_source_fallback;
      !why.empty() && why != owner_fallback_logged_) {
    if (snap->live.owner_source_retry)
      log_.warn("owners from the /proc walk for a while; BPF is tried again later", {{"why", why}});
    else
      log_.debug("owners from the /proc walk", {{"why", why}});
    owner_fallback_logged_ = why;
  } else if (why.empty() && !owner_fallback_logged_.empty() && snap->live.owner_source == "bpf") {
    log_.info("owners from the BPF iterator again");
    owner_fallback_logged_.clear();
  }
  if (log_.enabled(LogLevel::debug))
    log_.debug("scan done", {{"sockets", std::to_string(snap->live.sockets.size())},
                             {"findings", std::to_string(snap->findings.size())}});
  return snap;
}

}  // namespace portman::agent
