// Scrape latencies as Prometheus would see them, for the tests that attack the agent or break its
// sources: sequential curl scrapes, their median, and the bound a scraper must stay within.
#pragma once

#include <string>
#include <vector>

namespace itest {

struct Latencies {
  std::vector<double> seconds;  // of the successful scrapes
  int failed = 0;
  double median() const { return quantile(0.5); }
  double max() const { return quantile(1.0); }
  double quantile(double q) const;  // 1e9 when no scrape succeeded
  // "ok=N failed=N median_ms=… p90_ms=… max_ms=…", the figures the reports quote.
  std::string text() const;
};

// `count` sequential scrapes of `url` with curl (plus `extra` arguments); curl's own time_total,
// so process start-up is not counted. A scrape fails on any status but 200 or after 5 s.
Latencies scrape(const std::string& url, int count, const std::vector<std::string>& extra = {});

// The bound for a scraper under attack or while a source misbehaves: its own baseline on this
// machine, with room for a busy 2-core box, and never below 250 ms (the unfixed agent took 3 s or
// timed out at 5 s).
double bound_for(const Latencies& base);

}  // namespace itest
