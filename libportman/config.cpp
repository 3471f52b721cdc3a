#include "libportman/config.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <yaml-cpp/yaml.h>

#include "collectors/collector.hpp"
#include "inventory/inventory_source.hpp"
#include "libportman/duration.hpp"
#include "libportman/limits.hpp"
#include "libportman/sources.hpp"
#include "libportman/whole_file.hpp"
#include "libportman/yaml_load.hpp"

namespace portman {

std::string PortRange::to_string() const {
  return first == last ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(last);
}

Result<PortRange> parse_port_range(std::string_view text) {
  auto bad = [&] {
    return make_error(ErrorKind::bad_input, "invalid port range '" + std::string(text) +
                                                "': write FIRST-LAST with ports 1-65535 and "
                                                "FIRST <= LAST, e.g. 3000-3099");
  };
  auto dash = text.find('-');
  auto first = parse_port(text.substr(0, dash));
  if (!first) return bad();
  if (dash == std::string_view::npos) return PortRange{*first, *first};
  auto last = parse_port(text.substr(dash + 1));
  if (!last || *last < *first) return bad();
  return PortRange{*first, *last};
}

Result<AddressPattern> parse_address_pattern(std::string_view text) {
  AddressPattern p;
  p.text = std::string(text);
  std::string addr(text.substr(0, text.find('/')));
  if (inet_pton(AF_INET, addr.c_str(), p.bytes.data()) == 1) {
    p.prefix = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), p.bytes.data()) == 1) {
    p.ipv6 = true;
    p.prefix = 128;
  } else {
    return make_error(ErrorKind::bad_input, "invalid address '" + std::string(text) +
                                                "': write an IPv4 or IPv6 address, optionally "
                                                "with /PREFIX (e.g. 127.0.0.1, 10.0.0.0/8, ::1)");
  }
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    auto n = parse_port(text.substr(slash + 1));  // a small whole number
    int max = p.ipv6 ? 128 : 32;
    if (text.substr(slash + 1) == "0") {
      p.prefix = 0;
    } else if (!n || *n > max) {
      return make_error(ErrorKind::bad_input, "invalid prefix in '" + std::string(text) +
                                                  "': must be 0-" + std::to_string(max));
    } else {
      p.prefix = *n;
    }
  }
  return p;
}

bool AddressPattern::matches(std::string_view address) const {
  std::array<std::uint8_t, 16> other{};
  char text[INET6_ADDRSTRLEN];  // NUL-terminated for inet_pton, without an allocation
  if (address.size() >= sizeof text) return false;
  address.copy(text, address.size());
  text[address.size()] = '\0';
  if (inet_pton(ipv6 ? AF_INET6 : AF_INET, text, other.data()) != 1) return false;
  int full = prefix / 8;
  if (!std::equal(bytes.begin(), bytes.begin() + full, other.begin())) return false;
  int bits = prefix % 8;
  if (bits == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - bits));
  return (bytes[full] & mask) == (other[full] & mask);
}

bool IgnoreRules::port_ignored(std::uint16_t port) const {
  return std::any_of(ports.begin(), ports.end(),
                     [&](const PortRange& r) { return r.contains(port); });
}

bool IgnoreRules::ephemeral_client(const ListeningSocket& s, const LiveState& live) const {
  if (!ephemeral_udp || s.protocol != Protocol::udp || !s.wildcard() || !live.ephemeral_ports)
    return false;
  return s.port >= live.ephemeral_ports->first && s.port <= live.ephemeral_ports->second;
}

bool IgnoreRules::ignores(const ListeningSocket& s) const {
  if (port_ignored(s.port)) return true;
  for (const auto& a : addresses)
    if (a.matches(s.address)) return true;
  if (const Owner* o = s.main_owner())
    return std::find(processes.begin(), processes.end(), o->process) != processes.end();
  return false;
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

}  // namespace

