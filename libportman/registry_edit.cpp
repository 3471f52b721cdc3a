#include "libportman/registry_edit.hpp"

#include <algorithm>

#include "libportman/allocation.hpp"
#include "libportman/json_writer.hpp"
#include "libportman/registry_file.hpp"
#include "libportman/report.hpp"

namespace portman {

Result<std::vector<std::string>> edit_registry(
    const std::filesystem::path& path, const Config& config,
    const std::function<Result<bool>(Registry&)>& change) {
  // Parsed before the lock: an invalid file is refused without even creating the sidecar, and
  // a big file does not keep other writers waiting while it is parsed.
  auto loaded = read_registry_file(path);
  if (!loaded) return loaded.error();
  auto lock = lock_registry(path, config.lock_timeout);
  if (!lock) return lock.error();
  // Parsed again only if another writer (or an editor) changed the file meanwhile.
  if (!registry_unchanged(lock->file(), *loaded)) {
    loaded = read_registry_file(lock->file());
    if (!loaded) return loaded.error();
  }
  auto changed = change(loaded->registry);
  if (!changed) return changed.error();
  if (!*changed) return std::vector<std::string>{};
  auto saved = save_registry(*lock, loaded->registry, std::chrono::system_clock::now());
  if (!saved) return saved.error();
  return std::move(*saved);
}

std::string now_timestamp() {
  return local_timestamp(std::chrono::system_clock::now());
}

Status one_of(std::string_view what, const std::string& value,
              const std::vector<std::string>& valid) {
  if (std::find(valid.begin(), valid.end(), value) != valid.end()) return {};
  std::string list;
  for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
  return make_error(ErrorKind::bad_input,
                    "unknown " + std::string(what) + " '" + value + "'; valid: " + list);
}

Status check_text(std::string_view what, const std::string& value) {
  if (!valid_utf8(value))
    return make_error(ErrorKind::bad_input, std::string(what) + " is not valid UTF-8");
  if (value.find_first_of("\r\n") != std::string::npos)
    return make_error(ErrorKind::bad_input, std::string(what) + " must be one line");
  return {};
}

Status check_new_entry(const NewEntry& e, const Config& config) {
  if (e.service.empty()) return make_error(ErrorKind::bad_input, "NAME must not be empty");
  for (auto [what, value] : {std::pair{"NAME", &e.service},
                             {"--owner", &e.owner},
                             {"--desc", &e.description},
                             {"--url", &e.url},
                             {"--process", &e.process}})
    if (auto st = check_text(what, *value); !st) return st;
  if (auto st = one_of("environment", e.environment, config.environments); !st) return st;
  if (auto st = one_of("status", e.status, config.statuses); !st) return st;
  if (!e.service_type.empty() && !config.find_type(e.service_type))
    return make_error(ErrorKind::bad_input,
                      "unknown type '" + e.service_type + "'; valid: " + config.type_names());
  if (!e.bind.empty())
    if (auto p = parse_address_pattern(e.bind); !p || e.bind.find('/') != std::string::npos)
      return make_error(ErrorKind::bad_input,
                        "invalid --bind '" + e.bind + "': give one IPv4 or IPv6 address");
  return {};
}

Json entry_fields(const NewEntry& e, Protocol protocol, const std::string& timestamp) {
  Json entry = Json::object();
  entry["service"] = e.service;
  entry["description"] = e.description.empty() ? e.service + " service" : e.description;
  entry["environment"] = e.environment;
  entry["protocol"] = std::string(to_string(protocol));
  entry["owner"] = e.owner;
  entry["status"] = e.status;
  if (!e.url.empty()) entry["url"] = e.url;
  if (!e.service_type.empty()) entry["service_type"] = e.service_type;
  if (!e.process.empty()) entry["process"] = e.process;
  if (!e.bind.empty()) entry["bind"] = e.bind;
  for (const auto& [k, v] : e.extra.items()) entry[k] = v;
  entry["allocated_at"] = timestamp;
  return entry;
}

Error not_registered_error(const Registry& registry, PortKey key, std::string_view next) {
  std::string msg = "port " + registry_key(key) + " is not registered";
  PortKey other{key.port, key.protocol == Protocol::tcp ? Protocol::udp : Protocol::tcp};
  if (const Entry* e = registry.find(other))
    msg += "; " + registry_key(other) + " is (" + e->service + "): give " + registry_key(other) +
           (other.protocol == Protocol::udp ? " or --udp" : "");
  else if (!next.empty())
    msg += "; " + std::string(next);
  return make_error(ErrorKind::refused, msg);
}

Result<Allocation> choose_port(const Registry& registry, const Config& config,
                               const AllocationRequest& req, const LiveScan& scan) {
  const ServiceType* type = req.type;
  const PortKey* wanted = req.wanted ? &*req.wanted : nullptr;
  const Protocol proto = wanted ? wanted->protocol : req.protocol;
  auto first_free = [&]() -> Result<PortKey> {
    auto live = scan(std::nullopt);
    if (!live) return live.error();
    for (const auto& r : live->runs)
      if (!r.success && (r.collector == "sockets"))
        return make_error(ErrorKind::io, "cannot see which ports listen (" + r.collector + ": " +
                                             r.error + "); nothing allocated");
    PortPlanner planner(config, registry, *live, std::chrono::system_clock::now());
    auto ports = planner.free_ports(type->range, proto, 1);
    if (ports.empty())
      return make_error(ErrorKind::refused, "no free " + std::string(to_string(proto)) +
                                                " port in " + type->name + " range " +
                                                type->range.to_string() +
                                                " (registered, listening, reserved or in "
                                                "quarantine); see: portman suggest -t " +
                                                type->name);
    return PortKey{ports.front(), proto};
  };
  Allocation out;
  if (!wanted) {
    auto next = first_free();
    if (!next) return next.error();
    out.port = *next;
    return out;
  }
  const Entry* e = registry.find(*wanted);
  if (!e) {
    out.port = *wanted;
    return out;
  }
  std::string taken = "port " + registry_key(*wanted) + " is already registered to '" + e->service +
                      "' (owner " + (e->owner.empty() ? "unknown" : e->owner) + ", status " +
                      e->status + ")";
  if (!type)
    return make_error(ErrorKind::refused, taken +
                                              "; no type's range holds it, so give -t TYPE to be "
                                              "offered a free port; see: portman check " +
                                              registry_key(*wanted));
  auto next = first_free();
  if (!next) {
    if (next.error().kind != ErrorKind::refused) return next.error();
    return make_error(ErrorKind::refused, taken + "; " + next.error().message);
  }
  if (!req.auto_reassign)
    return make_error(ErrorKind::refused,
                      taken + "; the next free " + type->name + " port is " + registry_key(*next) +
                          " (portman allocate " + req.entry.service + " -p " + registry_key(*next) +
                          ", or PORT_CONFLICT_ACTION=auto-reassign to take it)");
  out.reassigned_from = taken;
  out.port = *next;
  return out;
}

Result<Allocation> allocate(const std::filesystem::path& path, const Config& config,
                            const AllocationRequest& req, const LiveScan& scan) {
  if (auto st = check_new_entry(req.entry, config); !st) return st.error();
  if (!req.type && !req.wanted)
    return make_error(ErrorKind::bad_input,
                      "give -t TYPE or -p PORT; types: " + config.type_names());
  Allocation chosen;
  auto saved = edit_registry(path, config, [&](Registry& registry) -> Result<bool> {
    // The socket scan happens under the lock: the choice and the write are one step.
    auto c = choose_port(registry, config, req, scan);
    if (!c) return c.error();
    chosen = std::move(*c);
    registry.add(chosen.port, entry_fields(req.entry, chosen.port.protocol, now_timestamp()));
    return true;
  });
  if (!saved) return saved.error();
  chosen.warnings = std::move(*saved);
  return chosen;
}

Result<Released> release_port(const std::filesystem::path& path, const Config& config, PortKey key,
                              bool force, const LiveScan& scan) {
  Released out;
  auto saved = edit_registry(path, config, [&](Registry& registry) -> Result<bool> {
    const Entry* e = registry.find(key);
    if (!e) return not_registered_error(registry, key, "nothing to release");
    out.service = e->service;
    if (!force) {
      auto live = scan(key);
      if (!live) return live.error();
      if (!live->sockets.empty()) {
        const ListeningSocket& s = live->sockets.front();
        const Owner* ow = s.main_owner();
        std::string who = s.holder();
        return make_error(
            ErrorKind::refused,
            "port " + registry_key(key) + " is still listening" +
                (ow ? " (" + who + ", pid " + std::to_string(ow->pid) + ")" : std::string()) +
                "; stop the service first, or use --force");
      }
    }
    registry.release(key, now_timestamp());
    return true;
  });
  if (!saved) return saved.error();
  out.warnings = std::move(*saved);
  return out;
}

Result<Updated> update_status(const std::filesystem::path& path, const Config& config, PortKey key,
                              const std::string& status, const std::optional<std::string>& note) {
  if (auto st = one_of("status", status, config.statuses); !st) return st.error();
  if (note)
    if (auto st = check_text("--note", *note); !st) return st.error();
  Updated out;
  auto saved = edit_registry(path, config, [&](Registry& registry) -> Result<bool> {
    if (!registry.find(key))
      return not_registered_error(
          registry, key, "register it first: portman allocate NAME -p " + registry_key(key));
    registry.set_status(key, status, note, now_timestamp());
    out.entry = entry_json(*registry.find(key));
    return true;
  });
  if (!saved) return saved.error();
  out.warnings = std::move(*saved);
  return out;
}

}  // namespace portman
