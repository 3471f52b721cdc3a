// portman man: the man page portman(1). The commands and flags come from the parser's own tree,
// so the page lists exactly what portman accepts; the prose sections are written here.
#include <iostream>
#include <sstream>

#include "cli/app_tree.hpp"
#include "cli/commands.hpp"
#include "libportman/version.hpp"

namespace portman::cli {
namespace {

// Text as roff: backslashes and hyphens escaped, no line starting with a control character.
std::string roff(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
    line_start = c == '\n';
  }
  return out;
}

std::string flag_tag(const FlagInfo& f) {
  std::string tag;
  for (const auto& n : f.names) tag += (tag.empty() ? "" : ", ") + ("\\fB" + roff(n) + "\\fR");
  if (!f.value.empty()) tag += " \\fI" + roff(f.value) + "\\fR";
  if (f.repeatable) tag += " ...";
  return tag;
}

void flags_section(std::ostream& out, const std::vector<FlagInfo>& flags,
                   const std::string& group) {
  for (const FlagInfo& f : flags) {
    if (f.group != group) continue;
    out << ".TP\n" << flag_tag(f) << "\n" << roff(f.help) << "\n";
  }
}

std::vector<std::string> groups_of(const std::vector<FlagInfo>& flags) {
  std::vector<std::string> groups;
  for (const FlagInfo& f : flags)
    if (std::find(groups.begin(), groups.end(), f.group) == groups.end()) groups.push_back(f.group);
  return groups;
}

// The footer: notes, then "Examples:" with indented lines kept as they are.
void footer_section(std::ostream& out, const std::string& footer) {
  if (footer.empty()) return;
  std::istringstream lines(footer);
  std::string line;
  bool verbatim = false;
  out << ".PP\n";
  while (std::getline(lines, line)) {
    bool indented = line.rfind("  ", 0) == 0;
    if (indented && !verbatim) out << ".RS 4\n.nf\n";
    if (!indented && verbatim) out << ".fi\n.RE\n";
    verbatim = indented;
    if (line.empty())
      out << ".PP\n";
    else
      out << roff(indented ? line.substr(2) : line) << "\n";
    if (!indented && !line.empty()) out << ".br\n";
  }
  if (verbatim) out << ".fi\n.RE\n";
}

constexpr const char* kHead = R"(.SH NAME
portman \- port registry, live socket scanner and Prometheus exporter
.SH SYNOPSIS
.B portman
[\fIGLOBAL OPTIONS\fR] \fICOMMAND\fR [\fIOPTIONS\fR] [\fIARGUMENTS\fR]
.SH DESCRIPTION
.B portman
keeps a registry of which service owns which port, scans the sockets that
really listen (with the process, user, container and systemd unit that hold
them), and reports what disagrees: a port that listens unregistered, a
registered service that is down, a service on the wrong address.
.PP
The same checks run as a Prometheus exporter
(\fBportman agent\fR), with alert rules and a Grafana dashboard shipped
beside it.
.PP
Global options work before or after the command.
Ports are written as \fB3000\fR, \fB3000/tcp\fR or \fB5353/udp\fR wherever a command takes one.
Errors are one line on standard error: \fBportman: error:\fR what, where,
and what would be valid.
)";

