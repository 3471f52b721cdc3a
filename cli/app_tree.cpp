#include "cli/app_tree.hpp"

#include <algorithm>
#include <cctype>

#include "libportman/config.hpp"

namespace portman::cli {
namespace {

// The word a value is shown as in the man page and the completion's lookup key; CLI11 only knows
// "TEXT", so the meaning comes from the flag's name.
std::string metavariable(const CLI::Option& o) {
  const std::string name = o.get_positional()       ? o.get_name(true)
                           : o.get_lnames().empty() ? o.get_snames().front()
                                                    : o.get_lnames().front();
  auto ends_with = [&](std::string_view s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (name == "config" || name == "registry" || name == "output" || ends_with(".file") ||
      ends_with("_file"))
    return "FILE";
  if (ends_with("procfs") || ends_with("rootfs")) return "DIR";
  if (name == "type") return "TYPE";
  if (name == "env") return "ENV";
  if (name == "status") return "STATUS";
  if (name == "port") return "PORT";
  if (name == "shell") return "SHELL";
  if (name == "owners.method") return "METHOD";
  if (name == "log.level") return "LEVEL";
  if (name == "log.format") return "FORMAT";
  if (name == "web.listen-address") return "ADDRESS";
  if (name == "docker.host" || name == "dokploy.url") return "URL";
  if (name.find("interval") != std::string::npos || name.find("timeout") != std::string::npos)
    return "DURATION";
  std::string upper;
  for (char c : name) upper += c == '-' || c == '.' ? '_' : static_cast<char>(std::toupper(c));
  return upper;
}

FlagInfo flag_info(const CLI::Option& o) {
  FlagInfo f;
  if (o.get_positional()) {
    f.names = {o.get_name(true)};
  } else {
    for (const auto& s : o.get_snames()) f.names.push_back("-" + s);
    for (const auto& l : o.get_lnames()) f.names.push_back("--" + l);
  }
  if (o.get_expected_max() != 0 || o.get_positional()) f.value = metavariable(o);
  f.repeatable = o.get_expected_max() > 1;
  f.help = o.get_description();
  f.group = o.get_group();
  return f;
}

CommandInfo command_info(const CLI::App& app, bool root) {
  CommandInfo c;
  c.name = root ? "" : app.get_name();
  c.help = app.get_description();
  c.footer = app.get_footer();
  for (const CLI::Option* o : app.get_options()) {
    if (o == app.get_help_ptr() || o == app.get_help_all_ptr() || o->get_group().empty()) continue;
    (o->get_positional() ? c.positionals : c.flags).push_back(flag_info(*o));
  }
  return c;
}

}  // namespace

std::vector<CommandInfo> command_tree(const CLI::App& root) {
  std::vector<CommandInfo> out{command_info(root, true)};
  for (const CLI::App* sub : root.get_subcommands({})) {
    if (sub->get_group().empty()) continue;
    out.push_back(command_info(*sub, false));
    // CLI11 copies the footer of portman to a subcommand added after it was set.
    if (out.back().footer == out.front().footer) out.back().footer.clear();
  }
  return out;
}

std::vector<std::string> value_words(const std::string& metavariable) {
  // The built-in defaults: a site's own types are in its portman.yml, which the script does not
  // read; these are what a fresh install has.
  const Config defaults = default_config();
  if (metavariable == "TYPE") {
    std::vector<std::string> words;
    for (const ServiceType& t : defaults.types) {
      words.push_back(t.name);
      words.insert(words.end(), t.aliases.begin(), t.aliases.end());
    }
    return words;
  }
  if (metavariable == "ENV") return defaults.environments;
  if (metavariable == "STATUS") return defaults.statuses;
  if (metavariable == "METHOD") return {"auto", "bpf", "procfs"};
  if (metavariable == "LEVEL") return {"debug", "info", "warn", "error"};
  if (metavariable == "FORMAT") return {"logfmt", "json"};
  if (metavariable == "SHELL") return {"bash"};
  if (metavariable == "FILE") return {"@file"};
  if (metavariable == "DIR") return {"@dir"};
  return {};
}

}  // namespace portman::cli
