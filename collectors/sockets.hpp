// The `sockets` collector: every TCP and UDP socket that listens, from netlink or procfs.
#pragma once

#include <memory>

#include "collectors/collector.hpp"

namespace portman {

std::unique_ptr<Collector> make_sockets_collector(const CollectorOptions& options);

}  // namespace portman
