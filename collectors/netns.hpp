// The `netns` collector (opt-in: --collector.netns): listeners inside containers' own network
// namespaces, which a scan of the host's namespace cannot see (a database a container serves
// only to its neighbours, the port behind a published one). One process per namespace is read
// through /proc/PID/net/{tcp,tcp6,udp,udp6}: no namespace switching, no extra privilege beyond
// reading /proc. Off by default because every container adds its sockets to every output.
#pragma once

#include <memory>

#include "collectors/collector.hpp"

namespace portman {

// Adds the sockets of every network namespace other than the scanned one whose first process
// (lowest pid) is in a container (its cgroup names one). Each gets its namespace in `netns` and
// a workload {kind "container", name: the id's first 12 hex digits, id}; the docker collector
// puts the container's name there when Docker answers, and the owners collector (which runs
// after this one) finds the processes holding them.
Status collect_netns_sockets(const std::filesystem::path& procfs, const ScanScope& scope,
                             LiveState& state);

std::unique_ptr<Collector> make_netns_collector(const CollectorOptions& options);

}  // namespace portman
