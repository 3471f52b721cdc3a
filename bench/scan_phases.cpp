// Where an agent's fresh scrape spends its time, phase by phase, inside one process as the agent
// runs them: the collectors (each as LiveState::runs times it), the comparison with the registry,
// and the render of /metrics. The same Scanner serves every round, as in the agent, so caches
// (the owner cache of the /proc walk, the loaded BPF program) are warm after the first.
//
//   bench_scan_phases REGISTRY [ROUNDS] [procfs|bpf|auto]
//
// Prints one line per phase: median wall ms, median thread CPU ms. Built on demand:
// cmake --build build --target bench_scan_phases. Run it in the host state's namespace (bench/).
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "agent/metrics.hpp"
#include "libportman/config.hpp"
#include "libportman/findings.hpp"
#include "libportman/registry.hpp"
#include "libportman/sources.hpp"
#include "libportman/whole_file.hpp"

using namespace portman;

namespace {

double now_ms(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Timer {
  double wall = now_ms(CLOCK_MONOTONIC), cpu = now_ms(CLOCK_THREAD_CPUTIME_ID);
  std::pair<double, double> elapsed() const {
    return {now_ms(CLOCK_MONOTONIC) - wall, now_ms(CLOCK_THREAD_CPUTIME_ID) - cpu};
  }
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_scan_phases REGISTRY [ROUNDS] [procfs|bpf|auto]\n");
    return 2;
  }
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 50;
  auto text = read_whole_file(argv[1], 64u << 20);
  if (!text) return std::fprintf(stderr, "%s\n", text.error().message.c_str()), 1;
  auto registry = Registry::parse(*text, argv[1]);
  if (!registry) return std::fprintf(stderr, "%s\n", registry.error().message.c_str()), 1;
  Config config = default_config();
  const std::string method = argc > 3 ? argv[3] : "auto";
  SourceFlags flags;
  flags.enabled["docker"] = false;
  flags.settings["owners.method"] = method;
  auto plan = plan_sources(config, flags);
  if (!plan) return std::fprintf(stderr, "%s\n", plan.error().message.c_str()), 1;
  auto scanner = make_scanner(CollectorOptions{}, *plan);
  if (!scanner) return std::fprintf(stderr, "%s\n", scanner.error().message.c_str()), 1;

  std::map<std::string, std::vector<double>> wall, cpu;  // by phase
  std::size_t bytes = 0, sockets = 0, findings = 0;
  for (int i = 0; i <= rounds; ++i) {  // round 0 warms up and is not counted
    agent::Snapshot snap;
    Timer scan;
    snap.live = scanner->scan(ScanScope{});
    auto [scan_wall, scan_cpu] = scan.elapsed();
    Timer cmp;
    snap.findings = compare(*registry, snap.live, config);
    auto [cmp_wall, cmp_cpu] = cmp.elapsed();
    snap.registry = std::make_shared<const Registry>(*registry);
    snap.config = std::make_shared<const Config>(config);
    Timer render;
    std::string body = agent::render_metrics(snap, {"bench", "bench"});
    auto [render_wall, render_cpu] = render.elapsed();
    if (i == 0) continue;
    wall["scan"].push_back(scan_wall), cpu["scan"].push_back(scan_cpu);
    wall["compare"].push_back(cmp_wall), cpu["compare"].push_back(cmp_cpu);
    wall["render"].push_back(render_wall), cpu["render"].push_back(render_cpu);
    for (const CollectorRun& r : snap.live.runs)
      wall["  collector " + r.collector].push_back(r.duration_seconds * 1e3);
    bytes = body.size(), sockets = snap.live.sockets.size(), findings = snap.findings.size();
  }
  std::printf("rounds %d, sockets %zu, findings %zu, /metrics %zu bytes, owners %s\n", rounds,
              sockets, findings, bytes, method.c_str());
  std::printf("%-24s %10s %10s\n", "phase", "wall ms", "cpu ms");
  for (const auto& [phase, w] : wall)
    std::printf("%-24s %10.3f %10s\n", phase.c_str(), median(w),
                cpu.count(phase) ? std::to_string(median(cpu[phase])).substr(0, 6).c_str() : "");
  return 0;
}
