// portman release PORT: move the entry into the archive; refuse while the port still listens.
#include <iostream>

#include "cli/commands.hpp"

namespace portman::cli {
namespace {

struct ReleaseOptions {
  std::string port;
  bool udp = false, force = false, json = false;
};

Result<int> run_release(const Context& ctx, const ReleaseOptions& o) {
  auto key = port_key(o.port, o.udp);
  if (!key) return key.error();
  // Refused before the lock, so that a mistyped path leaves no folder or lock file behind.
  if (registry_missing(ctx)) return not_registered(ctx, Registry(), *key, {});
  auto done = release_port(ctx.registry, ctx.config, *key, o.force, live_scan(ctx));
  if (!done) return done.error();
  print_warnings(done->warnings);
  const std::string& service = done->service;
  if (o.json)
    std::cout << Json{{"port", key->port},
                      {"protocol", std::string(to_string(key->protocol))},
                      {"service", service},
                      {"released", true}}
                     .dump(2)
              << "\n";
  std::cerr << "released " << registry_key(*key) << " (" << service
            << "); it stays in quarantine for "
            << std::chrono::duration_cast<std::chrono::hours>(ctx.config.quarantine).count()
            << "h\n";
  return 0;
}

}  // namespace

void add_release_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<ReleaseOptions>();
  auto* cmd = app.add_subcommand("release", "Archive a port's entry (refused while it listens)");
  cmd->add_option("port", o->port, "The port: 3000, 3000/tcp or 5353/udp")->required();
  cmd->add_flag("--udp", o->udp, "The UDP entry");
  cmd->add_flag("-f,--force", o->force, "Release even though the port still listens");
  cmd->add_flag("--json", o->json, "Print what was released as JSON");
  cmd->footer("Examples:\n  portman release 8085\n  portman release 5353/udp --force");
  cmd->callback(
      [o, &action] { action = [o](const Context& ctx) { return run_release(ctx, *o); }; });
}

}  // namespace portman::cli
