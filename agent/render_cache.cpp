#include "agent/render_cache.hpp"

#include <malloc.h>

#include "agent/http_gzip.hpp"

namespace portman::agent {

RenderCache::Body RenderCache::body(const std::shared_ptr<const Snapshot>& snap,
                                    const std::function<std::string()>& render) {
  std::lock_guard lock(mu_);
  if (snap_ != snap || !body_) {
    body_ = std::make_shared<const std::string>(render());
    gzip_.reset();
    snap_ = snap;
    // A render allocates and frees thousands of labels: hand that memory back to the system
    // rather than keep it resident in the thread's malloc arena. At most once a second, so that
    // an agent scanning on every scrape (--scan.min-interval 0s) does not pay it each time.
    auto now = std::chrono::steady_clock::now();
    if (now - last_trim_ >= std::chrono::seconds(1)) {
      ::malloc_trim(0);
      last_trim_ = now;
    }
  }
  return body_;
}

RenderCache::Body RenderCache::gzip(const std::shared_ptr<const Snapshot>& snap) {
  std::lock_guard lock(mu_);
  if (snap_ != snap || !body_) return nullptr;  // a newer scan replaced it meanwhile
  if (!gzip_) {
    if (auto gz = gzip_compress(*body_))
      gzip_ = std::make_shared<const std::string>(std::move(*gz));
  }
  return gzip_;
}

}  // namespace portman::agent
