#include "agent/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "libportman/allocation.hpp"

namespace portman::agent {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// One family being filled: series are kept by label set, so that two sources of the same series
// (SO_REUSEPORT workers, a port registered twice) give one valid series instead of a duplicate.
class FamilyBuilder {
 public:
  FamilyBuilder(std::string name, std::string help, MetricType type)
      : name_(std::move(name)), help_(std::move(help)), type_(type) {}

  // Adds a series unless one with the same labels exists (the first one wins).
  void add(Labels labels, double value) {
    // The values, each prefixed by its length so that no two label sets give one key: hashing
    // one string is much cheaper than ordering vectors of labels at thousands of sockets.
    std::string key;
    for (const auto& l : labels) ((key += std::to_string(l.value.size())) += ':') += l.value;
    if (!seen_.insert(std::move(key)).second) return;
    ClientMetric m;
    m.label = std::move(labels);
    if (type_ == MetricType::Counter)
      m.counter.value = value;
    else
      m.gauge.value = value;
    metrics_.push_back(std::move(m));
  }

  // Series keep the order they were added in: the callers add them by port, then protocol.
  MetricFamily build() && {
    return MetricFamily{std::move(name_), std::move(help_), type_, std::move(metrics_)};
  }

 private:
  std::string name_, help_;
  MetricType type_;
  std::vector<ClientMetric> metrics_;
  std::unordered_set<std::string> seen_;  // the label values of every series added
};

MetricFamily single(std::string name, std::string help, MetricType type, double value) {
  FamilyBuilder f(std::move(name), std::move(help), type);
  f.add({}, value);
  return std::move(f).build();
}

std::string port_label(PortKey key) {
  return std::to_string(key.port);
}
std::string proto_label(PortKey key) {
  return std::string(to_string(key.protocol));
}

// The canonical type name, so that service_type joins with portman_range_ports; as written when
// the config does not know it.
std::string type_label(const Entry& e, const Config* config) {
  if (config && !e.service_type.empty())
    if (const ServiceType* t = config->find_type(e.service_type)) return t->name;
  return e.service_type;
}

// Docker and friends show the first 12 hex digits; the full id adds nothing to a label.
std::string short_container(const std::string& id) {
  return id.substr(0, 12);
}

void add_collector_families(const Snapshot& snap, std::vector<MetricFamily>& out) {
  FamilyBuilder success(
      "portman_scrape_collector_success",
      "Whether the collector's last run succeeded (1) or failed (0). One scan serves every "
      "scrape within --scan.min-interval (default 2s).",
      MetricType::Gauge);
  FamilyBuilder duration(
      "portman_scrape_collector_duration_seconds",
      "Seconds the collector's last run took. One scan serves every scrape within "
      "--scan.min-interval (default 2s).",
      MetricType::Gauge);
  for (const CollectorRun& r : snap.live.runs) {
    success.add({{"collector", r.collector}}, r.success ? 1 : 0);
    duration.add({{"collector", r.collector}}, r.duration_seconds);
  }
  out.push_back(std::move(success).build());
  out.push_back(std::move(duration).build());
}

void add_listening_family(const Snapshot& snap, const Registry& registry,
                          std::vector<MetricFamily>& out) {
  FamilyBuilder f("portman_listening_port_info",
                  "A listening TCP socket or bound UDP socket, 1 per socket; process and user "
                  "are empty when the owner is unknown, service_name when the port is not "
                  "registered.",
                  MetricType::Gauge);
  // By port, protocol and address, so that the output does not follow the kernel's dump order.
  std::vector<const ListeningSocket*> sockets;
  sockets.reserve(snap.live.sockets.size());
  for (const ListeningSocket& s : snap.live.sockets) sockets.push_back(&s);
  std::sort(sockets.begin(), sockets.end(), [](const ListeningSocket* a, const ListeningSocket* b) {
    return std::tie(a->port, a->protocol, a->address, a->inode) <
           std::tie(b->port, b->protocol, b->address, b->inode);
  });
  for (const ListeningSocket* sp : sockets) {
    const ListeningSocket& s = *sp;
    const Owner* o = s.main_owner();
    const Entry* e = registry.find(s.key());
    f.add({{"port", port_label(s.key())},
           {"protocol", proto_label(s.key())},
           {"address", s.address},
           {"process", o ? o->process : std::string()},
           {"user", o ? o->user : std::string()},
           {"container", o ? short_container(o->container) : std::string()},
           {"service_name", e ? e->service : std::string()}},
          1);
  }
  out.push_back(std::move(f).build());
}

void add_registry_families(const Snapshot& snap, const Registry& registry,
                           std::vector<MetricFamily>& out) {
  std::set<PortKey> listening;
  for (const ListeningSocket& s : snap.live.sockets) listening.insert(s.key());

  FamilyBuilder info("portman_registered_port_info", "A port allocation in the registry, 1 each.",
                     MetricType::Gauge);
  FamilyBuilder up("portman_port_up",
                   "Whether something listens on the registered port and protocol (1) or not (0).",
                   MetricType::Gauge);
  for (const Entry& e : registry.entries()) {
    info.add({{"port", port_label(e.key)},
              {"protocol", proto_label(e.key)},
              {"service_name", e.service},
              {"service_env", e.environment},
              {"service_owner", e.owner},
              {"service_type", type_label(e, snap.config.get())},
              {"status", e.status}},
             1);
    up.add({{"port", port_label(e.key)},
            {"protocol", proto_label(e.key)},
            {"service_name", e.service},
            {"service_env", e.environment},
            {"status", e.status}},
           listening.count(e.key) ? 1 : 0);
  }
  out.push_back(std::move(info).build());
  out.push_back(std::move(up).build());
}

void add_finding_families(const Snapshot& snap, std::vector<MetricFamily>& out) {
  FamilyBuilder conflict("portman_conflict",
                         "A finding of the registry-against-live comparison, 1 each; process is "
                         "empty when nothing listens or the owner is unknown.",
                         MetricType::Gauge);
  FamilyBuilder conflicts("portman_conflicts",
                          "Number of findings of each kind (0 when there are none).",
                          MetricType::Gauge);
  std::size_t unregistered = 0;
  for (const Finding& f : snap.findings) {
    conflict.add({{"kind", std::string(to_string(f.kind))},
                  {"port", port_label(f.key)},
                  {"protocol", proto_label(f.key)},
                  {"service_name", f.service_name},
                  {"process", f.process}},
                 1);
    if (f.kind == FindingKind::unregistered) ++unregistered;
  }
  for (FindingKind kind : kAllFindingKinds) {
    auto n = std::count_if(snap.findings.begin(), snap.findings.end(),
                           [&](const Finding& f) { return f.kind == kind; });
    conflicts.add({{"kind", std::string(to_string(kind))}}, static_cast<double>(n));
  }
  out.push_back(std::move(conflict).build());
  out.push_back(std::move(conflicts).build());
  out.push_back(single("portman_unregistered_ports",
                       "Number of listening ports that are not registered (unregistered findings).",
                       MetricType::Gauge, static_cast<double>(unregistered)));
}

// Port counts of one range by state. A port number is in the first state, in PortState order,
// that either protocol gives it, so that the four counts add up to the range's size.
// PortPlanner::state is asked only for the few ports something refers to (registered, listening,
// reserved, archived); ignored ranges are counted by size; every other port is free. Asking for
// each port of a wide range (10000-65535) would cost milliseconds per scrape.
std::array<std::uint64_t, 4> count_range(const PortRange& range, const PortPlanner& planner,
                                         const Config& config, const Registry& registry,
                                         const LiveState& live,
                                         const std::vector<ArchivedPort>& archive) {
  std::vector<std::uint16_t> candidates;
  auto consider = [&](std::uint16_t port) {
    if (range.contains(port)) candidates.push_back(port);
  };
  for (const Entry& e : registry.entries()) consider(e.key.port);
  for (const ListeningSocket& s : live.sockets) consider(s.port);
  for (std::uint16_t p : config.reserved) consider(p);
  for (const ArchivedPort& a : archive) consider(a.key.port);
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  std::array<std::uint64_t, 4> counts{};
  std::uint64_t ignored_candidates = 0;
  for (std::uint16_t p : candidates) {
    PortState st = std::min(planner.state({p, Protocol::tcp}), planner.state({p, Protocol::udp}));
    ++counts[static_cast<std::size_t>(st)];
    if (config.ignore.port_ignored(p)) ++ignored_candidates;
  }

  // Ports of the range that an ignore rule covers: the union of the rules' intersections with it.
  std::vector<std::pair<int, int>> spans;
  for (const PortRange& r : config.ignore.ports) {
    int first = std::max<int>(r.first, range.first), last = std::min<int>(r.last, range.last);
    if (first <= last) spans.emplace_back(first, last);
  }
  std::sort(spans.begin(), spans.end());
  std::uint64_t ignored = 0;
  int covered_to = -1;
  for (auto [first, last] : spans) {
    first = std::max(first, covered_to + 1);
    if (first <= last) ignored += static_cast<std::uint64_t>(last - first + 1);
    covered_to = std::max(covered_to, last);
  }

  std::uint64_t others_ignored = ignored - ignored_candidates;
  counts[static_cast<std::size_t>(PortState::unavailable)] += others_ignored;
  counts[static_cast<std::size_t>(PortState::free)] +=
      static_cast<std::uint64_t>(range.size()) - candidates.size() - others_ignored;
  return counts;
}

void add_range_family(const Snapshot& snap, const Registry& registry,
                      std::vector<MetricFamily>& out) {
  FamilyBuilder f("portman_range_ports",
                  "Ports of each service type's range by state: allocated (registered), "
                  "unregistered (listening, not registered), unavailable (reserved, ignored or "
                  "in quarantine), free (could be allocated now); the four add up to the range "
                  "size.",
                  MetricType::Gauge);
  if (snap.config) {
    PortPlanner planner(*snap.config, registry, snap.live, snap.taken_at);
    const std::vector<ArchivedPort> archive = registry.archive();  // parsed once, not per type
    for (const ServiceType& t : snap.config->types) {
      auto counts = count_range(t.range, planner, *snap.config, registry, snap.live, archive);
      for (PortState st :
           {PortState::allocated, PortState::unregistered, PortState::unavailable, PortState::free})
        f.add({{"service_type", t.name}, {"state", std::string(to_string(st))}},
              static_cast<double>(counts[static_cast<std::size_t>(st)]));
    }
  }
  out.push_back(std::move(f).build());
}

// The agent's own process, read from /proc/self as the official client libraries do. A value
// that cannot be read is left out rather than reported wrong.
struct SelfStat {
  double cpu_seconds = 0, start_time = 0, virtual_bytes = 0, resident_bytes = 0;
};

std::optional<SelfStat> read_self_stat() {
  std::ifstream stat_file("/proc/self/stat");
  std::string line;
  if (!std::getline(stat_file, line)) return std::nullopt;
  // comm (field 2) may hold spaces and parentheses: the fields we want follow the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields{std::istream_iterator<std::string>(rest),
                                  std::istream_iterator<std::string>()};
  // fields[0] is field 3 (state): field N is fields[N - 3].
  if (fields.size() < 22) return std::nullopt;
  auto num = [&](int field) { return std::stod(fields[static_cast<std::size_t>(field - 3)]); };

  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  if (ticks <= 0 || page <= 0) return std::nullopt;

