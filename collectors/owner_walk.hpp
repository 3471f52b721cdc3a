// The /proc walk: finds the holders of sockets by reading <procfs>/PID/fd, one readlink per open
// file of every process, as `ss -p` does. It works everywhere /proc is readable, so it is the
// fallback of the BPF iterator and the only source for a procfs that is not this kernel's /proc.
#pragma once

#include <filesystem>
#include <memory>

#include "collectors/owner_source.hpp"

namespace portman {

// Walks in pid order, the sockets' network namespace first, and stops as soon as every socket
// has an owner other than PID 1; then adds the descendants of each owner that hold the same
// sockets (pre-forking servers). Without /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN) it
// reads the parent pid of every remaining process instead, so the owner lists stay complete.
std::unique_ptr<OwnerSource> make_walk_owner_source(const std::filesystem::path& procfs);

}  // namespace portman
