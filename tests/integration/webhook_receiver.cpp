#include "webhook_receiver.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <cstring>
#include <stdexcept>

namespace itest {
namespace {

MHD_Result reply(MHD_Connection* c, unsigned status) {
  MHD_Response* r = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
  MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

// MHD calls this once with the headers, then once per chunk of the body (upload_data_size > 0),
// then once more with nothing left: the body, gathered in *state, is complete.
MHD_Result answer(void* cls, MHD_Connection* c, const char* /*url*/, const char* method,
                  const char* /*version*/, const char* upload_data, size_t* upload_data_size,
                  void** state) {
  if (std::strcmp(method, "POST") != 0) return reply(c, 405);
  if (*state == nullptr) {
    *state = new std::string;
    return MHD_YES;
  }
  auto* body = static_cast<std::string*>(*state);
  if (*upload_data_size > 0) {
    body->append(upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  static_cast<WebhookReceiver*>(cls)->add(*body);
  return reply(c, 200);
}

void completed(void* /*cls*/, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
  delete static_cast<std::string*>(*state);
  *state = nullptr;
}

}  // namespace

WebhookReceiver::WebhookReceiver() {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  daemon_ =
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, nullptr, nullptr,
                       &answer, this, MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&addr),
                       MHD_OPTION_NOTIFY_COMPLETED, &completed, nullptr, MHD_OPTION_END);
  if (!daemon_) throw std::runtime_error("webhook receiver: cannot listen on 127.0.0.1");
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info ? info->port : 0;
  if (port_ == 0) {
    MHD_stop_daemon(daemon_);
    throw std::runtime_error("webhook receiver: no port");
  }
}

WebhookReceiver::~WebhookReceiver() {
  MHD_stop_daemon(daemon_);
}

std::string WebhookReceiver::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/alerts";
}

void WebhookReceiver::add(const std::string& body) {
  auto now = Clock::now();
  auto j = nlohmann::json::parse(body, nullptr, false);
  std::lock_guard lock(mutex_);
  if (!j.is_object() || !j.contains("alerts") || !j["alerts"].is_array()) {
    errors_.push_back(body);
    return;
  }
  ++notifications_;
  for (const auto& a : j["alerts"]) alerts_.push_back({a, now});
  arrived_.notify_all();
}

std::optional<WebhookReceiver::Received> WebhookReceiver::wait_for(
    const std::function<bool(const nlohmann::json&)>& pred, Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  std::size_t seen = 0;
  for (;;) {
    for (; seen < alerts_.size(); ++seen)
      if (pred(alerts_[seen].alert)) return alerts_[seen];
    if (arrived_.wait_until(lock, deadline) == std::cv_status::timeout && seen == alerts_.size())
      return std::nullopt;
  }
}

std::vector<WebhookReceiver::Received> WebhookReceiver::alerts() const {
  std::lock_guard lock(mutex_);
  return alerts_;
}

std::size_t WebhookReceiver::notifications() const {
  std::lock_guard lock(mutex_);
  return notifications_;
}

std::vector<std::string> WebhookReceiver::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

}  // namespace itest
