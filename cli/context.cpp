#include "cli/context.hpp"

#include <unistd.h>

#include <cstdlib>

#include "libportman/accounts.hpp"

namespace portman::cli {

Result<Context> make_context(const GlobalOptions& global) {
  auto config = load_config(global.config);
  if (!config) return config.error();
  Context ctx;
  ctx.config = std::move(*config);
  auto location = resolve_registry_location(global.registry, ctx.config);
  ctx.registry = std::move(location.path);
  ctx.registry_origin = std::move(location.origin);
  ctx.global = global;
  ctx.collectors.procfs = global.procfs.value_or("/proc");
  if (global.rootfs) {
    auto accounts = Accounts::from_rootfs(*global.rootfs);
    if (!accounts) return accounts.error();
    ctx.collectors.accounts = std::move(*accounts);
  }
  auto sources = plan_sources(ctx.config, global.sources);
  if (!sources) return sources.error();
  ctx.sources = std::move(*sources);
  const char* no_color = std::getenv("NO_COLOR");
  ctx.color = !global.no_color && !(no_color && *no_color) && ::isatty(STDOUT_FILENO);
  return ctx;
}

}  // namespace portman::cli