const ServiceType* Config::find_type(std::string_view name) const {
  for (const auto& t : types) {
    if (iequals(t.name, name)) return &t;
    for (const auto& a : t.aliases)
      if (iequals(a, name)) return &t;
  }
  return nullptr;
}

const ServiceType* Config::type_of_port(std::uint16_t port) const {
  for (const auto& t : types)
    if (t.range.contains(port)) return &t;
  return nullptr;
}

bool Config::is_reserved(std::uint16_t port) const {
  return std::find(reserved.begin(), reserved.end(), port) != reserved.end();
}
bool Config::has_environment(std::string_view env) const {
  return std::find(environments.begin(), environments.end(), env) != environments.end();
}
bool Config::has_status(std::string_view status) const {
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

std::string Config::type_names() const {
  std::vector<std::string> names, aliases;
  for (const auto& t : types) {
    names.push_back(t.name);
    aliases.insert(aliases.end(), t.aliases.begin(), t.aliases.end());
  }
  std::string out = join(names);
  if (!aliases.empty()) out += " (aliases: " + join(aliases) + ")";
  return out;
}

Config default_config() {
  Config c;
  c.types = {
      {"web", {3000, 3099}, "Web Applications", {}},
      {"database", {5000, 5999}, "Database Services", {}},
      {"api", {8000, 8099}, "API Services", {}},
      {"ml", {8100, 8199}, "ML/AI Services", {"ai"}},
      {"monitoring", {9000, 9099}, "Monitoring & Internal Tools", {"internal"}},
      {"dynamic", {10000, 10999}, "Dynamic/Temporary Services", {"temp"}},
  };
  c.environments = {"production", "staging", "development"};
  c.statuses = {"allocated",   "active",     "inactive", "needs_pairing",
                "maintenance", "deprecated", "reserved"};
  c.reserved = {22, 80, 443, 3000, 8080};  // ssh and the platform ports of a Dokploy host
  c.quarantine = std::chrono::hours(24 * 7);
  c.lock_timeout = std::chrono::seconds(10);
  return c;
}

namespace {

// Strict YAML reading: every mistake becomes one Error naming file:line:column.
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  // "FILE:LINE:COL" of a node.
  std::string where(const YAML::Node& node) const {
    auto m = node.Mark();
    std::string out = source_;
    if (!m.is_null()) out += ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    return out;
  }

  Error error(const YAML::Node& node, const std::string& what) const {
    return make_error(ErrorKind::invalid_data, where(node) + ": " + what);
  }

  Result<std::string> scalar(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) return error(n, key + ": expected a single value, not a list or map");
    return n.Scalar();
  }

  Result<std::vector<std::string>> strings(const YAML::Node& n, const std::string& key) const {
    if (!n.IsSequence()) return error(n, key + ": expected a list, e.g. [a, b]");
    std::vector<std::string> out;
    for (const auto& item : n) {
      auto s = scalar(item, key);
      if (!s) return s.error();
      out.push_back(*s);
    }
    return out;
  }

  Result<std::uint16_t> port(const YAML::Node& n, const std::string& key) const {
    auto s = scalar(n, key);
    if (!s) return s.error();
    auto p = parse_port(*s);
    if (!p) return error(n, key + ": '" + *s + "' is not a port; valid ports are 1-65535");
    return *p;
  }

  Result<PortRange> range(const YAML::Node& n, const std::string& key) const {
    auto s = scalar(n, key);
    if (!s) return s.error();
    auto r = parse_port_range(*s);
    if (!r) return error(n, key + ": " + r.error().message);
    return *r;
  }

  Result<std::chrono::milliseconds> duration(const YAML::Node& n, const std::string& key) const {
    auto s = scalar(n, key);
    if (!s) return s.error();
    auto d = parse_duration(*s);
    if (!d) return error(n, key + ": " + d.error().message);
    return *d;
  }

  // Refuses keys outside `allowed`, naming the valid ones.
  Status known_keys(const YAML::Node& map, const std::string& where,
                    const std::vector<std::string>& allowed) const {
    if (!map.IsMap()) return error(map, where + ": expected a map of keys");
    for (const auto& kv : map) {
      auto key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        return error(kv.first, "unknown key '" + (where.empty() ? key : where + "." + key) +
                                   "'; valid keys: " + join(allowed));
    }
    return {};
  }

 private:
  std::string source_;
};