constexpr const char* kTail = R"(.SH FILES
.TP
.I /etc/portman/portman.yml
The configuration: service types and their ranges, environments, statuses,
reserved ports, ignore lists, the agent and the sources.
Every key is optional; a missing default file means the built\-in defaults.
.TP
.I /var/lib/portman/port_registry.json
The registry, for root and for the packaged service.
Other users default to \fI$XDG_STATE_HOME/portman/port_registry.json\fR.
Each change keeps the previous version in \fIport_registry.json.bak\fR and
holds a lock on \fIport_registry.json.lock\fR; the owner, group and mode of the
registry are kept when it is rewritten.
In the Debian package the folder belongs to the group \fBportman\fR and the
registry is writable by that group: members of the group may change it
without root.
.TP
.I /lib/systemd/system/portman.service
The hardened systemd unit that runs \fBportman agent\fR as the user \fBportman\fR.
.TP
.I /usr/share/portman/
Alert rules (\fIrules/portman.rules.yml\fR), the Grafana dashboard
(\fIdashboards/portman.json\fR) and example Prometheus and Alertmanager
configurations (\fIexamples/\fR).
.SH ENVIRONMENT
.TP
.B PORTMAN_CONFIG
The configuration file when \fB\-\-config\fR is not given.
.TP
.B PORT_REGISTRY_PATH
The registry file when \fB\-\-registry\fR is not given; it wins over
\fBregistry:\fR in the configuration.
.TP
.B XDG_STATE_HOME
Where the registry of a user other than root lives by default
(\fI~/.local/state\fR when unset).
.TP
.B NO_COLOR
When set, no colour (as \fB\-\-no\-color\fR).
Colour is only used on a terminal.
.TP
.B PORT_CONFLICT_ACTION
What \fBallocate \-p\fR does with a port that is already registered:
\fBblock\fR (the default) or \fBalert\fR refuse it;
\fBauto\-reassign\fR takes the first free port of the type instead.
.TP
.B DOCKER_HOST
Docker's Engine API socket when neither \fB\-\-docker.host\fR nor
\fBdocker.host\fR in the configuration is set.
.TP
.B DOKPLOY_API_URL
Dokploy's base URL when \fBdokploy.url\fR is not set.
.TP
.B DOKPLOY_API_KEY
Dokploy's API key when \fBdokploy.api_key_file\fR is not set.
It is never taken from the command line.
.SH EXIT STATUS
.TP
.B 0
Done (\fBcheck\fR: registered, listening, no finding;
\fBscan \-\-fail\-on\-finding\fR: no finding).
.TP
.B 1
Refused (taken, none free, still listening, not registered), \fBcheck\fR not
ok, findings with \fB\-\-fail\-on\-finding\fR, a lock timeout, an I/O failure,
an address the agent cannot bind.
.TP
.B 2
Bad input: a port that is not 1\-65535, an unknown type, environment or
status, a missing argument, an unknown command or flag.
.TP
.B 3
The configuration, the registry or the agent's web configuration is invalid;
nothing is written.
.SH EXAMPLES
.nf
.RS 4
portman scan
portman check 3000
PORT=$(portman allocate my\-api \-t api)
portman allocate my\-service \-p 8085
portman list \-r
portman validate
sudo systemctl enable \-\-now portman
curl \-s localhost:9097/metrics | grep portman_finding
.RE
.fi
.SH SEE ALSO
.BR ss (8),
.BR systemctl (1),
.BR prometheus (1)
)";

std::string man_page(const CLI::App& root) {
  const std::vector<CommandInfo> tree = command_tree(root);
  std::ostringstream out;
  out << ".\\\" Generated by `portman man`; do not edit.\n"
      << ".TH PORTMAN 1 \"\" \"portman " << kVersion << "\" \"User Commands\"\n"
      << kHead;
  out << ".SH GLOBAL OPTIONS\n";
  const CommandInfo& global = tree.front();
  for (const std::string& group : groups_of(global.flags)) {
    if (group != "Options") out << ".SS " << roff(group) << "\n";
    flags_section(out, global.flags, group);
  }
  out << ".SH COMMANDS\n";
  for (size_t i = 1; i < tree.size(); ++i) {
    const CommandInfo& c = tree[i];
    out << ".SS \"portman " << roff(c.name);
    if (!c.flags.empty()) out << " [OPTIONS]";
    for (const FlagInfo& p : c.positionals) out << " " << roff(p.value);
    out << "\"\n" << roff(c.help) << ".\n";
    for (const FlagInfo& p : c.positionals)
      out << ".TP\n\\fI" << roff(p.value) << "\\fR\n" << roff(p.help) << "\n";
    for (const std::string& group : groups_of(c.flags)) flags_section(out, c.flags, group);
    footer_section(out, c.footer);
  }
  out << kTail;
  return out.str();
}

}  // namespace

void add_man_command(CLI::App& app, Direct& direct) {
  auto* cmd = app.add_subcommand("man", "Print the man page portman(1) in roff");
  cmd->group("");  // hidden: the package installs the page
  const CLI::App* root = &app;
  cmd->callback([root, &direct] {
    direct = [root] {
      std::cout << man_page(*root);
      return 0;
    };
  });
}

}  // namespace portman::cli
