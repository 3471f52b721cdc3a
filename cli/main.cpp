// portman: the command line. Parses with CLI11, runs one command, and is the only place where an
// Error becomes a message and an exit code (0 ok, 1 refused or failed, 2 bad input, 3 bad file).
#include <iostream>
#include <string_view>

#include "cli/capabilities.hpp"
#include "cli/commands.hpp"
#include "libportman/heap_policy.hpp"
#include "libportman/version.hpp"

namespace portman::cli {

void add_version_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("version", "Print the version");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "As JSON");
  cmd->callback([json, &action] {
    action = [json](const Context&) -> Result<int> {
      if (*json)
        std::cout << Json{{"version", kVersion}, {"revision", kRevision}}.dump() << "\n";
      else
        std::cout << "portman " << kVersion << " (revision " << kRevision << ")\n";
      return 0;
    };
  });
}

namespace {

int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::bad_input:
      return 2;
    case ErrorKind::invalid_data:
      return 3;
    case ErrorKind::refused:
    case ErrorKind::io:
      return 1;
  }
  return 1;
}

// CLI11's messages in one line, with where to look for what is valid.
std::string one_line_failure(const CLI::App* app, const CLI::Error& e) {
  std::string msg = e.what();
  for (char& c : msg)
    if (c == '\n') c = ' ';
  std::string name = app->get_name();
  return "portman: error: " + msg + "; see '" + (name == "portman" ? name : "portman " + name) +
         " --help'\n";
}

// Whether this may be `portman agent`: any word "agent" counts. A one-shot command given that
// word as an argument merely runs with glibc's default heap.
bool may_run_agent(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "agent") return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // How the heap is run: the agent scans again and again, the others once (heap_policy.hpp).
  if (may_run_agent(argc, argv))
    use_heap_for_repeated_scans();
  else
    use_heap_for_one_shot_command();
  raise_permitted_capabilities();  // the container image's file capabilities (+p)
  CLI::App app{
      "portman: which service owns which port, what really listens, and ports that never collide"};
  app.name("portman");
  app.fallthrough();  // global options also work after the subcommand
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--config", global.config,
                 "portman.yml (default: $PORTMAN_CONFIG, /etc/portman/portman.yml)");
  app.add_option(
      "--registry", global.registry,
      "Registry file (default: $PORT_REGISTRY_PATH, config, /var/lib/portman/port_registry.json)");
  app.add_flag("--no-color", global.no_color,
               "No colour (also when NO_COLOR is set or not a terminal)");
  app.add_option("--path.procfs", global.procfs, "procfs mount point (default /proc)");
  app.add_option("--path.rootfs", global.rootfs,
                 "Root of the host whose etc/passwd names users, e.g. /host in a container "
                 "(default /: this system's)");
  add_source_flags(app, global.sources);
  app.failure_message(one_line_failure);
  app.footer(
      "Examples:\n  portman scan\n  portman check 3000\n  PORT=$(portman allocate my-api -t api)\n"
      "  portman list -r\n\nRun 'portman COMMAND --help' for a command's options.");

  Action action;
  add_list_command(app, action);
  add_check_command(app, action);
  add_scan_command(app, action);
  add_allocate_command(app, action);
  add_release_command(app, action);
  add_update_command(app, action);
  add_suggest_command(app, action);
  add_validate_command(app, action);
  add_version_command(app, action);
  add_agent_command(app, action);
  add_sync_command(app, action);
  Direct direct;
  add_completion_command(app, direct);
  add_man_command(app, direct);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::RequiredError& e) {
    // `portman frob`: CLI11 complains that a subcommand is missing; say which word is wrong.
    if (app.get_subcommands().empty() && !app.remaining().empty()) {
      std::string valid;
      for (const CLI::App* sub : app.get_subcommands({}))
        valid += (valid.empty() ? "" : ", ") + sub->get_name();
      std::cerr << "portman: error: unknown command '" << app.remaining().front()
                << "'; valid commands: " << valid << "\n";
      return 2;
    }
    std::cerr << one_line_failure(
        app.get_subcommands().empty() ? &app : app.get_subcommands().back(), e);
    return 2;
  } catch (const CLI::ParseError& e) {
    // One line on stderr, exit 2, whatever CLI11's own code.
    const CLI::App* failed = &app;
    for (const CLI::App* sub : app.get_subcommands()) failed = sub;
    std::cerr << one_line_failure(failed, e);
    return 2;
  }

  if (direct) return direct();
  auto ctx = make_context(global);
  if (!ctx) {
    std::cerr << "portman: error: " << ctx.error().message << "\n";
    return exit_code(ctx.error().kind);
  }
  auto result = action(*ctx);
  if (!result) {
    std::cerr << "portman: error: " << result.error().message << "\n";
    return exit_code(result.error().kind);
  }
  return *result;
}

}  // namespace portman::cli

int main(int argc, char** argv) {
  return portman::cli::main(argc, argv);
}
