// The bcrypt pool: bounded in all and per client, jobs run once, cancelled ones told so.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/http_auth_pool.hpp"

using namespace portman::agent;
using namespace std::chrono_literals;

namespace {

// A gate the jobs wait on, so that the test decides when they finish.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return open; });
  }
  void release() {
    {
      std::lock_guard lock(mu);
      open = true;
    }
    cv.notify_all();
  }
};

AuthPoolLimits limits(unsigned threads, std::size_t capacity, std::size_t per_client) {
  AuthPoolLimits l;
  l.threads = threads;
  l.capacity = capacity;
  l.per_client = per_client;
  return l;
}

}  // namespace

TEST_CASE("The pool runs a queued job on a worker after its admitted step") {
  std::promise<bool> ran;
  std::atomic<bool> admitted{false};
  AuthPool pool(limits(1, 4, 2));  // last: stopped before what its jobs use goes
  auto r = pool.submit(
      "a", [&] { admitted = true; }, [&](bool run) { ran.set_value(run && admitted.load()); });
  CHECK(r == AuthPool::Admit::queued);
  auto f = ran.get_future();
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  CHECK(f.get());
}

TEST_CASE("The pool sheds a client beyond per_client and everyone beyond capacity") {
  Gate gate;
  std::atomic<int> runs{0};  // before the pool: its destructor runs the last job
  AuthPool pool(limits(1, 3, 2));
  auto job = [&](bool run) {
    gate.wait();
    runs += run;
  };
  CHECK(pool.submit("a", {}, job) == AuthPool::Admit::queued);
  CHECK(pool.submit("a", {}, job) == AuthPool::Admit::queued);
  CHECK(pool.submit("a", {}, job) == AuthPool::Admit::client_full);
  CHECK(pool.submit("b", {}, job) == AuthPool::Admit::queued);
  CHECK(pool.submit("c", {}, job) == AuthPool::Admit::full);
  CHECK(pool.in_flight() == 3);
  gate.release();
  for (int i = 0; i < 500 && pool.in_flight() > 0; ++i) std::this_thread::sleep_for(10ms);
  CHECK(pool.in_flight() == 0);
  CHECK(runs == 3);
  // Room again once the jobs are done.
  CHECK(pool.submit("a", {}, job) == AuthPool::Admit::queued);
}

TEST_CASE("Stopping the pool cancels queued jobs and refuses new ones") {
  Gate gate;
  std::atomic<int> ran{0}, cancelled{0};
  auto pool = std::make_unique<AuthPool>(limits(1, 8, 8));
  std::promise<void> started;
  pool->submit("a", {}, [&](bool run) {
    started.set_value();
    gate.wait();
    ran += run;
  });
  started.get_future().wait();
  for (int i = 0; i < 3; ++i) pool->submit("a", {}, [&](bool run) { (run ? ran : cancelled)++; });
  std::thread releaser([&] {
    std::this_thread::sleep_for(100ms);
    gate.release();
  });
  pool->stop();  // waits for the running job
  releaser.join();
  CHECK(ran == 1);
  CHECK(cancelled == 3);
  CHECK(pool->submit("a", {}, [](bool) {}) == AuthPool::Admit::stopped);
}

TEST_CASE("Several workers run checks in parallel") {
  std::atomic<int> inside{0}, most{0};
  std::atomic<int> done{0};
  AuthPool pool(limits(2, 4, 4));
  for (int i = 0; i < 2; ++i)
    pool.submit("a", {}, [&](bool) {
      int now = ++inside;
      for (int old = most; old < now && !most.compare_exchange_weak(old, now);) {
      }
      std::this_thread::sleep_for(200ms);
      --inside;
      ++done;
    });
  for (int i = 0; i < 500 && done < 2; ++i) std::this_thread::sleep_for(10ms);
  CHECK(done == 2);
  CHECK(most == 2);
}
