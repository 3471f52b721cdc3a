#include "agent/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "agent/exposition.hpp"
#include "agent/metric_catalog.hpp"
#include "collectors/collector.hpp"
#include "inventory/inventory_source.hpp"
#include "libportman/allocation.hpp"
#include "libportman/own_socket.hpp"
#include "libportman/summary.hpp"
#include "libportman/whole_file.hpp"
#include "libportman/words.hpp"

namespace portman::agent {
namespace {

// One family of the catalog being written: its header, then its series as they are added.
// Series are kept by label set, so that two sources of the same series (SO_REUSEPORT workers, a
// port registered twice) give one valid series instead of a duplicate.
class FamilyBuilder {
 public:
  // Writes the family's header to `out` at once, and each series as it is added: a family is
  // written whole before the next one starts. `series` is how many series the caller expects.
  FamilyBuilder(std::string& out, const MetricSpec& spec, std::size_t series = 0)
      : spec_(spec), out_(out), seen_(out) {
    out_.reserve(out_.size() + 256 + series * kSeriesBytes);
    seen_.reserve(series);
    append_family_header(out_, spec.name, spec.help,
                         spec.type == MetricType::counter ? "counter" : "gauge");
  }
  FamilyBuilder(const FamilyBuilder&) = delete;
  FamilyBuilder& operator=(const FamilyBuilder&) = delete;

  // Adds a series unless one with the same label values exists (the first one wins). The values
  // are in the order of the catalog's label names. Series keep the order they were added in:
  // the callers add them by port, then protocol.
  void add(std::initializer_list<std::string_view> values, double value) {
    add_series({values.begin(), values.size()}, value);
  }
  void add_sample(const std::vector<std::string>& values, double value) {
    std::vector<std::string_view> views(values.begin(), values.end());
    add_series(views, value);
  }

 private:
  // A series line is about 120 bytes (portman_listening_port_info with 7 labels).
  static constexpr std::size_t kSeriesBytes = 160;

  // The label blocks already written in the output, by offset: the output only grows, so the
  // offsets stay valid while its buffer moves, and the blocks need no copies of their own. An
  // open-addressing table of (hash, offset, size): a node per series cost an allocation each.
  class BlockSet {
   public:
    explicit BlockSet(const std::string& text) : text_(text) {}
    void reserve(std::size_t blocks) {
      std::size_t want = 16;
      while (want < blocks * 2) want *= 2;
      if (want > slots_.size()) rehash(want);
    }
    // False when the block at [at, at + size) of the text is there already.
    bool insert(std::size_t at, std::size_t size) {
      if ((used_ + 1) * 2 > slots_.size()) rehash(std::max<std::size_t>(16, slots_.size() * 2));
      const std::string_view block = std::string_view(text_).substr(at, size);
      const std::size_t hash = std::hash<std::string_view>{}(block) | 1;  // 0 marks a free slot
      const std::size_t mask = slots_.size() - 1;
      for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
        Slot& s = slots_[i];
        if (s.hash == 0) {
          s = {hash, at, size};
          ++used_;
          return true;
        }
        if (s.hash == hash && std::string_view(text_).substr(s.at, s.size) == block) return false;
      }
    }

   private:
    struct Slot {
      std::size_t hash = 0, at = 0, size = 0;
    };
    void rehash(std::size_t count) {
      std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(count));
      const std::size_t mask = count - 1;
      for (const Slot& s : old) {
        if (s.hash == 0) continue;
        std::size_t i = s.hash & mask;
        while (slots_[i].hash != 0) i = (i + 1) & mask;
        slots_[i] = s;
      }
    }
    const std::string& text_;
    std::vector<Slot> slots_;
    std::size_t used_ = 0;
  };

  void add_series(std::span<const std::string_view> values, double value) {
    if (values.size() != spec_.labels.size())
      throw std::logic_error("metric " + std::string(spec_.name) + ": wrong number of labels");
    // The escaped label block is the series' identity: escaping maps distinct values apart. It
    // is written in place and taken back when the series exists.
    const std::size_t line = out_.size();
    out_ += spec_.name;
    const std::size_t block = out_.size();
    append_label_block(out_, spec_.labels, values);
    if (!seen_.insert(block, out_.size() - block)) {
      out_.resize(line);
      return;
    }
    out_ += ' ';
    append_sample_value(out_, value);
    out_ += '\n';
  }

  const MetricSpec& spec_;
  std::string& out_;
  BlockSet seen_;  // the label block of every series
};