// The keys the strict reader accepts, section by section; accepted_config_keys() lists them for
// the documentation's test.
const std::vector<std::string> kTopKeys = {"registry", "types",      "environments", "statuses",
                                           "reserved", "quarantine", "ignore",       "lock_timeout",
                                           "agent",    "nginx"};
const std::vector<std::string> kTypeKeys = {"range", "description", "aliases"};
const std::vector<std::string> kIgnoreKeys = {"ports", "addresses", "processes", "ephemeral_udp"};
const std::vector<std::string> kAgentKeys = {
    "listen_addresses", "telemetry_path", "web_config_file", "collectors", "scan_min_interval",
    "log_level",        "log_format",     "procfs",          "rootfs"};
const std::vector<std::string> kNginxKeys = {"certificate", "certificate_key", "listen_address"};

Status read_type(const Reader& r, const std::string& name, const YAML::Node& n, ServiceType& t) {
  std::string where = "types." + name;
  if (auto st = r.known_keys(n, where, kTypeKeys); !st) return st;
  if (n["range"]) {
    auto range = r.range(n["range"], where + ".range");
    if (!range) return range.error();
    t.range = *range;
  } else if (t.range.first == 0) {
    return r.error(n, where + ": a new type needs a range, e.g. range: 7000-7099");
  }
  if (n["description"]) {
    auto d = r.scalar(n["description"], where + ".description");
    if (!d) return d.error();
    t.description = *d;
  }
  if (n["aliases"]) {
    auto a = r.strings(n["aliases"], where + ".aliases");
    if (!a) return a.error();
    t.aliases = *a;
  }
  return {};
}

Status read_types(const Reader& r, const YAML::Node& n, Config& c) {
  if (!n.IsMap()) return r.error(n, "types: expected a map of NAME: {range, description, aliases}");
  for (const auto& kv : n) {
    std::string name = kv.first.Scalar();
    auto it = std::find_if(c.types.begin(), c.types.end(),
                           [&](const ServiceType& t) { return t.name == name; });
    if (kv.second.IsNull()) {  // `name: ~` removes a default type
      if (it != c.types.end()) c.types.erase(it);
      continue;
    }
    if (it == c.types.end()) it = c.types.insert(c.types.end(), ServiceType{name, {}, name, {}});
    if (auto st = read_type(r, name, kv.second, *it); !st) return st;
  }
  std::sort(c.types.begin(), c.types.end(), [](const ServiceType& a, const ServiceType& b) {
    return a.range.first < b.range.first;
  });
  for (size_t i = 1; i < c.types.size(); ++i) {
    const auto& a = c.types[i - 1];
    const auto& b = c.types[i];
    if (b.range.first <= a.range.last)
      return r.error(n, "types: range " + b.range.to_string() + " of '" + b.name +
                            "' overlaps range " + a.range.to_string() + " of '" + a.name +
                            "'; type ranges must not overlap");
  }
  // A name or alias must mean one type only.
  std::vector<std::string> seen;
  for (const auto& t : c.types) {
    std::vector<std::string> names = t.aliases;
    names.push_back(t.name);
    for (const auto& name : names) {
      for (const auto& s : seen)
        if (iequals(s, name))
          return r.error(n,
                         "types: '" + name + "' names two types; names and aliases must be unique");
      seen.push_back(name);
    }
  }
  return {};
}

