// `portman sync`: what the registry should change so that it holds every port Dokploy publishes
// on this server. Pure: the plan comes from the registry, Dokploy's inventory and the config;
// applying it is a separate step, so that `--dry-run` shows exactly what `sync` would write.
//
// A synced entry carries a `dokploy` object that later syncs match on:
//   {"project", "environment", "service", "kind", "id", "target_port"[, "compose_service"]}
// (target_port and compose_service tell apart the several ports of one service).
// Its `service` is "<project>/<name>", with "/<compose service>" for a compose port and
// "@<environment>" when the Dokploy environment is not the project's default one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "inventory/dokploy_model.hpp"
#include "libportman/config.hpp"
#include "libportman/registry.hpp"
#include "libportman/registry_edit.hpp"

namespace portman::sync {

// A port to register.
struct Addition {
  PortKey key;
  NewEntry entry;
};

// A field of an existing entry that changes.
struct FieldChange {
  std::string field;
  Json from, to;  // null when absent
};

// An entry that follows its Dokploy service: fields updated in place, or (when `from` is set)
// the service's port moved: the entry at `from` goes to the archive and one at `key` replaces it.
struct Update {
  PortKey key;
  std::optional<PortKey> from;
  std::string service;  // the entry's service name after the change
  std::vector<FieldChange> changes;
};

// An entry whose Dokploy service or port is gone: set to `inactive`, never removed.
struct Deactivation {
  PortKey key;
  std::string service;
  std::string reason;
};

// Two or more Dokploy services publish one host port: the oldest gets the entry.
struct Collision {
  PortKey key;
  std::string winner;               // the service name of the entry
  std::vector<std::string> others;  // the services that lose it
  std::string text;                 // one line, for people
};

// A port that Dokploy publishes but that the registry gives to something else (or that is one
// of Dokploy's own platform ports): reported, never overwritten.
struct Conflict {
  PortKey key;
  std::string service;  // Dokploy's
  std::string holder;   // the registry's service, or the platform port's name
  std::string text;
};

struct Plan {
  std::vector<Addition> additions;
  std::vector<Update> updates;
  std::vector<Deactivation> deactivations;
  std::vector<Collision> collisions;
  std::vector<Conflict> conflicts;
  std::vector<std::string> notes;  // environment mapping, services whose ports are unknown...
  // True when applying it would change nothing (collisions, conflicts and notes change nothing).
  bool empty() const { return additions.empty() && updates.empty() && deactivations.empty(); }
};

// The plan for the services of `server_id` (nullopt: the Dokploy host).
Plan plan_sync(const Registry& registry, const dokploy::Inventory& inventory, const Config& config,
               const std::optional<std::string>& server_id);

// Applies the plan: additions get allocated_at, changed entries updated_at = `timestamp`.
void apply(const Plan& plan, Registry& registry, const std::string& timestamp);

// The plan as a readable diff, one line per change ("+ 5433/tcp storefront/shop-db ...",
// "~ ...", "- ... -> inactive", "! ..."), then the notes; "nothing to change" when empty.
std::string render_text(const Plan& plan);
// The plan as JSON: {"add": [...], "change": [...], "inactive": [...], "collisions": [...],
// "conflicts": [...], "notes": [...]}.
Json render_json(const Plan& plan);

}  // namespace portman::sync
