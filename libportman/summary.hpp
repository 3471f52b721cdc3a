// The scan in numbers, counted in one place for every output: `scan`'s text and JSON, the agent's
// landing page, /api/scan and metrics.
#pragma once

#include <array>
#include <cstddef>
#include <iterator>
#include <span>

#include "libportman/findings.hpp"
#include "libportman/live_state.hpp"
#include "libportman/registry.hpp"

namespace portman {

struct ScanSummary {
  std::size_t listening = 0;   // sockets
  std::size_t registered = 0;  // registry entries
  std::size_t findings = 0;
  std::array<std::size_t, std::size(kAllFindingKinds)> by_kind{};  // indexed by FindingKind
  // Sockets without an owner while some processes could not be read: their owner may be one of
  // those. What to warn and alert on; processes_unreadable is the detail.
  std::size_t sockets_owner_unknown = 0;
  int processes_unreadable = 0;

  std::size_t of(FindingKind kind) const { return by_kind[static_cast<std::size_t>(kind)]; }
};

ScanSummary summarize(const Registry& registry, const LiveState& live,
                      std::span<const Finding> findings);

// The socket has no owner while some processes could not be read: its owner may be one of them.
// When every process was read, a socket without an owner is one no process holds (a kernel
// socket, or its process just exited), which no privilege would change.
bool owner_unreadable(const ListeningSocket& socket, const LiveState& live);

}  // namespace portman
