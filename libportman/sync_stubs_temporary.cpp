// TEMPORARY (branch wt-sync): stand-ins for functions that other branches define, so that this
// branch builds and its tests run. DELETE THIS FILE ON MERGE: the real definitions are
// dokploy::to_string / dokploy::is_database (the Dokploy client's branch) and edit_registry /
// check_new_entry / entry_fields (libportman/registry_edit.cpp, the lead's). edit_registry here
// is cli/common.cpp's change_registry, returning the warnings.
#include "inventory/dokploy_model.hpp"
#include "libportman/registry_edit.hpp"
#include "libportman/registry_file.hpp"

namespace portman {
namespace dokploy {

std::string_view to_string(ServiceKind kind) {
  switch (kind) {
    case ServiceKind::application:
      return "application";
    case ServiceKind::compose:
      return "compose";
    case ServiceKind::postgres:
      return "postgres";
    case ServiceKind::mysql:
      return "mysql";
    case ServiceKind::mariadb:
      return "mariadb";
    case ServiceKind::mongo:
      return "mongo";
    case ServiceKind::redis:
      return "redis";
    case ServiceKind::libsql:
      return "libsql";
  }
  return "application";
}

bool is_database(ServiceKind kind) {
  return kind != ServiceKind::application && kind != ServiceKind::compose;
}

}  // namespace dokploy

Result<std::vector<std::string>> edit_registry(
    const std::filesystem::path& path, const Config& config,
    const std::function<Result<bool>(Registry&)>& change) {
  auto loaded = read_registry_file(path);
  if (!loaded) return loaded.error();
  auto lock = lock_registry(path, config.lock_timeout);
  if (!lock) return lock.error();
  if (!registry_unchanged(lock->file(), *loaded)) {
    loaded = read_registry_file(lock->file());
    if (!loaded) return loaded.error();
  }
  auto changed = change(loaded->registry);
  if (!changed) return changed.error();
  if (!*changed) return std::vector<std::string>{};
  return save_registry(*lock, loaded->registry, std::chrono::system_clock::now());
}

Status check_new_entry(const NewEntry& entry, const Config& config) {
  if (!config.has_environment(entry.environment))
    return make_error(ErrorKind::bad_input, "unknown environment '" + entry.environment + "'");
  if (!config.has_status(entry.status))
    return make_error(ErrorKind::bad_input, "unknown status '" + entry.status + "'");
  if (!entry.service_type.empty() && !config.find_type(entry.service_type))
    return make_error(ErrorKind::bad_input, "unknown type '" + entry.service_type + "'");
  for (const std::string* s : {&entry.service, &entry.description, &entry.url})
    if (s->find('\n') != std::string::npos)
      return make_error(ErrorKind::bad_input, "not one line: '" + *s + "'");
  return {};
}

Json entry_fields(const NewEntry& entry, Protocol protocol, const std::string& timestamp) {
  Json e = Json::object();
  e["service"] = entry.service;
  e["description"] = entry.description.empty() ? entry.service + " service" : entry.description;
  e["environment"] = entry.environment;
  e["protocol"] = std::string(to_string(protocol));
  e["owner"] = entry.owner;
  e["status"] = entry.status;
  if (!entry.url.empty()) e["url"] = entry.url;
  if (!entry.service_type.empty()) e["service_type"] = entry.service_type;
  if (!entry.process.empty()) e["process"] = entry.process;
  if (!entry.bind.empty()) e["bind"] = entry.bind;
  e["allocated_at"] = timestamp;
  for (auto& [k, v] : entry.extra.items()) e[k] = v;
  return e;
}

}  // namespace portman