  double boot_time = -1;
  std::ifstream proc_stat("/proc/stat");
  for (std::string l; std::getline(proc_stat, l);)
    if (l.rfind("btime ", 0) == 0) boot_time = std::stod(l.substr(6));
  if (boot_time < 0) return std::nullopt;

  SelfStat s;
  s.cpu_seconds = (num(14) + num(15)) / ticks;  // utime + stime
  s.start_time = boot_time + num(22) / ticks;
  s.virtual_bytes = num(23);
  s.resident_bytes = num(24) * page;
  return s;
}

std::optional<double> count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return std::nullopt;
  double n = 0;
  while (const dirent* d = readdir(dir))
    if (d->d_name[0] != '.') ++n;
  closedir(dir);
  return n - 1;  // not the descriptor this count itself holds open
}

void add_process_families(std::vector<MetricFamily>& out) {
  std::optional<SelfStat> s;
  try {
    s = read_self_stat();
  } catch (const std::exception&) {  // stod on a malformed field: leave the values out
    s.reset();
  }
  if (s) {
    out.push_back(single("process_cpu_seconds_total",
                         "Total user and system CPU time spent in seconds.", MetricType::Counter,
                         s->cpu_seconds));
    out.push_back(single("process_resident_memory_bytes", "Resident memory size in bytes.",
                         MetricType::Gauge, s->resident_bytes));
    out.push_back(single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         MetricType::Gauge, s->virtual_bytes));
    out.push_back(single("process_start_time_seconds",
                         "Start time of the process since unix epoch in seconds.",
                         MetricType::Gauge, s->start_time));
  }
  if (auto fds = count_open_fds())
    out.push_back(
        single("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, *fds));
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0)
    out.push_back(single("process_max_fds", "Maximum number of open file descriptors.",
                         MetricType::Gauge,
                         static_cast<double>(lim.rlim_cur)));  // unlimited: 2^64-1, as Go
}

}  // namespace

