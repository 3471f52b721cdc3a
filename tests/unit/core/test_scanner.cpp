// Scanner: every collector is prepared once, with the scope it then collects, before any of them
// collects; a scan that was not prepared (or prepared for another scope) prepares itself.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "libportman/scan.hpp"

using namespace portman;

namespace {

// Writes what it is asked, in order, to a log shared by every collector of the scanner.
class Recorder final : public Collector {
 public:
  Recorder(std::string name, std::vector<std::string>& log) : name_(std::move(name)), log_(log) {}
  void prepare(const ScanScope& scope) override { log_.push_back(name_ + " prepare" + of(scope)); }
  Status collect(const ScanScope& scope, LiveState&) override {
    log_.push_back(name_ + " collect" + of(scope));
    return {};
  }

 private:
  static std::string of(const ScanScope& scope) {
    return scope.only ? " " + std::to_string(scope.only->port) : " all";
  }
  std::string name_;
  std::vector<std::string>& log_;
};

Scanner two_collectors(std::vector<std::string>& log) {
  std::vector<Scanner::Entry> entries;
  entries.push_back({"sockets", std::make_unique<Recorder>("sockets", log)});
  entries.push_back({"owners", std::make_unique<Recorder>("owners", log)});
  return Scanner(std::move(entries));
}

}  // namespace

TEST_CASE("a scan prepares every collector before the first collects", "[scanner]") {
  std::vector<std::string> log;
  Scanner scanner = two_collectors(log);
  (void)scanner.scan(ScanScope{});
  CHECK(log == std::vector<std::string>{"sockets prepare all", "owners prepare all",
                                        "sockets collect all", "owners collect all"});
}

TEST_CASE("a scan prepared beforehand for its scope is not prepared again", "[scanner]") {
  std::vector<std::string> log;
  Scanner scanner = two_collectors(log);
  const ScanScope one{PortKey{8080, Protocol::tcp}, true};
  scanner.prepare(one);
  log.push_back("registry read");
  (void)scanner.scan(one);
  CHECK(log == std::vector<std::string>{"sockets prepare 8080", "owners prepare 8080",
                                        "registry read", "sockets collect 8080",
                                        "owners collect 8080"});
  SECTION("and the next scan prepares again") {
    log.clear();
    (void)scanner.scan(one);
    CHECK(log.front() == "sockets prepare 8080");
  }
}

TEST_CASE("a scan prepared for another scope is prepared again for its own", "[scanner]") {
  std::vector<std::string> log;
  Scanner scanner = two_collectors(log);
  scanner.prepare(ScanScope{PortKey{8080, Protocol::tcp}, true});
  log.clear();
  (void)scanner.scan(ScanScope{});
  CHECK(log == std::vector<std::string>{"sockets prepare all", "owners prepare all",
                                        "sockets collect all", "owners collect all"});
}
