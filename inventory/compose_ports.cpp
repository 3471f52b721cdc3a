#include "inventory/compose_ports.hpp"

#include <charconv>
#include <optional>

#include <yaml-cpp/yaml.h>

#include "libportman/yaml_load.hpp"

namespace portman::dokploy {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9');
}

Result<std::string> interpolate_at(std::string_view text, const EnvVars& env,
                                   std::vector<std::string>* unset, int depth);

// The text of a braced expression after "${": up to its matching "}", nested ones included.
std::optional<std::size_t> closing_brace(std::string_view text, std::size_t from) {
  int depth = 1;
  for (std::size_t i = from; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      ++depth;
      ++i;
    } else if (text[i] == '}' && --depth == 0) {
      return i;
    }
  }
  return std::nullopt;
}

Result<std::string> expand_braced(std::string_view expr, const EnvVars& env,
                                  std::vector<std::string>* unset, int depth) {
  std::size_t n = 0;
  while (n < expr.size() && name_char(expr[n])) ++n;
  std::string_view name = expr.substr(0, n);
  if (name.empty() || !name_start(name.front()))
    return make_error(ErrorKind::invalid_data,
                      "'${" + std::string(expr) + "}' does not start with a variable name");
  auto it = env.find(name);
  const bool set = it != env.end();
  const bool non_empty = set && !it->second.empty();
  std::string_view rest = expr.substr(n);
  auto value = [&] { return set ? it->second : std::string(); };
  if (rest.empty()) {
    if (!set && unset) unset->emplace_back(name);
    return value();
  }
  bool colon = rest.front() == ':';
  if (colon) rest.remove_prefix(1);
  if (rest.empty())
    return make_error(ErrorKind::invalid_data, "'${" + std::string(expr) + "}' is incomplete");
  char op = rest.front();
  std::string_view word = rest.substr(1);
  bool present = colon ? non_empty : set;
  switch (op) {
    case '-':
      if (present) return value();
      return interpolate_at(word, env, unset, depth + 1);
    case '+':
      if (!present) return std::string();
      return interpolate_at(word, env, unset, depth + 1);
    case '?':
      if (present) return value();
      return make_error(ErrorKind::invalid_data,
                        "variable " + std::string(name) + " is required" +
                            (word.empty() ? std::string() : ": " + std::string(word)));
    default:
      return make_error(
          ErrorKind::invalid_data,
          "'${" + std::string(expr) + "}': after the name comes }, :-, -, :+, +, :? or ?");
  }
}

Result<std::string> interpolate_at(std::string_view text, const EnvVars& env,
                                   std::vector<std::string>* unset, int depth) {
  if (depth > 8) return make_error(ErrorKind::invalid_data, "interpolation nested too deeply");
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
      continue;
    }
    if (i + 1 >= text.size())
      return make_error(ErrorKind::invalid_data, "'" + std::string(text) + "' ends with a lone $");
    char next = text[i + 1];
    if (next == '$') {
      out += '$';
      ++i;
    } else if (next == '{') {
      auto close = closing_brace(text, i + 2);
      if (!close)
        return make_error(ErrorKind::invalid_data,
                          "'" + std::string(text) + "' has an unclosed ${");
      auto v = expand_braced(text.substr(i + 2, *close - i - 2), env, unset, depth);
      if (!v) return v;
      out += *v;
      i = *close;
    } else if (name_start(next)) {
      std::size_t j = i + 1;
      while (j < text.size() && name_char(text[j])) ++j;
      std::string_view name = text.substr(i + 1, j - i - 1);
      if (auto it = env.find(name); it != env.end())
        out += it->second;
      else if (unset)
        unset->emplace_back(name);
      i = j - 1;
    } else {
      return make_error(ErrorKind::invalid_data,
                        "'" + std::string(text) + "': a $ must start a variable; write $$ for $");
    }
  }
  return out;
}

}  // namespace

Result<std::string> interpolate(std::string_view text, const EnvVars& env,
                                std::vector<std::string>* unset) {
  return interpolate_at(text, env, unset, 0);
}

