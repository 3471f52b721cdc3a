#include "scrape_latency.hpp"

#include <algorithm>
#include <cstdio>

#include "harness.hpp"

namespace itest {

double Latencies::quantile(double q) const {
  if (seconds.empty()) return 1e9;
  std::vector<double> s = seconds;
  std::sort(s.begin(), s.end());
  return s[static_cast<std::size_t>(q * static_cast<double>(s.size() - 1))];
}

std::string Latencies::text() const {
  if (seconds.empty()) return "ok=0 failed=" + std::to_string(failed);
  char buf[160];
  std::snprintf(buf, sizeof buf, "ok=%zu failed=%d median_ms=%.1f p90_ms=%.1f max_ms=%.1f",
                seconds.size(), failed, median() * 1e3, quantile(0.9) * 1e3, max() * 1e3);
  return buf;
}

Latencies scrape(const std::string& url, int count, const std::vector<std::string>& extra) {
  Latencies l;
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> args = {"-o",         "/dev/null", "-w", "%{http_code} %{time_total}",
                                     "--max-time", "5"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(url);
    auto r = curl(args);
    int code = 0;
    double t = 0;
    if (std::sscanf(r.out.c_str(), "%d %lf", &code, &t) == 2 && code == 200)
      l.seconds.push_back(t);
    else
      ++l.failed;
  }
  return l;
}

double bound_for(const Latencies& base) {
  return std::max(0.25, 5 * base.median());
}

}  // namespace itest
