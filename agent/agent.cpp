#include "agent/agent.hpp"

#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <tuple>

#include "agent/agent_libraries.hpp"
#include "agent/http_server.hpp"
#include "agent/idle_trim.hpp"
#include "agent/inventory_poller.hpp"
#include "agent/landing_page.hpp"
#include "agent/metrics.hpp"
#include "agent/registry_watch.hpp"
#include "agent/render_cache.hpp"
#include "agent/scan_service.hpp"
#include "agent/web_config.hpp"
#include "libportman/accounts.hpp"
#include "libportman/duration.hpp"
#include "libportman/registry_file.hpp"
#include "libportman/report.hpp"
#include "libportman/version.hpp"

namespace portman::agent {

Result<AgentSettings> resolve_agent_settings(const AgentFlags& flags, const AgentConfig& config,
                                             SourcePlan sources) {
  AgentSettings s;
  s.listen_addresses =
      flags.listen_addresses.empty() ? config.listen_addresses : flags.listen_addresses;
  for (const auto& a : s.listen_addresses)
    if (auto parsed = parse_listen_address(a); !parsed) return parsed.error();
  s.telemetry_path = flags.telemetry_path.value_or(config.telemetry_path);
  const std::string& p = s.telemetry_path;
  if (p.empty() || p.front() != '/' || p == "/" || p == "/healthz" || p == "/api/scan")
    return make_error(ErrorKind::bad_input, "invalid --web.telemetry-path '" + p +
                                                "': a path starting with / other than /, "
                                                "/healthz and /api/scan");
  s.web_config_file = flags.web_config_file.value_or(config.web_config_file);
  s.sources = std::move(sources);
  if (flags.scan_min_interval) {
    auto d = parse_duration(*flags.scan_min_interval);
    if (!d) return make_error(ErrorKind::bad_input, "--scan.min-interval: " + d.error().message);
    s.scan_min_interval = *d;
  } else {
    s.scan_min_interval = config.scan_min_interval;
  }
  auto level = parse_log_level(flags.log_level.value_or(config.log_level));
  if (!level) return level.error();
  s.log_level = *level;
  auto format = parse_log_format(flags.log_format.value_or(config.log_format));
  if (!format) return format.error();
  s.log_format = *format;
  s.procfs = flags.procfs.value_or(config.procfs);
  s.rootfs = flags.rootfs.value_or(config.rootfs);
  return s;
}

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Effective capabilities from /proc/self/status, to say what the agent can attribute.
bool has_capability(int bit) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
    return (caps >> bit) & 1ULL;
  }
  return false;
}

void warn_about_privileges(Logger& log) {
  constexpr int kCapDacReadSearch = 2, kCapSysPtrace = 19;
  if (::geteuid() == 0)
    log.warn(
        "running as root; a dedicated user with CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE is "
        "enough (see docs/security.md)");
  if (!has_capability(kCapDacReadSearch) || !has_capability(kCapSysPtrace))
    log.warn(
        "without CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE the agent cannot attribute other "
        "users' sockets; they are reported with an unknown owner");
}

// Loads the registry for the agent: a missing or bad file keeps the last good one in use. Reloads
// follow changes of the file (or SIGHUP), never scrapes; a missing file is logged once when it
// goes missing, not at every look.
class RegistryLoader {
 public:
  RegistryLoader(std::filesystem::path path, ScanService& scans, Logger& log)
      : path_(std::move(path)), scans_(scans), log_(log) {}

  void reload() {
    auto r = read_registry_file(path_);
    if (r && !r->found) {
      scans_.mark_registry_missing();
      if (!missing_)
        log_.warn(loaded_once_ ? "registry file does not exist, keeping the last good one"
                               : "registry file does not exist; every listening port counts as "
                                 "unregistered until it appears",
                  {{"path", path_.string()}});
      missing_ = true;
      return;
    }
    missing_ = false;
    if (!r) {
      scans_.mark_registry_invalid();
      log_.error("registry invalid, keeping the last good one", {{"err", r.error().message}});
      return;
    }
    const Registry& loaded = r->registry;
    log_.info("registry loaded", {{"path", path_.string()},
                                  {"entries", std::to_string(loaded.entries().size())},
                                  {"generation", std::to_string(loaded.generation())}});
    scans_.use_registry(std::make_shared<const Registry>(std::move(r->registry)), unix_now());
    loaded_once_ = true;
  }