EnvVars parse_env_text(std::string_view text) {
  EnvVars out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.rfind("export ", 0) == 0) line = trim(line.substr(7));
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (auto hash = value.find(" #"); hash != std::string_view::npos) {
      value = trim(value.substr(0, hash));  // an inline comment after an unquoted value
    }
    if (!key.empty()) out[std::string(key)] = std::string(value);
  }
  return out;
}

namespace {

struct Range {
  std::uint16_t first = 0, last = 0;
  std::size_t size() const { return static_cast<std::size_t>(last - first) + 1; }
};

std::optional<std::uint16_t> port_number(std::string_view s) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// "8080" or "8080-8081".
std::optional<Range> parse_range(std::string_view s) {
  std::size_t dash = s.find('-');
  auto a = port_number(s.substr(0, dash));
  if (!a) return std::nullopt;
  if (dash == std::string_view::npos) return Range{*a, *a};
  auto b = port_number(s.substr(dash + 1));
  if (!b || *b < *a) return std::nullopt;
  return Range{*a, *b};
}

std::optional<Protocol> parse_protocol(std::string_view s) {
  if (s.empty() || s == "tcp") return Protocol::tcp;
  if (s == "udp") return Protocol::udp;
  return std::nullopt;
}

// What one entry of `ports:` says, before it becomes published ports.
struct Spec {
  std::string host_ip;
  std::string published;  // "", "8080" or "8080-8081"
  std::string target;     // "80" or "80-81"
  std::string protocol;
  std::string mode;
};

// The ports of one entry; a message when it yields none that can be known.
Result<std::vector<PublishedPort>> expand(const Spec& s, bool stack, const std::string& service) {
  auto target = parse_range(s.target);
  if (!target)
    return make_error(ErrorKind::invalid_data,
                      "container port '" + s.target + "' is not a port 1-65535 or a range A-B");
  auto protocol = parse_protocol(s.protocol);
  if (!protocol)
    return make_error(ErrorKind::invalid_data,
                      "protocol '" + s.protocol + "' is not tcp or udp; left out");
  if (s.published.empty())
    return make_error(ErrorKind::invalid_data,
                      "no host port: Docker picks a random one, so it cannot be known");
  auto published = parse_range(s.published);
  if (!published)
    return make_error(ErrorKind::invalid_data,
                      "host port '" + s.published + "' is not a port 1-65535 or a range A-B");
  if (published->size() != target->size()) {
    if (target->size() == 1)
      return make_error(ErrorKind::invalid_data,
                        "host range " + s.published +
                            " for one container port: Docker picks one of them, so it cannot be "
                            "known");
    return make_error(
        ErrorKind::invalid_data,
        "host range " + s.published + " and container range " + s.target + " differ in length");
  }
  // Compose alone binds every published port on its host; only Swarm knows ingress.
  std::string mode = !stack ? "host" : s.mode.empty() ? "ingress" : s.mode;
  if (mode != "host" && mode != "ingress")
    return make_error(ErrorKind::invalid_data, "mode '" + s.mode + "' is not host or ingress");
  std::vector<PublishedPort> out;
  for (std::size_t i = 0; i < published->size(); ++i) {
    PublishedPort p;
    p.published = static_cast<std::uint16_t>(published->first + i);
    p.target = static_cast<std::uint16_t>(target->first + i);
    p.protocol = *protocol;
    p.publish_mode = mode;
    p.host_ip = s.host_ip;
    p.compose_service = service;
    out.push_back(std::move(p));
  }
  return out;
}

// "[IP:][HOST:]CONTAINER[/PROTO]", split from the right so that an IPv6 address keeps its colons.
Spec parse_short(std::string_view text) {
  Spec s;
  if (std::size_t slash = text.rfind('/'); slash != std::string_view::npos) {
    s.protocol = std::string(text.substr(slash + 1));
    text = text.substr(0, slash);
  }
  std::size_t c = text.rfind(':');
  s.target = std::string(text.substr(c == std::string_view::npos ? 0 : c + 1));
  if (c == std::string_view::npos) return s;
  text = text.substr(0, c);
  std::size_t h = text.rfind(':');
  if (h != std::string_view::npos && text.back() == ']') h = std::string_view::npos;  // "[::1]"
  s.published = std::string(text.substr(h == std::string_view::npos ? 0 : h + 1));
  if (h == std::string_view::npos) return s;
  std::string_view ip = text.substr(0, h);
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  s.host_ip = std::string(ip);
  return s;
}

class PortsReader {
 public:
  PortsReader(const EnvVars& env, bool stack, ComposePorts& out)
      : env_(env), stack_(stack), out_(out) {}

