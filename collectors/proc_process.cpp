#include "collectors/proc_process.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace portman {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <class T>
std::optional<T> parse_number(std::string_view s) {
  if (!all_digits(s)) return std::nullopt;
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Splits off the next token separated by any of the characters `is_sep` accepts.
template <class Sep>
std::string_view next_token(std::string_view& rest, Sep is_sep) {
  std::size_t begin = 0;
  while (begin < rest.size() && is_sep(rest[begin])) ++begin;
  std::size_t end = begin;
  while (end < rest.size() && !is_sep(rest[end])) ++end;
  std::string_view token = rest.substr(begin, end - begin);
  rest.remove_prefix(end);
  return token;
}

bool is_container_id(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Runtimes that name the container's systemd scope "<prefix><id>.scope". The "-conmon-"
// scopes of podman and cri-o hold the monitor, not the container, and do not match.
constexpr std::array<std::string_view, 4> kScopePrefixes = {"docker-", "cri-containerd-", "crio-",
                                                            "libpod-"};

// Container id named by one cgroup path component, or empty.
std::string_view container_of_component(std::string_view c) {
  if (is_container_id(c)) return c;  // cgroupfs driver: /docker/<id>, /kubepods/.../<id>
  if (!c.ends_with(".scope")) return {};
  c.remove_suffix(std::string_view(".scope").size());
  for (std::string_view prefix : kScopePrefixes) {
    if (c.starts_with(prefix) && is_container_id(c.substr(prefix.size())))
      return c.substr(prefix.size());
  }
  return {};
}

struct PathFacts {
  std::string_view container;  // deepest container id
  std::string_view service;    // deepest *.service
  std::string_view scope;      // deepest *.scope that is not a container's
};

PathFacts facts_of_path(std::string_view path) {
  PathFacts facts;
  while (!path.empty()) {
    std::string_view c = next_token(path, [](char ch) { return ch == '/'; });
    if (c.empty()) break;
    std::string_view id = container_of_component(c);
    if (!id.empty()) {
      facts.container = id;
    } else if (c.ends_with(".service")) {
      facts.service = c;
    } else if (c.ends_with(".scope")) {
      facts.scope = c;
    }
  }
  return facts;
}

// True for the v2 line ("0::") and the v1 systemd hierarchy ("1:name=systemd:").
bool is_systemd_hierarchy(std::string_view hierarchy, std::string_view controllers) {
  if (hierarchy == "0" && controllers.empty()) return true;
  while (!controllers.empty()) {
    if (next_token(controllers, [](char ch) { return ch == ','; }) == "name=systemd") return true;
  }
  return false;
}

}  // namespace

std::optional<std::uint64_t> parse_socket_link(std::string_view target) {
  constexpr std::string_view prefix = "socket:[";
  if (!target.starts_with(prefix) || !target.ends_with(']')) return std::nullopt;
  target.remove_prefix(prefix.size());
  target.remove_suffix(1);
  return parse_number<std::uint64_t>(target);
}

std::optional<pid_t> parse_pid(std::string_view name) {
  auto pid = parse_number<pid_t>(name);
  if (!pid || *pid <= 0) return std::nullopt;
  return pid;
}

void parse_children(std::string_view text, std::vector<pid_t>& out) {
  while (!text.empty()) {
    std::string_view token = next_token(text, is_space);
    if (auto pid = parse_pid(token)) out.push_back(*pid);
  }
}

std::optional<uid_t> parse_status_euid(std::string_view status) {
  constexpr std::string_view key = "Uid:";
  while (!status.empty()) {
    std::size_t eol = status.find('\n');
    std::string_view line = status.substr(0, eol);
    status.remove_prefix(eol == std::string_view::npos ? status.size() : eol + 1);
    if (!line.starts_with(key)) continue;
    line.remove_prefix(key.size());
    next_token(line, is_space);  // real uid
    return parse_number<uid_t>(next_token(line, is_space));
  }
  return std::nullopt;
}

std::string join_cmdline(std::string_view raw) {
  // setproctitle() pads with NULs; they are not arguments.
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  std::string joined(raw);
  std::replace(joined.begin(), joined.end(), '\0', ' ');
  return joined;
}

CgroupInfo parse_cgroup(std::string_view text) {
  std::string_view container, systemd_unit, any_unit;
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);

    std::size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    std::size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view hierarchy = line.substr(0, c1);
    std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    PathFacts facts = facts_of_path(line.substr(c2 + 1));

    if (container.empty()) container = facts.container;
    std::string_view unit = facts.service.empty() ? facts.scope : facts.service;
    if (unit.empty()) continue;
    if (systemd_unit.empty() && is_systemd_hierarchy(hierarchy, controllers)) systemd_unit = unit;
    if (any_unit.empty()) any_unit = unit;
  }
  return {std::string(container), std::string(systemd_unit.empty() ? any_unit : systemd_unit)};
}

std::optional<pid_t> parse_stat_ppid(std::string_view stat) {
  auto close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);  // " S 1234 ..."
  auto state = rest.find_first_not_of(' ');
  if (state == std::string_view::npos) return std::nullopt;
  rest = rest.substr(state + 1);
  auto start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) return std::nullopt;
  rest = rest.substr(start);
  pid_t ppid = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), ppid);
  if (ec != std::errc() || ppid < 0) return std::nullopt;
  return ppid;
}

}  // namespace portman