 private:
  std::filesystem::path path_;
  ScanService& scans_;
  Logger& log_;
  bool missing_ = false;      // the last look found no file
  bool loaded_once_ = false;  // a registry from the file is in use
};

class Router {
 public:
  Router(ScanService& scans, std::string telemetry_path, IdleTrim& trim)
      : scans_(scans),
        telemetry_path_(std::move(telemetry_path)),
        build_{kVersion, kRevision},
        metrics_(trim),
        page_(trim),
        api_(trim) {}

  HttpResponse operator()(const HttpRequest& req) {
    if (req.path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n", {}, {}, {}};
    if (req.path == telemetry_path_)
      return cached(metrics_, "text/plain; version=0.0.4; charset=utf-8",
                    [&](const Snapshot& s) { return render_metrics(s, build_); });
    if (req.path == "/")
      return cached(page_, "text/html; charset=utf-8", [&](const Snapshot& s) {
        return render_landing_page(s, build_, telemetry_path_);
      });
    if (req.path == "/api/scan")
      return cached(api_, "application/json", [](const Snapshot& s) {
        return scan_report_text(*s.registry, s.live, s.findings);
      });
    return {404, "text/plain; charset=utf-8", "404 page not found\n", {}, {}, {}};
  }

 private:
  template <class Render>
  HttpResponse cached(RenderCache& cache, const char* type, Render render) {
    auto snap = scans_.current();
    HttpResponse r;
    r.content_type = type;
    r.shared_body = cache.body(snap, [&] { return render(*snap); });
    r.shared_gzip = [&cache, snap] { return cache.gzip(snap); };
    return r;
  }

  ScanService& scans_;
  std::string telemetry_path_;
  BuildInfo build_;
  RenderCache metrics_, page_, api_;
};

// What tells that the registry file was replaced or rewritten, for when inotify is unavailable.
using FileStamp = std::tuple<ino_t, std::int64_t, std::int64_t, off_t>;
FileStamp file_stamp(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return {};
  return {st.st_ino, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size};
}

// Signals arrive on an fd, so that the main loop can wait for them and for file events at once.
Result<UniqueFd> block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  // Before any thread exists: the server's threads inherit the mask and never take them.
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0)
    return make_error(ErrorKind::io, "cannot block signals");
  UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return make_error(ErrorKind::io, "signalfd failed");
  return fd;
}

}  // namespace

