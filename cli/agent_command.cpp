// `portman agent` on the command line: node_exporter's flag names, each also a key under
// `agent:` in portman.yml (the flag wins).
#include "agent/agent.hpp"
#include "cli/commands.hpp"

namespace portman::cli {

using agent::AgentFlags;

void add_agent_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<AgentFlags>();
  auto* cmd =
      app.add_subcommand("agent", "Run the Prometheus exporter (metrics, landing page, JSON API)");
  cmd->add_option("--web.listen-address", flags->listen_addresses,
                  "Address to listen on, repeatable (default :9097)");
  cmd->add_option("--web.telemetry-path", flags->telemetry_path,
                  "Path of the metrics (default /metrics)");
  cmd->add_option("--web.config.file", flags->web_config_file,
                  "TLS and basic auth, exporter-toolkit format (docs/security.md)");
  cmd->add_option("--scan.min-interval", flags->scan_min_interval,
                  "One scan serves every scrape within this long (default 2s)");
  cmd->add_option("--log.level", flags->log_level, "debug, info, warn or error (default info)");
  cmd->add_option("--log.format", flags->log_format, "logfmt or json (default logfmt)");
  cmd->footer(
      "Examples:\n  portman agent\n  portman agent --web.listen-address 127.0.0.1:9097 "
      "--log.format json\n"
      "  portman agent --web.config.file /etc/portman/web.yml   # TLS and basic auth\n"
      "  curl -s localhost:9097/metrics | grep portman_finding");
  cmd->callback([flags, &action] {
    action = [flags](const Context& ctx) -> Result<int> {
      AgentFlags f = *flags;
      f.procfs = ctx.global.procfs;
      f.rootfs = ctx.global.rootfs;
      auto settings = agent::resolve_agent_settings(f, ctx.config.agent, ctx.sources);
      if (!settings) return settings.error();
      return agent::run_agent(*settings, {ctx.global.config, ctx.registry, ctx.registry_origin},
                              ctx.config);
    };
  });
}

}  // namespace portman::cli
