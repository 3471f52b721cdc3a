// One rendering per snapshot: every scrape that a cached scan serves costs a pointer copy, not a
// render (2,200 sockets: ~7 ms of serialisation), and its gzip form is made once too.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "agent/idle_trim.hpp"
#include "agent/snapshot.hpp"

namespace portman::agent {

class RenderCache {
 public:
  // `trim` is told of every render: a render frees what it built its text from.
  explicit RenderCache(IdleTrim& trim) : trim_(trim) {}

  using Body = std::shared_ptr<const std::string>;

  // The rendering of `snap`, made by `render` if this is the first request for it.
  Body body(const std::shared_ptr<const Snapshot>& snap,
            const std::function<std::string()>& render);
  // The gzip form of the body of `snap`; nullptr when it could not be made.
  Body gzip(const std::shared_ptr<const Snapshot>& snap);

 private:
  IdleTrim& trim_;
  std::mutex mu_;  // held while rendering: requests for the same snapshot wait, not render twice
  std::shared_ptr<const Snapshot> snap_;
  Body body_, gzip_;
};

}  // namespace portman::agent