void single(std::string& out, const MetricSpec& spec, double value) {
  FamilyBuilder(out, spec).add({}, value);
}

// A port number as label text, without an allocation: a view of it lives as long as the
// temporary does, the whole add() call.
class PortLabel {
 public:
  explicit PortLabel(PortKey key)
      : size_(static_cast<std::size_t>(std::to_chars(text_, text_ + sizeof text_, key.port).ptr -
                                       text_)) {}
  operator std::string_view() const { return {text_, size_}; }

 private:
  char text_[8];
  std::size_t size_;
};

// The canonical type name, so that service_type joins with portman_range_ports; as written when
// the config does not know it.
std::string_view type_label(const Entry& e, const Config* config) {
  if (config && !e.service_type.empty())
    if (const ServiceType* t = config->find_type(e.service_type)) return t->name;
  return e.service_type;
}

void add_collector_families(const Snapshot& snap, std::string& out) {
  {
    FamilyBuilder success(out, metric::collector_success);
    for (const CollectorRun& r : snap.live.runs) success.add({r.collector}, r.success ? 1 : 0);
  }
  FamilyBuilder duration(out, metric::collector_duration);
  for (const CollectorRun& r : snap.live.runs) duration.add({r.collector}, r.duration_seconds);
}

void add_listening_family(const Snapshot& snap, const Registry& registry, std::string& out) {
  FamilyBuilder f(out, metric::listening_port_info, snap.live.sockets.size());
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
    const std::string container = s.container();
    f.add({PortLabel(s.key()), to_string(s.protocol), s.address,
           o ? std::string_view(o->process) : std::string_view(),
           o ? std::string_view(o->user) : std::string_view(), container,
           service_name_of(s, registry)},
          1);
  }
}

void add_registry_families(const Snapshot& snap, const Registry& registry, std::string& out) {
  const std::vector<PortKey> listening = snap.live.listening_ports(true);

  {
    FamilyBuilder info(out, metric::registered_port_info, registry.entries().size());
    for (const Entry& e : registry.entries())
      info.add({PortLabel(e.key), to_string(e.key.protocol), e.service, e.environment, e.owner,
                type_label(e, snap.config.get()), e.status},
               1);
  }
  // Only port and protocol: a renamed service or a new status keeps the series (and an alert's
  // `for:`); the metadata joins from portman_registered_port_info.
  FamilyBuilder up(out, metric::port_up, registry.entries().size());
  for (const Entry& e : registry.entries())
    up.add({PortLabel(e.key), to_string(e.key.protocol)},
           std::binary_search(listening.begin(), listening.end(), e.key) ? 1 : 0);
}

