#include "agent/render_cache.hpp"

#include "agent/http_gzip.hpp"

namespace portman::agent {

RenderCache::Body RenderCache::body(const std::shared_ptr<const Snapshot>& snap,
                                    const std::function<std::string()>& render) {
  std::lock_guard lock(mu_);
  if (snap_ != snap || !body_) {
    body_ = std::make_shared<const std::string>(render());
    gzip_.reset();
    snap_ = snap;
    trim_.used();  // the scan and render freed memory: given back once the agent is idle
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
