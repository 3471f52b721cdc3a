#include "agent/http_auth_pool.hpp"

#include <algorithm>

namespace portman::agent {

AuthPool::AuthPool(AuthPoolLimits limits) : limits_(limits) {
  limits_.threads = std::max(1u, limits_.threads);
  for (unsigned i = 0; i < limits_.threads; ++i) threads_.emplace_back([this] { work(); });
}

AuthPool::~AuthPool() {
  stop();
}

AuthPool::Admit AuthPool::submit(const std::string& client, const std::function<void()>& admitted,
                                 Job job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Admit::stopped;
    if (in_flight_ >= limits_.capacity) return Admit::full;
    std::size_t& mine = per_client_[client];
    if (mine >= limits_.per_client) return Admit::client_full;
    ++mine;
    ++in_flight_;
    if (admitted) admitted();
    queue_.push_back({client, std::move(job)});
  }
  cv_.notify_one();
  return Admit::queued;
}

void AuthPool::release(const std::string& client) {
  --in_flight_;
  auto it = per_client_.find(client);
  if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
}

void AuthPool::work() {
  for (;;) {
    Item item;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    // Jobs must not throw (they answer a connection); a stray exception must not kill the pool.
    try {
      item.job(true);
    } catch (...) {
    }
    std::lock_guard lock(mu_);
    release(item.client);
  }
}

void AuthPool::stop() {
  std::deque<Item> cancelled;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    cancelled.swap(queue_);
  }
  cv_.notify_all();
  for (auto& item : cancelled) {
    try {
      item.job(false);
    } catch (...) {
    }
    std::lock_guard lock(mu_);
    release(item.client);
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

std::size_t AuthPool::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

}  // namespace portman::agent