void add_finding_families(const Snapshot& snap, const ScanSummary& summary, std::string& out) {
  {
    FamilyBuilder finding(out, metric::finding, snap.findings.size());
    for (const Finding& f : snap.findings)
      finding.add({to_string(f.kind), PortLabel(f.key), to_string(f.key.protocol), f.service_name,
                   f.process},
                  1);
  }
  FamilyBuilder findings(out, metric::findings);
  for (FindingKind kind : kAllFindingKinds)
    findings.add({to_string(kind)}, static_cast<double>(summary.of(kind)));
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

void add_range_family(const Snapshot& snap, const Registry& registry, std::string& out) {
  FamilyBuilder f(out, metric::range_ports);
  if (snap.config) {
    PortPlanner planner(*snap.config, registry, snap.live, snap.taken_at);
    const std::vector<ArchivedPort> archive = registry.archive();  // parsed once, not per type
    for (const ServiceType& t : snap.config->types) {
      auto counts = count_range(t.range, planner, *snap.config, registry, snap.live, archive);
      for (PortState st :
           {PortState::allocated, PortState::unregistered, PortState::unavailable, PortState::free})
        f.add({t.name, to_string(st)}, static_cast<double>(counts[static_cast<std::size_t>(st)]));
    }
  }
}

// The agent's own process, read from /proc/self as the official client libraries do. A value
// that cannot be read is left out rather than reported wrong.
struct SelfStat {
  double cpu_seconds = 0, start_time = 0, virtual_bytes = 0, resident_bytes = 0;
};

std::optional<double> number(std::string_view field) {
  double v = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (ec != std::errc{} || end != field.data() + field.size()) return std::nullopt;
  return v;
}

std::optional<SelfStat> read_self_stat() {
  auto stat = read_whole_file("/proc/self/stat", 4096);
  if (!stat) return std::nullopt;
  // comm (field 2) may hold spaces and parentheses: the fields we want follow the last ')'.
  auto close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  // fields[0] is field 3 (state): field N is fields[N - 3].
  std::string_view after = std::string_view(*stat).substr(close + 1);
  if (after.ends_with('\n')) after.remove_suffix(1);
  const std::vector<std::string_view> fields = words(after);
  if (fields.size() < 22) return std::nullopt;
  auto field = [&](int n) { return number(fields[static_cast<std::size_t>(n - 3)]); };

  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  if (ticks <= 0 || page <= 0) return std::nullopt;

  std::optional<double> boot_time;
  if (auto proc_stat = read_whole_file("/proc/stat", 1 << 20)) {
    for (std::string_view rest = *proc_stat; !rest.empty() && !boot_time;) {
      const auto eol = std::min(rest.find('\n'), rest.size());
      if (rest.starts_with("btime ")) boot_time = number(rest.substr(6, eol - 6));
      rest.remove_prefix(std::min(eol + 1, rest.size()));
    }
  }
  auto utime = field(14), stime = field(15), start = field(22), vsize = field(23), rss = field(24);
  if (!boot_time || !utime || !stime || !start || !vsize || !rss) return std::nullopt;

  SelfStat s;
  s.cpu_seconds = (*utime + *stime) / ticks;
  s.start_time = *boot_time + *start / ticks;
  s.virtual_bytes = *vsize;
  s.resident_bytes = *rss * page;
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

void add_process_families(std::string& out) {
  if (std::optional<SelfStat> s = read_self_stat()) {
    single(out, metric::process_cpu, s->cpu_seconds);
    single(out, metric::process_resident, s->resident_bytes);
    single(out, metric::process_virtual, s->virtual_bytes);
    single(out, metric::process_start, s->start_time);
  }
  if (auto fds = count_open_fds()) single(out, metric::process_open_fds, *fds);
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0)  // unlimited: 2^64-1, as Go
    single(out, metric::process_max_fds, static_cast<double>(lim.rlim_cur));
}

// What the sources report about themselves, each family in catalog order: the renderer knows
// their specs from the tables, not the sources.
void add_source_families(const Snapshot& snap, std::string& out) {
  auto add = [&](const MetricSpec* spec) {
    FamilyBuilder f(out, *spec);
    auto take = [&](const std::vector<Sample>& samples) {
      for (const Sample& s : samples)
        if (s.spec == spec || (s.spec && s.spec->name == spec->name))
          f.add_sample(s.labels, s.value);
    };
    take(snap.live.samples);
    take(snap.inventory_samples);
  };
  for (const CollectorSpec& c : collector_table())
    for (const MetricSpec* spec : c.metrics) add(spec);
  for (const InventorySpec& i : inventory_table())
    for (const MetricSpec* spec : i.metrics) add(spec);
}

}  // namespace

std::vector<const MetricSpec*> metric_catalog() {
  std::vector<const MetricSpec*> out(std::begin(kCoreMetrics), std::end(kCoreMetrics));
  for (const CollectorSpec& c : collector_table())
    out.insert(out.end(), c.metrics.begin(), c.metrics.end());
  for (const InventorySpec& i : inventory_table())
    out.insert(out.end(), i.metrics.begin(), i.metrics.end());
  out.insert(out.end(), std::begin(kProcessMetrics), std::end(kProcessMetrics));
  return out;
}

std::string render_metrics(const Snapshot& snap, const BuildInfo& build) {
  const Registry empty;
  const Registry& registry = snap.registry ? *snap.registry : empty;

  const ScanSummary summary = summarize(registry, snap.live, snap.findings);

  std::string families;
  families.reserve(1 << 20);  // 4,700 series are about 600 KB: grow once or not at all
  FamilyBuilder(families, metric::build_info).add({build.version, build.revision}, 1);
  add_collector_families(snap, families);
  add_listening_family(snap, registry, families);
  add_registry_families(snap, registry, families);
  add_finding_families(snap, summary, families);
  add_range_family(snap, registry, families);
  single(families, metric::listener_changes, static_cast<double>(snap.listener_changes_total));
  single(families, metric::registry_present, snap.registry_present ? 1 : 0);
  single(families, metric::registry_valid, snap.registry_valid ? 1 : 0);
  single(families, metric::registry_reload, snap.registry_last_reload_success);
  single(families, metric::sockets_owner_unknown,
         static_cast<double>(summary.sockets_owner_unknown));
  single(families, metric::processes_unreadable, static_cast<double>(summary.processes_unreadable));
  add_source_families(snap, families);
  add_process_families(families);

  return families;
}

}  // namespace portman::agent
