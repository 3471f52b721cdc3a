// The owners collector: which processes hold the sockets the sockets collector found.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "collectors/collector.hpp"

namespace portman {

// Fills ListeningSocket::owners (or owner_unknown) for state.sockets, and says in
// LiveState::owner_source which owner source found them (owner_source.hpp): `method` bpf, procfs,
// or auto (bpf where the kernel loads it and --path.procfs is this kernel's /proc, else procfs).
// `method` must be one of those three.
std::unique_ptr<Collector> make_owners_collector(const CollectorOptions& options,
                                                 std::string method = "auto");
// The table's factory: owners.method from the settings; refuses any other method, and bpf in a
// portman built without it.
Result<std::unique_ptr<Collector>> make_owners_from_settings(const CollectorContext& context);
std::span<const OptionSpec> owners_options();
// portman_owner_source_info{source}: 1 for the owner source the last run used.
extern const MetricSpec kOwnerSourceInfoMetric;
std::span<const MetricSpec* const> owners_metrics();

}  // namespace portman
