// Runs the enabled collectors in table order and times each one: the one place that turns
// collectors into a LiveState, for the CLI and the agent alike. Built by make_scanner
// (sources.hpp), which decides which collectors run.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "collectors/collector.hpp"

namespace portman {

class Scanner {
 public:
  struct Entry {
    std::string name;
    std::unique_ptr<Collector> collector;
  };
  explicit Scanner(std::vector<Entry> collectors) : collectors_(std::move(collectors)) {}

  // Starts what collectors can do before the scan (Collector::prepare), so that a command can
  // read its registry meanwhile. Optional: scan() prepares itself when this was not called
  // with the same scope.
  void prepare(const ScanScope& scope);
  // Never fails as a whole: a failing collector is recorded in LiveState::runs.
  LiveState scan(const ScanScope& scope);

  bool has(std::string_view name) const;

 private:
  std::vector<Entry> collectors_;
  std::optional<ScanScope> prepared_;
};

}  // namespace portman