Status read_ignore(const Reader& r, const YAML::Node& n, IgnoreRules& ig) {
  if (auto st = r.known_keys(n, "ignore", kIgnoreKeys); !st) return st;
  if (const auto& v = n["ephemeral_udp"]) {
    auto s = r.scalar(v, "ignore.ephemeral_udp");
    if (!s) return s.error();
    if (*s != "true" && *s != "false")
      return r.error(v, "ignore.ephemeral_udp: expected true or false");
    ig.ephemeral_udp = *s == "true";
  }
  if (const auto& ports = n["ports"]) {
    if (!ports.IsSequence())
      return r.error(ports, "ignore.ports: expected a list of ports or ranges");
    ig.ports.clear();
    for (const auto& p : ports) {
      auto range = r.range(p, "ignore.ports");
      if (!range) return range.error();
      ig.ports.push_back(*range);
    }
  }
  if (const auto& addrs = n["addresses"]) {
    auto list = r.strings(addrs, "ignore.addresses");
    if (!list) return list.error();
    ig.addresses.clear();
    size_t i = 0;
    for (const auto& a : *list) {
      auto p = parse_address_pattern(a);
      if (!p) return r.error(addrs[i], "ignore.addresses: " + p.error().message);
      ig.addresses.push_back(*p);
      ++i;
    }
  }
  if (const auto& procs = n["processes"]) {
    auto list = r.strings(procs, "ignore.processes");
    if (!list) return list.error();
    ig.processes = *list;
  }
  return {};
}

// `nginx:` — what `sync --nginx` needs that Dokploy does not say: certificate paths.
Status read_nginx(const Reader& r, const YAML::Node& n, NginxConfig& out) {
  if (auto st = r.known_keys(n, "nginx", kNginxKeys); !st) return st;
  for (auto [key, field] : {std::pair{"certificate", &out.certificate},
                            {"certificate_key", &out.certificate_key},
                            {"listen_address", &out.listen_address}}) {
    if (const auto& v = n[key]) {
      auto s = r.scalar(v, std::string("nginx.") + key);
      if (!s) return s.error();
      *field = *s;
    }
  }
  if (out.certificate.empty() != out.certificate_key.empty())
    return r.error(n, "nginx: give both certificate and certificate_key, or neither");
  return {};
}

Status read_agent(const Reader& r, const YAML::Node& n, AgentConfig& a) {
  if (auto st = r.known_keys(n, "agent", kAgentKeys); !st) return st;
  if (const auto& v = n["listen_addresses"]) {
    auto list = r.strings(v, "agent.listen_addresses");
    if (!list) return list.error();
    if (list->empty())
      return r.error(v, "agent.listen_addresses: give at least one, e.g. [\":9097\"]");
    for (const auto& addr : *list)
      if (addr.find(':') == std::string::npos)
        return r.error(v, "agent.listen_addresses: '" + addr +
                              "' is not HOST:PORT; e.g. :9097, 127.0.0.1:9097, [::1]:9097");
    a.listen_addresses = *list;
  }
  if (const auto& v = n["telemetry_path"]) {
    auto s = r.scalar(v, "agent.telemetry_path");
    if (!s) return s.error();
    if (s->empty() || s->front() != '/' || *s == "/" || *s == "/healthz" || *s == "/api/scan")
      return r.error(v,
                     "agent.telemetry_path: '" + *s +
                         "' must be a path starting with / other than /, /healthz and /api/scan");
    a.telemetry_path = *s;
  }
  for (auto [key, field] : {std::pair{"web_config_file", &a.web_config_file},
                            {"procfs", &a.procfs},
                            {"rootfs", &a.rootfs},
                            {"log_level", &a.log_level},
                            {"log_format", &a.log_format}}) {
    if (const auto& v = n[key]) {
      auto s = r.scalar(v, std::string("agent.") + key);
      if (!s) return s.error();
      *field = *s;
    }
  }
  if (const auto& v = n["log_level"]) {
    if (a.log_level != "debug" && a.log_level != "info" && a.log_level != "warn" &&
        a.log_level != "error")
      return r.error(v, "agent.log_level: '" + a.log_level + "'; valid: debug, info, warn, error");
  }
  if (const auto& v = n["log_format"]) {
    if (a.log_format != "logfmt" && a.log_format != "json")
      return r.error(v, "agent.log_format: '" + a.log_format + "'; valid: logfmt, json");
  }
  if (const auto& v = n["scan_min_interval"]) {
    auto d = r.duration(v, "agent.scan_min_interval");
    if (!d) return d.error();
    a.scan_min_interval = *d;
  }
  if (const auto& v = n["collectors"]) {
    std::vector<std::string> names;
    for (const CollectorSpec& spec : collector_table()) names.emplace_back(spec.name);
    for (const InventorySpec& spec : inventory_table()) names.emplace_back(spec.name);
    if (auto st = r.known_keys(v, "agent.collectors", names); !st) return st;
    for (const auto& kv : v) {
      const std::string name = kv.first.Scalar();
      auto s = r.scalar(kv.second, "agent.collectors." + name);
      if (!s) return s.error();
      if (*s != "true" && *s != "false")
        return r.error(kv.second, "agent.collectors." + name + ": expected true or false");
      a.collectors[name] = *s == "true";
    }
  }
  return {};
}

