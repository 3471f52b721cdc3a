#include <algorithm>
#include <chrono>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "libportman/registry_file.hpp"
#include "libportman/scan.hpp"

namespace portman::cli {

Result<PortKey> port_key(const std::string& port, bool udp) {
  auto p = parse_port(port);
  if (!p) return p.error();
  return PortKey{*p, udp ? Protocol::udp : Protocol::tcp};
}

Result<Registry> read_registry(const Context& ctx) {
  return load_registry(ctx.registry);
}

LiveState scan_live(const Context& ctx, const ScanScope& scope) {
  Scanner scanner(ctx.collectors);
  return scanner.scan(scope);
}

Status change_registry(const Context& ctx, const std::function<Result<bool>(Registry&)>& change) {
  // Parsed before the lock: an invalid file is refused without even creating the sidecar, and
  // a big file does not keep other writers waiting while it is parsed.
  auto loaded = read_registry_file(ctx.registry);
  if (!loaded) return loaded.error();
  auto lock = lock_registry(ctx.registry, ctx.config.lock_timeout);
  if (!lock) return lock.error();
  // Parsed again only if another writer (or an editor) changed the file meanwhile.
  if (!registry_unchanged(lock->file(), *loaded)) {
    loaded = read_registry_file(lock->file());
    if (!loaded) return loaded.error();
  }
  auto changed = change(loaded->registry);
  if (!changed) return changed.error();
  if (!*changed) return {};
  auto saved = save_registry(*lock, loaded->registry, std::chrono::system_clock::now());
  if (!saved) return saved.error();
  for (const auto& warning : *saved) std::cerr << "portman: warning: " << warning << "\n";
  return {};
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

Result<const ServiceType*> type_option(const Config& config, const std::string& name) {
  if (name.empty()) return static_cast<const ServiceType*>(nullptr);
  if (const ServiceType* t = config.find_type(name)) return t;
  return make_error(ErrorKind::bad_input,
                    "unknown type '" + name + "'; valid: " + config.type_names());
}

}  // namespace portman::cli
