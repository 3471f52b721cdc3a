// portman update PORT STATUS: set the status (one of the configured ones) and an optional note.
#include <iostream>

#include "cli/commands.hpp"
#include "libportman/report.hpp"

namespace portman::cli {
namespace {

struct UpdateOptions {
  std::string port, status, note;
  bool has_note = false, udp = false, json = false;
};

Result<int> run_update(const Context& ctx, const UpdateOptions& o) {
  auto key = port_key(o.port, o.udp);
  if (!key) return key.error();
  // Refused before the lock, so that a mistyped path leaves no folder or lock file behind.
  if (registry_missing(ctx)) return not_registered(ctx, Registry(), *key, {});
  auto done = update_status(ctx.registry, ctx.config, *key, o.status,
                            o.has_note ? std::optional(o.note) : std::nullopt);
  if (!done) return done.error();
  print_warnings(done->warnings);
  const Json& after = done->entry;
  if (o.json) std::cout << after.dump(2) << "\n";
  std::cerr << "updated " << registry_key(*key) << ": status " << o.status << "\n";
  return 0;
}

}  // namespace

void add_update_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<UpdateOptions>();
  auto* cmd = app.add_subcommand("update", "Set a registered port's status");
  cmd->add_option("port", o->port, "The port: 3000, 3000/tcp or 5353/udp")->required();
  cmd->add_option("status", o->status, "New status (see statuses in portman.yml)")->required();
  auto* note = cmd->add_option("-n,--note", o->note, "A note, kept in the entry's notes");
  cmd->add_flag("--udp", o->udp, "The UDP entry");
  cmd->add_flag("--json", o->json, "Print the updated entry as JSON");
  cmd->footer(
      "Examples:\n  portman update 8081 needs_pairing -n \"Session destroyed\"\n"
      "  portman update 3000 active");
  cmd->callback([o, note, &action] {
    o->has_note = note->count() > 0;
    action = [o](const Context& ctx) { return run_update(ctx, *o); };
  });
}

}  // namespace portman::cli