  void service(const std::string& name, const YAML::Node& ports) {
    if (!ports || ports.IsNull()) return;
    if (!ports.IsSequence()) {
      warn(name, "ports", "is not a list; left out");
      return;
    }
    for (std::size_t i = 0; i < ports.size(); ++i) entry(name, i, ports[i]);
  }

 private:
  void entry(const std::string& service, std::size_t i, const YAML::Node& node) {
    std::string where = "ports[" + std::to_string(i) + "]";
    Spec spec;
    if (node.IsScalar()) {
      auto text = scalar(service, where, node);
      if (!text) return;
      where += " '" + node.Scalar() + "'";
      spec = parse_short(trim(*text));
    } else if (node.IsMap()) {
      for (const char* key : {"target", "published", "protocol", "mode", "host_ip"}) {
        const YAML::Node v = node[key];
        if (!v || v.IsNull()) continue;
        if (!v.IsScalar()) {
          warn(service, where, std::string(key) + " is not a single value; left out");
          return;
        }
        auto text = scalar(service, where, v);
        if (!text) return;
        std::string k = key;
        (k == "target"      ? spec.target
         : k == "published" ? spec.published
         : k == "protocol"  ? spec.protocol
         : k == "mode"      ? spec.mode
                            : spec.host_ip) = std::string(trim(*text));
      }
      if (spec.target.empty()) {
        warn(service, where, "has no target (the container port); left out");
        return;
      }
    } else {
      warn(service, where, "is neither \"HOST:CONTAINER\" nor {target, published}; left out");
      return;
    }
    auto ports = expand(spec, stack_, service);
    if (!ports) {
      warn(service, where, ports.error().message);
      return;
    }
    out_.ports.insert(out_.ports.end(), ports->begin(), ports->end());
  }

  std::optional<std::string> scalar(const std::string& service, const std::string& where,
                                    const YAML::Node& node) {
    std::vector<std::string> unset;
    auto v = interpolate(node.Scalar(), env_, &unset);
    if (!v) {
      warn(service, where, v.error().message);
      return std::nullopt;
    }
    for (const std::string& name : unset)
      warn(service, where, "variable " + name + " is not set in the compose's env; read as empty");
    return std::move(*v);
  }

  void warn(const std::string& service, const std::string& where, const std::string& what) {
    out_.warnings.push_back("service " + service + " " + where + ": " + what);
  }

  const EnvVars& env_;
  bool stack_;
  ComposePorts& out_;
};

}  // namespace

Result<ComposePorts> parse_compose_ports(std::string_view yaml, std::string_view env_text,
                                         bool stack, std::string_view source) {
  auto doc = load_yaml(yaml, source);
  if (!doc) return doc.error();
  ComposePorts out;
  try {
    if (doc->IsNull()) return make_error(ErrorKind::invalid_data, std::string(source) + ": empty");
    if (!doc->IsMap())
      return make_error(ErrorKind::invalid_data,
                        std::string(source) + ": not a compose file (a mapping with services:)");
    const YAML::Node services = (*doc)["services"];
    if (!services || services.IsNull()) return out;
    if (!services.IsMap())
      return make_error(ErrorKind::invalid_data,
                        std::string(source) + ": services is not a mapping of name to service");
    const EnvVars env = parse_env_text(env_text);
    PortsReader reader(env, stack, out);
    for (const auto& kv : services) {
      if (!kv.first.IsScalar()) continue;
      const std::string name = kv.first.Scalar();
      if (!kv.second.IsMap()) continue;
      reader.service(name, kv.second["ports"]);
    }
  } catch (const YAML::Exception& e) {
    return make_error(ErrorKind::invalid_data, std::string(source) + ": " + e.what());
  }
  return out;
}

}  // namespace portman::dokploy
