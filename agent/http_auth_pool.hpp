// A small pool of threads for the slow part of basic auth (bcrypt), so that the server's request
// threads never spend ~70 ms on a password: they queue the check, suspend the connection and go
// on serving cached and open requests. The queue is bounded in all and per client; a full queue
// sheds the request at once (the server answers 503 or 429) instead of growing.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace portman::agent {

struct AuthPoolLimits {
  unsigned threads = 1;
  std::size_t capacity = 16;   // checks queued or running, all clients together
  std::size_t per_client = 4;  // of which one client may have at most this many
};

class AuthPool {
 public:
  enum class Admit { queued, full, client_full, stopped };
  // run(true) on a worker; run(false) if the pool stops before the job ran. Either way it is
  // called exactly once for a queued job.
  using Job = std::function<void(bool run)>;

  explicit AuthPool(AuthPoolLimits limits);
  ~AuthPool();  // stop()
  AuthPool(const AuthPool&) = delete;
  AuthPool& operator=(const AuthPool&) = delete;

  // `admitted` runs under the pool's lock once the job is accepted and before any worker can
  // take it: the server suspends the connection there, so the job's resume cannot come first.
  Admit submit(const std::string& client, const std::function<void()>& admitted, Job job);
  // Refuses new jobs, cancels the queued ones (run(false)), waits for the running ones.
  void stop();
  std::size_t in_flight() const;

 private:
  struct Item {
    std::string client;
    Job job;
  };
  void work();
  void release(const std::string& client);  // with mu_ held

  AuthPoolLimits limits_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::unordered_map<std::string, std::size_t> per_client_;  // queued + running
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started when the rest is ready
};

}  // namespace portman::agent
