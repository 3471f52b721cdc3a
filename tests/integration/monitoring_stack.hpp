// The real Prometheus and Alertmanager (Debian packages prometheus, prometheus-alertmanager) as
// test fixtures: each started on a port of 127.0.0.1 with a scratch folder, waited for until
// ready, and stopped when destroyed (and killed with the test process if that dies first).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace itest {

// A port of 127.0.0.1 that nothing listens on now (the kernel's pick, released at once). Each
// test runs in its own network namespace, so nothing else takes it before the test uses it.
int free_port();

// Whether `program` is found in PATH.
bool installed(const std::string& program);

// A program running in the background with stdout and stderr in `log`; SIGTERM (then SIGKILL
// after 5 s) when destroyed.
class Daemon {
 public:
  Daemon(const std::vector<std::string>& argv, std::filesystem::path log);
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon();
  bool running();
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

// The rules file with every `for:` set to `duration`, so that alerts fire at the first
// evaluation that sees their condition. `rewritten` gets the number of `for:` lines changed.
std::string rules_with_for(const std::string& rules, const std::string& duration, int& rewritten);

class Prometheus {
 public:
  // `config`: the text of prometheus.yml, written to `dir`/prometheus.yml (rule files relative to
  // it); the TSDB goes to `dir`/tsdb.
  Prometheus(const std::filesystem::path& dir, const std::string& config, int port = free_port());
  std::string url(const std::string& path) const;
  // GET on the HTTP API with `params` form-encoded ("query=up"); the parsed answer, or a json
  // string holding what went wrong.
  nlohmann::json get(const std::string& path, const std::vector<std::string>& params) const;
  nlohmann::json query(const std::string& promql) const;  // /api/v1/query
  std::string log() const { return daemon_.log(); }

 private:
  int port_;
  Daemon daemon_;
};

class Alertmanager {
 public:
  Alertmanager(const std::filesystem::path& dir, const std::string& config, int port = free_port());
  int port() const { return port_; }
  std::string log() const { return daemon_.log(); }

 private:
  int port_;
  Daemon daemon_;
};

}  // namespace itest
