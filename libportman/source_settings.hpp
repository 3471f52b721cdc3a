// A source's own settings (docker.host, dokploy.url...): declared by the source as a list of
// options, each settable as a key of its section in portman.yml, a command-line flag
// --SECTION.KEY, and for some an environment variable. The flag wins, then the file, then the
// environment, then the default; every value remembers where it came from, for messages.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "libportman/result.hpp"

namespace portman {

struct OptionSpec {
  std::string_view key;            // "host": `docker: {host: ...}` and --docker.host
  std::string_view default_value;  // empty: unset
  std::string_view help;
  std::string_view env = {};  // e.g. "DOCKER_HOST"; empty: none
  // An API key: taken from its environment variable only (a flag shows in `ps`, portman.yml is
  // readable by many), and never printed.
  bool secret = false;
};

struct SettingValue {
  std::string text;
  std::string origin;  // "--docker.host", "portman.yml:12:9", "$DOCKER_HOST", "default"
  bool operator==(const SettingValue&) const = default;
};

class SourceSettings {
 public:
  SourceSettings() = default;
  SourceSettings(std::string section, std::span<const OptionSpec> options);

  const std::string& section() const { return section_; }
  std::span<const OptionSpec> options() const { return options_; }

  // Later layers win: call with the environment, then the file, then the flags.
  void set(std::string_view key, std::string text, std::string origin);
  // Fills unset keys from their environment variables (`getenv` is passed in for tests).
  void apply_environment(const std::function<const char*(const char*)>& getenv);

  // The value, empty when unset.
  const std::string& text(std::string_view key) const;
  bool has(std::string_view key) const;  // set by any layer or by a non-empty default
  // Where the value came from, with the key: "docker.host (from --docker.host)".
  std::string describe(std::string_view key) const;
  Result<std::chrono::milliseconds> duration(std::string_view key) const;
  Result<long> integer(std::string_view key, long min, long max) const;

 private:
  std::string section_;
  std::span<const OptionSpec> options_;
  std::map<std::string, SettingValue, std::less<>> values_;
};

}  // namespace portman
