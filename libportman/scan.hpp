// Runs the enabled collectors in table order and times each one: the one place that turns
// collectors into a LiveState, for the CLI and the agent alike.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collectors/collector.hpp"

namespace portman {

class Scanner {
 public:
  // `disabled` names collectors to leave out (--no-collector.NAME).
  explicit Scanner(const CollectorOptions& options, const std::vector<std::string>& disabled = {});

  // Never fails as a whole: a failing collector is recorded in LiveState::runs.
  LiveState scan(const ScanScope& scope);

 private:
  struct Entry {
    std::string name;
    std::unique_ptr<Collector> collector;
  };
  std::vector<Entry> collectors_;
};

}  // namespace portman
