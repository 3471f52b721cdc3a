// portman sync [--dry-run] [--json] [--fail-on-conflict] | sync --nginx [-o FILE]: the registry
// follows what Dokploy publishes on this server, or an nginx config for Dokploy's domains.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>

#include "cli/commands.hpp"
#include "inventory/dokploy_source.hpp"
#include "libportman/nginx_sites.hpp"
#include "libportman/registry_edit.hpp"
#include "libportman/sync_plan.hpp"
#include "libportman/unique_fd.hpp"

namespace portman::cli {

namespace {

namespace fs = std::filesystem;

struct SyncOptions {
  bool dry_run = false, json = false, nginx = false, fail_on_conflict = false;
  std::string output;
};

Error io_error(const std::string& what, const fs::path& path, int err = errno) {
  return make_error(ErrorKind::io, what + " " + path.string() + ": " + std::strerror(err));
}

// Where -o writes: a link is followed (it stays a link); a folder is refused before Dokploy is
// asked, so that a typo costs nothing.
Result<fs::path> output_target(const std::string& output) {
  std::error_code ec;
  fs::path target = fs::weakly_canonical(fs::path(output), ec);
  if (ec) target = fs::absolute(output);
  if (fs::is_directory(target, ec))
    return make_error(ErrorKind::bad_input, "-o " + output +
                                                ": is a folder; give the file to write, e.g. " +
                                                (fs::path(output) / "portman.conf").string());
  if (!fs::is_directory(target.parent_path(), ec))
    return make_error(ErrorKind::bad_input, "-o " + output + ": the folder " +
                                                target.parent_path().string() + " does not exist");
  return target;
}

// Written whole or not at all: a temp file beside the target, synced, then renamed over it. An
// existing file keeps its mode; a new one gets 0644 (nginx reads it as another user).
Status write_atomically(const fs::path& target, const std::string& text) {
  const fs::path dir = target.parent_path();
  UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) return io_error("cannot open", dir);
  mode_t mode = 0644;
  struct stat st {};
  if (::fstatat(dirfd.get(), target.filename().c_str(), &st, 0) == 0) mode = st.st_mode & 07777;
  std::random_device random;
  std::string name;
  UniqueFd fd;
  for (int attempt = 0; attempt < 16 && !fd; ++attempt) {
    char suffix[17];
    std::snprintf(suffix, sizeof suffix, "%08x%08x", random(), random());
    name = "." + target.filename().string() + ".tmp." + suffix;
    fd.reset(::openat(dirfd.get(), name.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd && errno != EEXIST) return io_error("cannot create", dir / name);
  }
  if (!fd) return io_error("cannot create", dir / name, EEXIST);
  auto fail = [&](Error e) -> Status {
    ::unlinkat(dirfd.get(), name.c_str(), 0);
    return e;
  };
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(io_error("cannot write", dir / name));
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fchmod(fd.get(), mode) != 0) return fail(io_error("cannot set the mode of", dir / name));
  if (::fsync(fd.get()) != 0) return fail(io_error("cannot fsync", dir / name));
  if (::renameat(dirfd.get(), name.c_str(), dirfd.get(), target.filename().c_str()) != 0)
    return fail(io_error("cannot replace", target));
  ::fsync(dirfd.get());
  return {};
}

// One rule for the server with Dokploy's findings: unset or empty is the Dokploy host.
std::optional<std::string> server_of(const Context& ctx) {
  return dokploy::configured_server(ctx.sources.settings_of("dokploy"));
}

// Dokploy's faults are the network's or the remote's, never a bad local file: exit 1.
Result<dokploy::Inventory> inventory(const Context& ctx) {
  auto inv = fetch_inventory(ctx);
  if (!inv && inv.error().kind == ErrorKind::invalid_data)
    return make_error(ErrorKind::io, inv.error().message);
  return inv;
}

Result<int> run_nginx(const Context& ctx, const SyncOptions& o) {
  std::optional<fs::path> target;
  if (!o.output.empty()) {
    auto t = output_target(o.output);
    if (!t) return t.error();
    target = *t;
  }
  auto inv = inventory(ctx);
  if (!inv) return inv.error();
  nginx::SiteOptions options;
  options.config = ctx.config.nginx;
  auto text = nginx::render_sites(*inv, server_of(ctx), options);
  if (!text) return text.error();
  if (!target) {
    std::cout << *text;
    return 0;
  }
  if (auto st = write_atomically(*target, *text); !st) return st.error();
  std::cerr << "wrote " << target->string() << "; check it with 'nginx -t', then reload nginx\n";
  return 0;
}

int exit_for(const sync::Plan& plan, const SyncOptions& o) {
  return o.fail_on_conflict && (!plan.collisions.empty() || !plan.conflicts.empty()) ? 1 : 0;
}

void print_plan(const sync::Plan& plan, const SyncOptions& o, bool applied) {
  if (o.json) {
    Json j = sync::render_json(plan);
    j["applied"] = applied;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << sync::render_text(plan);
  }
}

Result<int> run_sync(const Context& ctx, const SyncOptions& o) {
  auto inv = inventory(ctx);
  if (!inv) return inv.error();
  const auto server = server_of(ctx);
  if (o.dry_run) {
    auto registry = read_registry(ctx);
    if (!registry) return registry.error();
    sync::Plan plan = sync::plan_sync(*registry, *inv, ctx.config, server);
    print_plan(plan, o, false);
    return exit_for(plan, o);
  }
  // Planned again under the lock, on the registry as it is then: what is printed is what is
  // written.
  sync::Plan plan;
  auto saved = edit_registry(ctx.registry, ctx.config, [&](Registry& registry) -> Result<bool> {
    plan = sync::plan_sync(registry, *inv, ctx.config, server);
    if (plan.empty()) return false;
    sync::apply(plan, registry, now_timestamp());
    return true;
  });
  if (!saved) return saved.error();
  print_warnings(*saved);
  print_plan(plan, o, !plan.empty());
  if (!plan.empty())
    std::cerr << "updated " << ctx.registry.string() << ": " << plan.additions.size() << " added, "
              << plan.updates.size() << " changed, " << plan.deactivations.size()
              << " marked inactive\n";
  return exit_for(plan, o);
}

}  // namespace

