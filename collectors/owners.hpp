// The owners collector: which processes hold the sockets the sockets collector found.
#pragma once

#include <memory>

#include "collectors/collector.hpp"

namespace portman {

// Fills ListeningSocket::owners (or owner_unknown) for state.sockets by walking
// <procfs>/PID/fd. It stops as soon as every socket has an owner other than PID 1, then adds
// the descendants of each owner that hold the same sockets (pre-forking servers). Without
// /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN) it walks every process instead, so the
// owner lists stay complete.
std::unique_ptr<Collector> make_owners_collector(const CollectorOptions& options);

}  // namespace portman
