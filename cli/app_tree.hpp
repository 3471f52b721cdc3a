// The command line as data, read from the CLI11 app tree: what `portman completion` and the man
// page are generated from, so that neither can drift from the flags the parser really takes.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace portman::cli {

struct FlagInfo {
  std::vector<std::string> names;  // "-t", "--type": short names first
  std::string value;               // metavariable ("FILE", "TYPE"); empty for a switch
  bool repeatable = false;
  std::string help;
  std::string group;  // CLI11's option group ("Options", "Sources")
};

struct CommandInfo {
  std::string name;  // empty for portman itself
  std::string help, footer;
  std::vector<FlagInfo> flags;        // without -h,--help
  std::vector<FlagInfo> positionals;  // names[0] is the positional's name
};

// portman itself first, then every subcommand that is not hidden, in the order they were added.
std::vector<CommandInfo> command_tree(const CLI::App& root);

// What the words after a flag (or a positional) may be, where the set is small and known
// without asking the system: "-t" gives the configured types, "--log.level" the levels; the
// special words "@file" and "@dir" ask the shell for paths. Empty when anything goes.
std::vector<std::string> value_words(const std::string& metavariable);

}  // namespace portman::cli
