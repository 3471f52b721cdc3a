// An Alertmanager webhook receiver run by the test itself: an HTTP server on 127.0.0.1 that keeps
// every alert of every POSTed notification, with the time it arrived.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct MHD_Daemon;

namespace itest {

class WebhookReceiver {
 public:
  using Clock = std::chrono::steady_clock;
  // One alert of a notification (Alertmanager's webhook format, version 4): its own `status`
  // (firing or resolved), `labels`, `annotations`, `startsAt`, `endsAt`.
  struct Received {
    nlohmann::json alert;
    Clock::time_point at;
  };

  WebhookReceiver();  // listens on 127.0.0.1, on a port the kernel picks
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;
  ~WebhookReceiver();

  int port() const { return port_; }
  std::string url() const;  // where Alertmanager posts
  // The first alert received that satisfies `pred`, waiting until `deadline` for it.
  std::optional<Received> wait_for(const std::function<bool(const nlohmann::json&)>& pred,
                                   Clock::time_point deadline);
  std::vector<Received> alerts() const;
  std::size_t notifications() const;
  std::vector<std::string> errors() const;  // bodies that were not a webhook notification

  // Called by the server's thread with a complete request body.
  void add(const std::string& body);

 private:
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Received> alerts_;
  std::size_t notifications_ = 0;
  std::vector<std::string> errors_;
};

}  // namespace itest
