// What the integration tests share: run the real portman binary, start real listeners, and
// keep a scratch folder. Every test binary runs in a fresh network namespace (netns_main.cpp).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace itest {

struct RunResult {
  int code = -1;
  std::string out, err;
  nlohmann::json json() const { return nlohmann::json::parse(out); }
};

struct RunOptions {
  std::map<std::string, std::string> env;   // added to a clean environment
  std::optional<uid_t> uid = std::nullopt;  // run as this user
  // portman() and Agent run this binary instead of PORTMAN_BIN (initialised: callers that list
  // the fields above need not name it).
  std::optional<std::string> portman = std::nullopt;
};

// The summary line of a sanitizer report (ASan, LSan, UBSan, TSan) in a child's stderr, or "".
std::string sanitizer_report(const std::string& text);

// Runs a program to completion, capturing stdout and stderr. Throws when the program's stderr
// holds a sanitizer report (sanitizer builds: the child inherits the test's *SAN_OPTIONS).
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// The portman the tests run: $PORTMAN_TEST_BIN when set (an older build, to measure what a fix
// changed: the fault tests' "before" figures), else this build's.
std::string portman_under_test();

// For a forked child whose output is already redirected: execs portman_under_test() with ARGS and
// only PORTMAN_CONFIG=/dev/null in its environment. Never returns (exit 127 if exec fails).
[[noreturn]] void exec_portman(const std::vector<std::string>& args);

// portman_under_test() with ARGS in the background, its output dropped, killed if the test
// process dies (PR_SET_PDEATHSIG); the caller waits for it.
pid_t start_portman(const std::vector<std::string>& args);

// Runs portman with a scratch-free default: no colour, PORTMAN_CONFIG=/dev/null (defaults).
RunResult portman(const std::vector<std::string>& args, const RunOptions& options = {});

// A running test_listener (or a copy of it under another name); killed when destroyed.
class Listener {
 public:
  explicit Listener(const std::vector<std::string>& args,
                    const std::string& exe = TEST_LISTENER_BIN);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener();
  pid_t pid() const { return pid_; }
  void stop();

 private:
  pid_t pid_ = -1;
};

// A running `portman agent`, started with the given arguments on 127.0.0.1:0; stopped with
// SIGTERM when destroyed. A sanitizer report in its stderr makes stop() throw (or the destructor
// abort).
class Agent {
 public:
  explicit Agent(const std::vector<std::string>& args, const RunOptions& options = {});
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;
  ~Agent();
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string url(const std::string& path) const;
  // SIGTERM, then wait: the exit code and how long it took.
  std::pair<int, double> stop();
  std::string log() const;  // stderr so far

 private:
  std::pair<int, double> stop_quietly();
  pid_t pid_ = -1;
  bool reported_ = false;  // a sanitizer report was already thrown by stop()
  int port_ = 0;
  std::filesystem::path log_path_;
  std::string tmp_dir_;
};

// curl with the given arguments (plus -s); the body on out.
RunResult curl(const std::vector<std::string>& args);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The value of the series `name` in an exposition whose labels include every `key="value"` of
// `labels`; nullopt when there is none.
std::optional<double> metric(const std::string& text, const std::string& name,
                             const std::vector<std::string>& labels = {});

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& text);
// A copy of test_listener under another name, so that its process name (comm) differs.
std::filesystem::path listener_named(const TempDir& dir, const std::string& name);
// Options to run portman as `uid` (nobody by default): with a copy of portman in `dir` that every
// user may run, since the build folder may be private (a checkout under /root).
RunOptions as_user(const TempDir& dir, uid_t uid = 65534);

}  // namespace itest
