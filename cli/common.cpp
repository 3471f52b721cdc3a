#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "libportman/registry_file.hpp"
#include "libportman/sources.hpp"

namespace portman::cli {

Result<PortKey> port_key(const std::string& port, bool udp) {
  // "5353/udp" as `scan` prints it, "80/tcp", or a bare number with --udp deciding.
  std::string_view number = port;
  std::optional<Protocol> suffix;
  if (auto slash = number.find('/'); slash != std::string_view::npos) {
    std::string_view proto = number.substr(slash + 1);
    if (proto == "tcp")
      suffix = Protocol::tcp;
    else if (proto == "udp")
      suffix = Protocol::udp;
    else
      return make_error(ErrorKind::bad_input, "invalid port '" + port +
                                                  "': the protocol after / must be tcp or udp "
                                                  "(e.g. 5353/udp)");
    number = number.substr(0, slash);
  }
  auto p = parse_port(number);
  if (!p) return p.error();
  if (suffix == Protocol::tcp && udp)
    return make_error(ErrorKind::bad_input,
                      "port '" + port + "' says tcp but --udp was given; give one of them");
  Protocol protocol = suffix.value_or(udp ? Protocol::udp : Protocol::tcp);
  return PortKey{*p, protocol};
}

bool registry_missing(const Context& ctx) {
  struct stat st {};
  return ::stat(ctx.registry.c_str(), &st) != 0 && errno == ENOENT;
}

std::string missing_registry_message(const Context& ctx) {
  return "registry " + ctx.registry.string() + " (from " + ctx.registry_origin + ") does not exist";
}

Result<Registry> read_registry(const Context& ctx) {
  auto loaded = read_registry_file(ctx.registry);
  if (!loaded) return loaded.error();
  if (!loaded->found)
    std::cerr << "portman: warning: " << missing_registry_message(ctx)
              << "; reading it as empty ('portman allocate' creates it)\n";
  return std::move(loaded->registry);
}

Error not_registered(const Context& ctx, const Registry& registry, PortKey key,
                     std::string_view next) {
  std::string msg = "port " + registry_key(key) + " is not registered";
  PortKey other{key.port, key.protocol == Protocol::tcp ? Protocol::udp : Protocol::tcp};
  if (const Entry* e = registry.find(other))
    msg += "; " + registry_key(other) + " is (" + e->service + "): give " + registry_key(other) +
           (other.protocol == Protocol::udp ? " or --udp" : "");
  else if (registry_missing(ctx))
    msg += ": " + missing_registry_message(ctx);
  else if (!next.empty())
    msg += "; " + std::string(next);
  return make_error(ErrorKind::refused, msg);
}

Result<LiveState> scan_live(const Context& ctx, const ScanScope& scope) {
  auto scanner = make_scanner(ctx.collectors, ctx.sources);
  if (!scanner) return scanner.error();
  return scanner->scan(scope);
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
