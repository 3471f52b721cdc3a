// The one interface every collector implements, and the table that lists them all.
// Adding a collector (docker, dokploy) means one new file and one row in collector_table.cpp.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "libportman/live_state.hpp"
#include "libportman/result.hpp"

namespace portman {

// Fixed for the life of a collector.
struct CollectorOptions {
  std::filesystem::path procfs = "/proc";  // --path.procfs
  // Where sockets come from: "netlink" (sock_diag), "procfs" (/proc/net/{tcp,tcp6,udp,udp6}),
  // or "auto": netlink, falling back to procfs when netlink is unavailable, and procfs alone
  // when procfs is not /proc (a fixture tree has no kernel behind it).
  std::string socket_source = "auto";
};

// What one run is asked for; narrowing it lets `check PORT` do a fraction of a full scan.
struct ScanScope {
  std::optional<PortKey> only;  // one port and protocol, or everything
  bool owners = true;           // attribute sockets to processes
};

class Collector {
 public:
  virtual ~Collector() = default;
  // Adds what it sees to `state`. A failure is returned, never thrown; the caller records it
  // and the other collectors still run.
  virtual Status collect(const ScanScope& scope, LiveState& state) = 0;
};

struct CollectorSpec {
  std::string_view name;  // --collector.NAME
  bool enabled_by_default;
  std::string_view help;
  std::unique_ptr<Collector> (*make)(const CollectorOptions&);
};

// In run order: later collectors build on what earlier ones found (owners need sockets).
std::span<const CollectorSpec> collector_table();

}  // namespace portman
