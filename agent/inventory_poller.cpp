#include "agent/inventory_poller.hpp"

namespace portman::agent {
namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

InventoryPoller::InventoryPoller(const SourcePlan& plan, Logger& log, Changed changed)
    : log_(log), changed_(std::move(changed)) {
  std::vector<std::pair<std::unique_ptr<InventorySource>, std::chrono::milliseconds>> sources;
  for (const std::string& name : plan.inventories) {
    const SourceSettings& settings = plan.settings_of(name);
    InventoryState state;
    state.source = name;
    std::unique_ptr<InventorySource> source;
    for (const InventorySpec& spec : inventory_table())
      if (spec.name == name) {
        auto made = spec.make(settings);
        if (made)
          source = std::move(*made);
        else
          state.error = made.error().message;
      }
    auto interval = settings.duration("interval");
    states_.push_back(std::move(state));
    sources.emplace_back(std::move(source), interval ? *interval : std::chrono::minutes(1));
  }
  if (changed_) changed_(states_);  // before any fetch: the sources exist, not up yet
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (!sources[i].first) {
      log_.error("inventory source cannot start",
                 {{"source", states_[i].source}, {"err", states_[i].error}});
      continue;
    }
    threads_.emplace_back(&InventoryPoller::run, this, i, std::move(sources[i].first),
                          sources[i].second);
  }
}

InventoryPoller::~InventoryPoller() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

std::vector<InventoryState> InventoryPoller::states() const {
  std::lock_guard lock(mu_);
  return states_;
}

void InventoryPoller::run(std::size_t index, std::unique_ptr<InventorySource> source,
                          std::chrono::milliseconds interval) {
  for (;;) {
    auto got = source->fetch();
    std::vector<InventoryState> now;
    {
      std::lock_guard lock(mu_);
      InventoryState& state = states_[index];
      bool was_up = state.up;
      if (got) {
        state.last_good = std::make_shared<const dokploy::Inventory>(std::move(*got));
        state.up = true;
        state.error.clear();
        state.last_success = unix_now();
        if (!was_up)
          log_.info("inventory source answered",
                    {{"source", state.source},
                     {"services", std::to_string(state.last_good->services.size())}});
      } else {
        // Said once per outage, not at every interval; the last good answer stays in use.
        if (was_up || state.error != got.error().message)
          log_.warn("inventory source failed; keeping its last good answer",
                    {{"source", state.source}, {"err", got.error().message}});
        state.up = false;
        state.error = got.error().message;
      }
      now = states_;
    }
    if (changed_) changed_(std::move(now));
    std::unique_lock lock(mu_);
    if (stop_cv_.wait_for(lock, interval, [this] { return stopping_; })) return;
  }
}

}  // namespace portman::agent