Result<int> run_agent(const AgentSettings& settings, const AgentPaths& paths, Config config) {
  // libmicrohttpd, GnuTLS, libcrypt and zlib: a missing one stops the agent here, in one line.
  if (auto libraries = agent_libraries(); !libraries) return libraries.error();
  Logger log(settings.log_level, settings.log_format);
  // Two malloc arenas are enough for two server threads; more only keep freed renders resident.
  ::mallopt(M_ARENA_MAX, 2);
  // Connections and the owners cache hold fds; the soft limit (often 1024) is only a default.
  if (rlimit lim{}; ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  WebConfig web;
  if (!settings.web_config_file.empty()) {
    auto loaded = load_web_config(settings.web_config_file);
    if (!loaded) return loaded.error();
    web = std::move(*loaded);
  }
  auto signals = block_signals();
  if (!signals) return signals.error();

  CollectorOptions collectors;
  collectors.procfs = settings.procfs;
  auto accounts = Accounts::from_rootfs(settings.rootfs);
  if (!accounts) return accounts.error();
  collectors.accounts = std::move(*accounts);
  // A scrape waits this long at most for Docker; a slower answer serves the next scrape.
  collectors.remote_wait = std::chrono::milliseconds(250);
  auto scanner = make_scanner(collectors, settings.sources);
  if (!scanner) return scanner.error();
  ScanService scans(std::move(*scanner), settings.sources, settings.scan_min_interval,
                    paths.registry.string(), log);
  // Declared after `scans`, so that it stops (and joins its threads) first.
  InventoryPoller inventories(settings.sources, log, [&scans](std::vector<InventoryState> states) {
    scans.use_inventories(std::move(states));
  });
  scans.use_config(std::make_shared<const Config>(config));
  RegistryLoader registry(paths.registry, scans, log);
  registry.reload();
  // Saves replace the file the path resolves to: with a symlinked registry, that file's folder
  // is the one to watch.
  auto resolved = resolve_registry(paths.registry);
  auto watch = RegistryWatch::open(resolved ? *resolved : paths.registry);
  if (!watch)
    log.warn("cannot watch the registry's folder; checking the file every 2s instead",
             {{"err", watch.error().message}});
  FileStamp stamp = file_stamp(paths.registry);

  HttpServerOptions http;
  http.listen_addresses = settings.listen_addresses;
  http.web = web;
  IdleTrim trim;
  auto router = std::make_shared<Router>(scans, settings.telemetry_path, trim);
  auto server = HttpServer::start(
      http, [router](const HttpRequest& req) { return (*router)(req); }, log);
  if (!server) return server.error();

  std::string addresses;
  auto ports = (*server)->ports();
  for (size_t i = 0; i < settings.listen_addresses.size(); ++i)
    addresses += (i ? "," : "") + settings.listen_addresses[i] + "=" + std::to_string(ports[i]);
  log.info("portman agent started", {{"version", kVersion},
                                     {"revision", kRevision},
                                     {"listen", addresses},
                                     {"tls", web.tls ? "true" : "false"},
                                     {"telemetry_path", settings.telemetry_path},
                                     {"registry", paths.registry.string()},
                                     {"registry_from", paths.registry_origin},
                                     {"config", config.source}});
  warn_about_privileges(log);
  for (size_t i = 0; i < settings.listen_addresses.size(); ++i) {
    auto addr = parse_listen_address(settings.listen_addresses[i]);
    std::string host = addr->host.empty()                          ? "localhost"
                       : addr->host.find(':') != std::string::npos ? "[" + addr->host + "]"
                                                                   : addr->host;
    log.info("open the landing page", {{"url", std::string(web.tls ? "https" : "http") + "://" +
                                                   host + ":" + std::to_string(ports[i]) + "/"}});
  }

  for (;;) {
    pollfd fds[2] = {{signals->get(), POLLIN, 0}, {watch ? watch->fd() : -1, POLLIN, 0}};
    int ready = ::poll(fds, 2, shorter_timeout(watch ? -1 : 2000, trim.poll_timeout_ms()));
    trim.run();
    if (ready == 0 && !watch) {  // no watch: compare the file's identity instead
      FileStamp now = file_stamp(paths.registry);
      if (now != stamp) registry.reload();
      stamp = now;
      continue;
    }
    if (ready == 0) continue;  // the trim's turn
    if (ready < 0 && errno != EINTR)
      return make_error(ErrorKind::io, std::string("poll: ") + std::strerror(errno));
    if (fds[1].revents & POLLIN && watch->drain()) registry.reload();
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo info{};
    while (::read(signals->get(), &info, sizeof info) == sizeof info) {
      if (info.ssi_signo == SIGHUP) {
        auto fresh = load_config(paths.config);
        if (!fresh) {
          log.error("config reload failed, keeping the running one",
                    {{"err", fresh.error().message}});
        } else {
          scans.use_config(std::make_shared<const Config>(std::move(*fresh)));
          log.info("config reloaded (listen addresses, TLS and collectors apply on restart)",
                   {{"config", config.source}});
        }
        registry.reload();
        continue;
      }
      log.info("stopping", {{"signal", info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
      server->reset();  // stops accepting and finishes requests in flight
      return 0;
    }
  }
}

}  // namespace portman::agent
