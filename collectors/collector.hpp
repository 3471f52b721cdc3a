// The one interface every live collector implements, and the table that lists them all.
// Adding a collector (docker, netns) means its own files and one row in collector_table.cpp: the
// row declares its name, its options (a section of portman.yml and --SECTION.KEY flags), the
// metrics it reports about itself, and a factory that can refuse bad settings.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "libportman/accounts.hpp"
#include "libportman/live_state.hpp"
#include "libportman/metric_spec.hpp"
#include "libportman/result.hpp"
#include "libportman/source_settings.hpp"

namespace portman {

// Shared by every collector, fixed for their life.
struct CollectorOptions {
  std::filesystem::path procfs = "/proc";  // --path.procfs
  // Where user names come from: this system's databases, or --path.rootfs's etc/passwd.
  Accounts accounts;
  // Where sockets come from: "netlink" (sock_diag), "procfs" (/proc/net/{tcp,tcp6,udp,udp6}),
  // or "auto": netlink, falling back to procfs when netlink is unavailable, and procfs alone
  // when procfs is not /proc (a fixture tree has no kernel behind it).
  std::string socket_source = "auto";
  // How long a scan waits for a remote source (Docker's Engine API) once it has answered before:
  // longer, the scan uses its previous answer and the fresh one serves the next scan. The agent
  // sets it so that a slow daemon cannot slow the scrapes; unset (one-shot commands), a scan
  // waits for the answer or the source's own timeout.
  std::optional<std::chrono::milliseconds> remote_wait;
};

// What one run is asked for; narrowing it lets `check PORT` do a fraction of a full scan.
struct ScanScope {
  std::optional<PortKey> only;  // one port and protocol, or everything
  bool owners = true;           // attribute sockets to processes
  bool operator==(const ScanScope&) const = default;
};

class Collector {
 public:
  virtual ~Collector() = default;
  // Called on every collector before any of them collects, with the scope collect will get:
  // starts, on a thread of its own, work that needs nothing from the others, so that it runs
  // while they do (the BPF owners iterator while the sockets are dumped). Never fails: collect
  // reports what went wrong.
  virtual void prepare(const ScanScope& /*scope*/) {}
  // Adds what it sees to `state`. A failure is returned, never thrown; the caller records it
  // and the other collectors still run.
  virtual Status collect(const ScanScope& scope, LiveState& state) = 0;
  // Called once every collector has run: drops from `state` what this collector added and what
  // has gone meanwhile (a socket closed while the others read /proc), so that a scan reports
  // nothing that no longer exists at its end. Never fails: what cannot be confirmed stays.
  virtual void confirm(const ScanScope& /*scope*/, LiveState& /*state*/) {}
};

// What a factory gets: the shared options and the collector's own settings.
struct CollectorContext {
  const CollectorOptions& shared;
  const SourceSettings& settings;
};

struct CollectorSpec {
  std::string_view name;  // --collector.NAME, agent.collectors.NAME
  bool enabled_by_default;
  std::string_view help;
  std::span<const OptionSpec> options;         // its section of portman.yml, named `name`
  std::span<const MetricSpec* const> metrics;  // what it reports in LiveState::samples
  // Refuses settings it cannot work with (a malformed docker.host), with one line.
  Result<std::unique_ptr<Collector>> (*make)(const CollectorContext&);
};

// In run order: later collectors build on what earlier ones found (owners need sockets, docker
// needs owners).
std::span<const CollectorSpec> collector_table();

}  // namespace portman
