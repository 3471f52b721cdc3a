// The registry's use cases as the CLI and `sync` share them: one way to change the file (read,
// lock, re-read if another writer got there first, change, save atomically), and the shape and
// checks of a new entry, the choice of a port, a release and a status change. No printing: the
// callers say what happened.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "libportman/config.hpp"
#include "libportman/live_state.hpp"
#include "libportman/registry.hpp"
#include "libportman/result.hpp"

namespace portman {

// Reads the registry at `path`, locks it, applies `change` and saves atomically when `change`
// returns true; nothing is written when it returns false or an Error. The save's warnings
// (e.g. a group it could not keep) come back for the caller to print.
Result<std::vector<std::string>> edit_registry(
    const std::filesystem::path& path, const Config& config,
    const std::function<Result<bool>(Registry&)>& change);

// Sees which ports listen now; called under the lock so that choice and write are one step.
using LiveScan = std::function<Result<LiveState>(const std::optional<PortKey>& only)>;

// What a new entry says. `extra` holds further fields kept as given (sync's `dokploy` object).
struct NewEntry {
  std::string service;
  std::string description;  // default "<service> service"
  std::string environment = "production";
  std::string owner = "unknown";
  std::string status = "allocated";
  std::string url, service_type, process, bind;
  Json extra = Json::object();
};

// One-line errors for a value that cannot go into the registry: an unknown environment, type or
// status, text that is not one line of UTF-8, a bind that is not one address.
Status check_new_entry(const NewEntry& entry, const Config& config);
// The JSON object written for it, with `allocated_at` = timestamp.
Json entry_fields(const NewEntry& entry, Protocol protocol, const std::string& timestamp);

// Local time as the seed wrote it, for allocated_at / updated_at / released_at.
std::string now_timestamp();

}  // namespace portman

namespace portman {

// Refuses a value that must be one of `valid`, naming them.
Status one_of(std::string_view what, const std::string& value,
              const std::vector<std::string>& valid);
// Refuses text that is not one line of UTF-8.
Status check_text(std::string_view what, const std::string& value);

// `allocate`: a new entry on the wanted port, or on the first free port of its type.
struct AllocationRequest {
  NewEntry entry;
  const ServiceType* type = nullptr;  // the range to choose from; nullptr with `wanted` only
  std::optional<PortKey> wanted;      // -p
  Protocol protocol = Protocol::tcp;
  // The old scripts' PORT_CONFLICT_ACTION=auto-reassign: a registered `wanted` port gives the
  // type's first free port instead of a refusal.
  bool auto_reassign = false;
};

struct Allocation {
  PortKey port;
  std::string reassigned_from;  // why `wanted` was not taken, when it was reassigned
  std::vector<std::string> warnings;
};

// Chooses under the lock and writes. Refused (nothing written) when the wanted port is
// registered, the range is full, or the sockets cannot be seen.
Result<Allocation> allocate(const std::filesystem::path& registry, const Config& config,
                            const AllocationRequest& request, const LiveScan& scan);
// The choice alone, on a registry the caller has locked (sync uses it inside its own edit).
Result<Allocation> choose_port(const Registry& registry, const Config& config,
                               const AllocationRequest& request, const LiveScan& scan);

// `release`: moves the entry to the archive; refused while the port listens unless `force`.
struct Released {
  std::string service;
  std::vector<std::string> warnings;
};
Result<Released> release_port(const std::filesystem::path& registry, const Config& config,
                              PortKey key, bool force, const LiveScan& scan);

// `update`: a configured status and an optional note. The entry as saved comes back.
struct Updated {
  Json entry;
  std::vector<std::string> warnings;
};
Result<Updated> update_status(const std::filesystem::path& registry, const Config& config,
                              PortKey key, const std::string& status,
                              const std::optional<std::string>& note);

// "port 5353/tcp is not registered", naming the other protocol's entry when there is one (the
// seed's users type 5353 for 5353/udp), else `next` (what to do).
Error not_registered_error(const Registry& registry, PortKey key, std::string_view next);

}  // namespace portman
