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
