// `portman agent`: the long-running exporter. Resolves its settings (flag over portman.yml over
// default), serves HTTP, scans at scrape time, reloads the registry when its file changes and
// the config on SIGHUP, and stops cleanly on SIGTERM or SIGINT.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/log.hpp"
#include "libportman/config.hpp"
#include "libportman/result.hpp"
#include "libportman/sources.hpp"

namespace portman::agent {

// What the command line said; unset means "take portman.yml's agent: key".
struct AgentFlags {
  std::vector<std::string> listen_addresses;
  std::optional<std::string> telemetry_path, web_config_file, scan_min_interval, log_level,
      log_format, procfs, rootfs;
};

struct AgentSettings {
  std::vector<std::string> listen_addresses;
  std::string telemetry_path;
  std::string web_config_file;
  SourcePlan sources;  // which collectors and inventory sources run, with their settings
  std::chrono::milliseconds scan_min_interval{};
  LogLevel log_level = LogLevel::info;
  LogFormat log_format = LogFormat::logfmt;
  std::string procfs;
  std::string rootfs;  // "/": this system's user names; else ROOTFS/etc/passwd's
};

Result<AgentSettings> resolve_agent_settings(const AgentFlags& flags, const AgentConfig& config,
                                             SourcePlan sources);

struct AgentPaths {
  std::optional<std::string> config;  // re-read on SIGHUP (same lookup as at start)
  std::filesystem::path registry;
  std::string registry_origin;  // how the path was chosen, for the log: "--registry", ...
};

// Runs until SIGTERM or SIGINT; the exit code, or an Error when it cannot start.
Result<int> run_agent(const AgentSettings& settings, const AgentPaths& paths, Config config);

}  // namespace portman::agent