// A source's section: scalars only, under the keys its row declares. A null value (`server_id:`
// or `server_id: null`) leaves the key unset.
Status read_source_section(const Reader& r, const YAML::Node& n, const SourceSection& section,
                           std::map<std::string, SettingValue>& out) {
  std::vector<std::string> keys;
  for (const OptionSpec& o : section.options) keys.emplace_back(o.key);
  std::string name(section.name);
  if (auto st = r.known_keys(n, name, keys); !st) return st;
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    if (kv.second.IsNull()) continue;
    for (const OptionSpec& o : section.options)
      if (o.key == key && o.secret)
        return r.error(kv.first, name + "." + key +
                                     " is a secret, never read from portman.yml (others may "
                                     "read it); give $" +
                                     std::string(o.env) + " or a file holding it instead");
    auto v = r.scalar(kv.second, name + "." + key);
    if (!v) return v.error();
    std::string where = r.where(kv.second);
    out[key] = {*v, where};
  }
  return {};
}

Status read_top(const Reader& r, const YAML::Node& file, Config& c) {
  std::vector<std::string> keys = kTopKeys;
  const std::vector<SourceSection> sections = source_sections();
  for (const SourceSection& s : sections) keys.emplace_back(s.name);
  if (auto st = r.known_keys(file, "", keys); !st) return st;
  YAML::Node root(YAML::NodeType::Map);  // `key:` with no value keeps the default, like no key
  for (const auto& kv : file)
    if (!kv.second.IsNull()) root[kv.first.Scalar()] = kv.second;
  if (const auto& n = root["registry"]) {
    auto s = r.scalar(n, "registry");
    if (!s) return s.error();
    if (s->empty()) return r.error(n, "registry: expected a file path");
    c.registry = *s;
  }
  if (const auto& n = root["types"])
    if (auto st = read_types(r, n, c); !st) return st;
  for (auto [key, field] :
       {std::pair{"environments", &c.environments}, {"statuses", &c.statuses}}) {
    if (const auto& n = root[key]) {
      auto list = r.strings(n, key);
      if (!list) return list.error();
      if (list->empty()) return r.error(n, std::string(key) + ": must list at least one value");
      *field = *list;
    }
  }
  if (const auto& n = root["reserved"]) {
    if (!n.IsSequence())
      return r.error(n, "reserved: expected a list of ports, e.g. [22, 80, 443]");
    c.reserved.clear();
    for (const auto& p : n) {
      auto port = r.port(p, "reserved");
      if (!port) return port.error();
      c.reserved.push_back(*port);
    }
  }
  for (auto [key, field] :
       {std::pair{"quarantine", &c.quarantine}, {"lock_timeout", &c.lock_timeout}}) {
    if (const auto& n = root[key]) {
      auto d = r.duration(n, key);
      if (!d) return d.error();
      *field = *d;
    }
  }
  if (const auto& n = root["ignore"])
    if (auto st = read_ignore(r, n, c.ignore); !st) return st;
  if (const auto& n = root["agent"])
    if (auto st = read_agent(r, n, c.agent); !st) return st;
  if (const auto& n = root["nginx"])
    if (auto st = read_nginx(r, n, c.nginx); !st) return st;
  for (const SourceSection& s : sections)
    if (const auto& n = root[std::string(s.name)])
      if (auto st = read_source_section(r, n, s, c.source_sections[std::string(s.name)]); !st)
        return st;
  return {};
}

}  // namespace