void add_sync_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<SyncOptions>();
  auto* cmd = app.add_subcommand(
      "sync", "Register the ports Dokploy publishes on this server, or write nginx sites");
  cmd->add_flag("--dry-run", o->dry_run, "Show the changes; write nothing");
  cmd->add_flag("--json", o->json, "The plan as JSON");
  cmd->add_flag("--fail-on-conflict", o->fail_on_conflict,
                "Exit 1 when Dokploy's services collide or a port is registered to another "
                "service");
  auto* nginx = cmd->add_flag("--nginx", o->nginx,
                              "Print an nginx config for Dokploy's domains on this server");
  cmd->add_option("-o,--output", o->output, "With --nginx: write it to FILE (atomically)")
      ->needs(nginx);
  cmd->footer(
      "Entries that sync writes carry a `dokploy` object (project, environment, service, kind, "
      "id, target_port) that later syncs match on; an entry whose Dokploy service is gone is "
      "set to 'inactive', never removed. The server comes from dokploy.server_id (empty: the "
      "Dokploy host).\n\nExamples:\n  portman sync --dry-run\n  portman sync\n"
      "  portman sync --nginx -o /etc/nginx/conf.d/portman.conf && nginx -t && nginx -s reload");
  cmd->callback([o, &action] {
    action = [o](const Context& ctx) -> Result<int> {
      if (o->nginx && (o->dry_run || o->json || o->fail_on_conflict))
        return make_error(ErrorKind::bad_input,
                          "--nginx prints the nginx config and changes nothing; --dry-run, --json "
                          "and --fail-on-conflict go with the registry sync");
      return o->nginx ? run_nginx(ctx, *o) : run_sync(ctx, *o);
    };
  });
}

}  // namespace portman::cli
