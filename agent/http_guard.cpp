#include "agent/http_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace portman::agent {

std::string client_key(const sockaddr* addr) {
  if (addr == nullptr) return "?";
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(addr);
    return inet_ntop(AF_INET, &in4->sin_addr, buf, sizeof buf) ? buf : "?";
  }
  if (addr->sa_family == AF_INET6) {
    in6_addr a = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
      in_addr v4{};
      std::memcpy(&v4, a.s6_addr + 12, 4);
      return inet_ntop(AF_INET, &v4, buf, sizeof buf) ? buf : "?";
    }
    std::memset(a.s6_addr + 8, 0, 8);
    return inet_ntop(AF_INET6, &a, buf, sizeof buf) ? std::string(buf) + "/64" : "?";
  }
  return "?";
}

bool ConnectionGuard::opened(const void* id, int fd, const std::string& client,
                             Clock::time_point now) {
  std::lock_guard lock(mu_);
  std::size_t& count = per_client_[client];
  if (count >= limits_.per_client) return false;
  ++count;
  conns_[id] = Entry{fd, client, now + limits_.header_timeout, now, false};
  return true;
}

void ConnectionGuard::header_done(const void* id) {
  std::lock_guard lock(mu_);
  if (auto it = conns_.find(id); it != conns_.end()) it->second.deadline.reset();
}

void ConnectionGuard::request_done(const void* id, Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (auto it = conns_.find(id); it != conns_.end()) {
    it->second.deadline = now + limits_.idle_timeout;
    it->second.phase_start = now;
  }
}

void ConnectionGuard::closed(const void* id) {
  std::lock_guard lock(mu_);
  auto it = conns_.find(id);
  if (it == conns_.end()) return;  // refused by opened(): never counted
  auto pc = per_client_.find(it->second.client);
  if (pc != per_client_.end() && --pc->second == 0) per_client_.erase(pc);
  conns_.erase(it);
}

std::size_t ConnectionGuard::expire(Clock::time_point now,
                                    const std::function<void(int fd)>& close_fd) {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  bool busy = conns_.size() >= limits_.busy_at;
  for (auto& [id, e] : conns_) {
    if (e.expired || !e.deadline) continue;
    auto deadline =
        busy ? std::min(*e.deadline, e.phase_start + limits_.busy_timeout) : *e.deadline;
    if (now < deadline) continue;
    e.expired = true;
    close_fd(e.fd);
    ++n;
  }
  return n;
}

std::size_t ConnectionGuard::connections_of(const std::string& client) const {
  std::lock_guard lock(mu_);
  auto it = per_client_.find(client);
  return it == per_client_.end() ? 0 : it->second;
}

std::size_t ConnectionGuard::connections() const {
  std::lock_guard lock(mu_);
  return conns_.size();
}

}  // namespace portman::agent