std::vector<std::string> accepted_config_keys() {
  std::vector<std::string> out;
  for (const auto& k : kTopKeys)
    if (k != "types" && k != "ignore" && k != "agent" && k != "nginx") out.push_back(k);
  for (const auto& k : kTypeKeys) out.push_back("types.NAME." + k);
  for (const auto& k : kIgnoreKeys) out.push_back("ignore." + k);
  for (const auto& k : kAgentKeys)
    if (k != "collectors") out.push_back("agent." + k);
  for (const CollectorSpec& spec : collector_table())
    out.push_back("agent.collectors." + std::string(spec.name));
  for (const InventorySpec& spec : inventory_table())
    out.push_back("agent.collectors." + std::string(spec.name));
  for (const auto& k : kNginxKeys) out.push_back("nginx." + k);
  for (const SourceSection& s : source_sections())
    for (const OptionSpec& o : s.options)
      out.push_back(std::string(s.name) + "." + std::string(o.key));
  return out;
}

Result<Config> parse_config(std::string_view yaml, std::string_view source) {
  Config c = default_config();
  c.source = std::string(source);
  Reader r(source);
  auto root = load_yaml(yaml, source);
  if (!root) return root.error();
  if (root->IsNull()) return c;  // an empty file keeps every default
  try {
    if (auto st = read_top(r, *root, c); !st) return st.error();
  } catch (const YAML::Exception& e) {  // yaml-cpp throws on some malformed structures
    return make_error(ErrorKind::invalid_data, std::string(source) + ": " + e.what());
  }
  return c;
}

Result<Config> load_config(const std::optional<std::string>& explicit_path) {
  std::string path;
  bool must_exist = true;
  if (explicit_path) {
    path = *explicit_path;
  } else if (const char* env = std::getenv("PORTMAN_CONFIG"); env && *env) {
    path = env;
  } else {
    path = "/etc/portman/portman.yml";
    must_exist = false;
  }
  // Read no further than the limit: /dev/zero or a huge file is refused, not read on.
  int err = 0;
  auto text = read_whole_file(path, kConfigMaxBytes, &err);
  if (!text) {
    if (!must_exist && err == ENOENT) return default_config();
    return make_error(ErrorKind::invalid_data, "config: " + text.error().message);
  }
  return parse_config(*text, path);
}

RegistryLocation resolve_registry_location(const std::optional<std::string>& flag,
                                           const Config& config) {
  if (flag) return {*flag, "--registry"};
  if (const char* env = std::getenv("PORT_REGISTRY_PATH"); env && *env)
    return {env, "$PORT_REGISTRY_PATH"};
  if (config.registry) return {*config.registry, "registry: in " + config.source};
  if (::geteuid() == 0) return {"/var/lib/portman/port_registry.json", "the default for root"};
  std::filesystem::path state;
  std::string origin;
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) {
    state = xdg;
    origin = "the default under $XDG_STATE_HOME";
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    state = std::filesystem::path(home) / ".local/state";
    origin = "the default under $HOME/.local/state";
  } else {
    state = ".";
    origin = "the default (no $HOME)";
  }
  return {state / "portman/port_registry.json", origin};
}

std::filesystem::path resolve_registry_path(const std::optional<std::string>& flag,
                                            const Config& config) {
  return resolve_registry_location(flag, config).path;
}

}  // namespace portman