std::string render_metrics(const Snapshot& snap, const BuildInfo& build) {
  const Registry empty;
  const Registry& registry = snap.registry ? *snap.registry : empty;

  std::vector<MetricFamily> families;
  {
    FamilyBuilder f("portman_build_info",
                    "A metric with a constant '1' value labeled by the version and the git "
                    "revision portman was built from.",
                    MetricType::Gauge);
    f.add({{"version", build.version}, {"revision", build.revision}}, 1);
    families.push_back(std::move(f).build());
  }
  add_collector_families(snap, families);
  add_listening_family(snap, registry, families);
  add_registry_families(snap, registry, families);
  add_finding_families(snap, families);
  add_range_family(snap, registry, families);
  families.push_back(single("portman_listener_changes_total",
                            "Listening sockets that appeared or went away since the agent started.",
                            MetricType::Counter, static_cast<double>(snap.listener_changes_total)));
  families.push_back(single("portman_registry_valid",
                            "Whether the registry in use is the file on disk (1) or the file is "
                            "invalid and the last good registry is kept in use (0).",
                            MetricType::Gauge, snap.registry_valid ? 1 : 0));
  families.push_back(single("portman_registry_last_reload_success_timestamp_seconds",
                            "Unix time of the last successful registry (re)load.",
                            MetricType::Gauge, snap.registry_last_reload_success));
  families.push_back(single("portman_processes_unreadable",
                            "Processes whose sockets could not be attributed (permissions).",
                            MetricType::Gauge,
                            static_cast<double>(snap.live.processes_unreadable)));
  add_process_families(families);

  // The serializer imbues the classic locale into the stream, so the global locale cannot turn
  // 0.5 into 0,5.
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return std::move(out).str();
}

}  // namespace portman::agent
