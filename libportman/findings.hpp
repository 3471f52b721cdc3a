// The comparison: registry (what should be) against live state (what is). Pure: no I/O, so that
// the CLI, the agent and the tests all get the same answer from the same inputs.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libportman/config.hpp"
#include "libportman/live_state.hpp"
#include "libportman/registry.hpp"

namespace portman {

enum class FindingKind {
  unregistered,       // listening, not registered, not ignored
  registered_down,    // status active, nothing listening
  status_mismatch,    // listening, status not active
  owner_mismatch,     // the entry names a process and another one listens
  out_of_range,       // port outside its service_type's range
  duplicate,          // two programs on one port, or one port registered twice
  exposure_mismatch,  // listens wider than the entry's bind address
  // From the Dokploy inventory (inventory/dokploy_findings.hpp), for this server only:
  dokploy_unregistered,  // Dokploy publishes a host port that the registry lacks
  dokploy_mismatch,      // the registry gives a port Dokploy publishes to another service
  dokploy_collision,     // two Dokploy services publish one host port and protocol
};

inline constexpr FindingKind kAllFindingKinds[] = {
    FindingKind::unregistered,      FindingKind::registered_down,
    FindingKind::status_mismatch,   FindingKind::owner_mismatch,
    FindingKind::out_of_range,      FindingKind::duplicate,
    FindingKind::exposure_mismatch, FindingKind::dokploy_unregistered,
    FindingKind::dokploy_mismatch,  FindingKind::dokploy_collision};

std::string_view to_string(FindingKind kind);

struct Finding {
  FindingKind kind;
  PortKey key;
  std::string service_name;  // registered service, empty when unregistered
  std::string process;       // listening process, empty when none or unknown
  std::string detail;        // one line for a human
};

// Sorted by port, protocol, then kind.
std::vector<Finding> compare(const Registry& registry, const LiveState& live, const Config& config);
// The order compare() gives, for findings added by the inventory sources.
void sort_findings(std::vector<Finding>& findings);

// `portman check`'s verdict for one port.
enum class Verdict { ok, unregistered, down, idle, status_mismatch, conflict, free };
std::string_view to_string(Verdict v);
Verdict verdict_for(const Entry* entry, bool listening, std::span<const Finding> findings);

// True when two sockets of one protocol can receive the same traffic.
bool addresses_overlap(const ListeningSocket& a, const ListeningSocket& b);

}  // namespace portman
