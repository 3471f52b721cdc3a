// What every command needs: the global options, the loaded config, the registry path, and how
// to print (colour or not). Commands receive it; nothing here is global state.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "collectors/collector.hpp"
#include "libportman/config.hpp"
#include "libportman/result.hpp"
#include "libportman/sources.hpp"

namespace portman::cli {

struct GlobalOptions {
  std::optional<std::string> config;
  std::optional<std::string> registry;
  bool no_color = false;
  std::optional<std::string> procfs;  // --path.procfs; the agent also reads agent.procfs
  std::optional<std::string> rootfs;  // --path.rootfs; the agent also reads agent.rootfs
  SourceFlags sources;                // --[no-]collector.NAME, --SECTION.KEY
};

struct Context {
  GlobalOptions global;  // as given, for the agent's reloads
  Config config;
  std::filesystem::path registry;
  std::string registry_origin;  // how the path was chosen: "--registry", "$PORT_REGISTRY_PATH", ...
  CollectorOptions collectors;
  SourcePlan sources;  // which sources run, decided once for every command
  bool color = false;
};

Result<Context> make_context(const GlobalOptions& global);

// The chosen subcommand's work: an exit code, or an Error that main() prints.
using Action = std::function<Result<int>(const Context&)>;

}  // namespace portman::cli
