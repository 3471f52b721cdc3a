// portman.yml: what the operator decides (types and their ranges, statuses, reserved ports...).
// Loaded strictly: an unknown key, a wrong type or an impossible range is refused with the file,
// line and column, so that a bad config never silently becomes a different one.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libportman/live_state.hpp"
#include "libportman/result.hpp"
#include "libportman/source_settings.hpp"

namespace portman {

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  bool contains(std::uint16_t port) const { return port >= first && port <= last; }
  int size() const { return last - first + 1; }
  std::string to_string() const;
};

// "3000-3099", or "3000" for a range of one port.
Result<PortRange> parse_port_range(std::string_view text);

struct ServiceType {
  std::string name;
  PortRange range;
  std::string description;
  std::vector<std::string> aliases;
};

// An address, or a network in CIDR notation ("10.0.0.0/8", "fd00::/8").
struct AddressPattern {
  std::string text;
  bool ipv6 = false;
  std::array<std::uint8_t, 16> bytes{};
  int prefix = 0;
  bool matches(std::string_view address) const;
};

Result<AddressPattern> parse_address_pattern(std::string_view text);

struct IgnoreRules {
  std::vector<PortRange> ports;
  std::vector<AddressPattern> addresses;
  std::vector<std::string> processes;  // process names (comm)
  // A UDP client that sends without binding gets a wildcard socket on an ephemeral port, new at
  // every restart: listed, never an `unregistered` finding.
  bool ephemeral_udp = true;
  bool port_ignored(std::uint16_t port) const;
  bool ephemeral_client(const ListeningSocket& socket, const LiveState& live) const;
  bool ignores(const ListeningSocket& socket) const;
};

// The `agent:` section. Every key has a command-line flag of the same meaning; the flag wins.
struct AgentConfig {
  std::vector<std::string> listen_addresses = {":9097"};  // --web.listen-address
  std::string telemetry_path = "/metrics";                // --web.telemetry-path
  std::string web_config_file;                            // --web.config.file
  std::map<std::string, bool> collectors;  // --[no-]collector.NAME; only what the file says
  std::chrono::milliseconds scan_min_interval{2000};  // --scan.min-interval
  std::string log_level = "info";                     // --log.level
  std::string log_format = "logfmt";                  // --log.format
  std::string procfs = "/proc";                       // --path.procfs
  std::string rootfs = "/";                           // --path.rootfs
};

// The `nginx:` section, for `portman sync --nginx`. The paths may hold {domain}.
struct NginxConfig {
  std::string certificate;      // e.g. /etc/letsencrypt/live/{domain}/fullchain.pem
  std::string certificate_key;  // e.g. /etc/letsencrypt/live/{domain}/privkey.pem
  std::string listen_address;   // address the server blocks listen on; empty: all
};

struct Config {
  std::string source = "built-in defaults";  // the file it came from
  std::optional<std::string> registry;       // the `registry:` key, when set
  std::vector<ServiceType> types;            // ordered by range
  std::vector<std::string> environments;
  std::vector<std::string> statuses;
  std::vector<std::uint16_t> reserved;
  std::chrono::milliseconds quarantine{};
  IgnoreRules ignore;
  std::chrono::milliseconds lock_timeout{};
  AgentConfig agent;
  NginxConfig nginx;
  // The sections of the sources (docker:, dokploy:): key -> value as written, with file:line:col.
  // Each source reads its own (libportman/sources.hpp); the reader only checks the keys.
  std::map<std::string, std::map<std::string, SettingValue>> source_sections;

  // By name or alias, case-insensitive ("ai" finds ml); nullptr when unknown.
  const ServiceType* find_type(std::string_view name_or_alias) const;
  // The type whose range holds the port; nullptr when none does.
  const ServiceType* type_of_port(std::uint16_t port) const;
  bool is_reserved(std::uint16_t port) const;
  bool has_environment(std::string_view env) const;
  bool has_status(std::string_view status) const;
  std::string type_names() const;  // "web, database, ... (aliases: ai, internal, temp)"
};

Config default_config();

// Every key the reader accepts, dotted ("agent.rootfs", "types.NAME.range", "docker.host"):
// what docs/configuration.md must describe (its unit test checks).
std::vector<std::string> accepted_config_keys();

// Merges the YAML text over the defaults; `source` names the file in error messages.
Result<Config> parse_config(std::string_view yaml, std::string_view source);

// --config FILE, else $PORTMAN_CONFIG, else /etc/portman/portman.yml, else the defaults. A file
// the user named must exist; the default file may be missing.
Result<Config> load_config(const std::optional<std::string>& explicit_path);

// --registry, else $PORT_REGISTRY_PATH, else the config's `registry:`, else
// /var/lib/portman/port_registry.json for root, else $XDG_STATE_HOME/portman/port_registry.json.
std::filesystem::path resolve_registry_path(const std::optional<std::string>& flag,
                                            const Config& config);

// The same path, with how it was chosen ("--registry", "$PORT_REGISTRY_PATH", ...), so that a
// missing file can be reported with the setting to correct.
struct RegistryLocation {
  std::filesystem::path path;
  std::string origin;
};
RegistryLocation resolve_registry_location(const std::optional<std::string>& flag,
                                           const Config& config);

}  // namespace portman
