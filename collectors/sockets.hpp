// The `sockets` collector: every TCP and UDP socket that listens, from netlink or procfs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>

#include "collectors/collector.hpp"

namespace portman {

std::unique_ptr<Collector> make_sockets_collector(const CollectorOptions& options);

// PROCFS/sys/net/ipv4/ip_local_port_range as (first, last); nullopt when unreadable.
std::optional<std::pair<std::uint16_t, std::uint16_t>> read_ephemeral_ports(
    const std::filesystem::path& procfs);

}  // namespace portman
