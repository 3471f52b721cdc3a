#include "harness.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace itest {
namespace fs = std::filesystem;

namespace {

// A sanitizer build (PORTMAN_SANITIZE) instruments the children too: they get the test's own
// *SAN_OPTIONS, and a report in their stderr fails the test, whatever their exit code says (an
// ASan exit code 1 would look like an expected usage error).
void add_sanitizer_options(std::map<std::string, std::string>& vars) {
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"})
    if (const char* v = std::getenv(name)) vars.emplace(name, v);
}

}  // namespace

std::string sanitizer_report(const std::string& text) {
  for (const char* tool :
       {"AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "ThreadSanitizer"}) {
    auto at = text.find(std::string("SUMMARY: ") + tool);
    if (at != std::string::npos) return text.substr(at, text.find('\n', at) - at);
  }
  return {};
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "portman-itest-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
  fs::permissions(path_, fs::perms::all);  // tests that run as another user write here too
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  TempDir io;
  fs::path out = io / "out", err = io / "err";
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    if (options.uid && (::setgid(*options.uid) != 0 || ::setuid(*options.uid) != 0)) ::_exit(126);
    std::map<std::string, std::string> vars = options.env;  // the test's values win
    vars.emplace("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    vars.emplace("LANG", "C");
    add_sanitizer_options(vars);
    std::vector<std::string> env;
    for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    for (const auto& v : env) envp.push_back(const_cast<char*>(v.c_str()));
    args.push_back(nullptr);
    envp.push_back(nullptr);
    ::execvpe(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  if (auto report = sanitizer_report(r.err); !report.empty())
    throw std::runtime_error(argv[0] + ": " + report + "\n" + r.err);
  return r;
}

std::string portman_under_test() {
  const char* bin = std::getenv("PORTMAN_TEST_BIN");
  return bin && *bin ? bin : PORTMAN_BIN;
}

void exec_portman(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {portman_under_test()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> a;
  for (auto& x : argv) a.push_back(x.data());
  a.push_back(nullptr);
  char config[] = "PORTMAN_CONFIG=/dev/null";
  char* env[] = {config, nullptr};
  ::execve(a[0], a.data(), env);
  ::_exit(127);
}

pid_t start_portman(const std::vector<std::string>& args) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 1);
    ::dup2(null, 2);
    exec_portman(args);
  }
  return pid;
}

RunResult portman(const std::vector<std::string>& args, const RunOptions& options) {
  std::vector<std::string> argv = {options.portman.value_or(portman_under_test())};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions o = options;
  o.env.emplace("PORTMAN_CONFIG", "/dev/null");
  o.env.emplace("NO_COLOR", "1");
  return run(argv, o);
}

Listener::Listener(const std::vector<std::string>& args, const std::string& exe) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(pipefd[1], 1);
    ::close(pipefd[0]);
    std::vector<char*> argv = {const_cast<char*>(exe.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string line;
  char c;
  while (::read(pipefd[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(pipefd[0]);
  if (line.rfind("ready", 0) != 0) {
    stop();
    throw std::runtime_error("listener did not start: " + exe);
  }
}

void Listener::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

Listener::~Listener() {
  stop();
}

namespace {

fs::path executable_copy(const fs::path& from, const fs::path& to) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  fs::permissions(to, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  return to;
}

}  // namespace

fs::path listener_named(const TempDir& dir, const std::string& name) {
  return executable_copy(TEST_LISTENER_BIN, dir / name);
}

RunOptions as_user(const TempDir& dir, uid_t uid) {
  RunOptions o;
  o.uid = uid;
  o.portman = executable_copy(PORTMAN_BIN, dir / "portman").string();
  return o;
}

Agent::Agent(const std::vector<std::string>& args, const RunOptions& options) {
  char tmpl[] = "/tmp/portman-agent-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  tmp_dir_ = tmpl;
  log_path_ = fs::path(tmp_dir_) / "agent.log";
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int e = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDWR);
    ::dup2(in, 0);
    ::dup2(in, 1);
    ::dup2(e, 2);
    if (options.uid && (::setgid(*options.uid) != 0 || ::setuid(*options.uid) != 0)) ::_exit(126);
    std::vector<std::string> argv = {options.portman.value_or(portman_under_test()),
                                     "agent",
                                     "--web.listen-address",
                                     "127.0.0.1:0",
                                     "--log.level",
                                     "debug"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::map<std::string, std::string> vars = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"},
                                               {"PORTMAN_CONFIG", "/dev/null"}};
    for (const auto& [k, v] : options.env) vars[k] = v;  // the test's values win
    add_sanitizer_options(vars);
    std::vector<std::string> env;
    for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
    std::vector<char*> a, envp;
    for (auto& x : argv) a.push_back(x.data());
    for (auto& x : env) envp.push_back(x.data());
    a.push_back(nullptr);
    envp.push_back(nullptr);
    ::execve(a[0], a.data(), envp.data());
    ::_exit(127);
  }
  // The start line names the bound port: listen="127.0.0.1:0=PORT".
  for (int i = 0; i < 500 && port_ == 0; ++i) {
    std::string text = read_file(log_path_);
    auto at = text.find("listen=\"127.0.0.1:0=");
    if (at != std::string::npos) port_ = std::atoi(text.c_str() + at + 20);
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("agent exited at start: " + text);
    }
    if (port_ == 0) ::usleep(10000);
  }
  if (port_ == 0) throw std::runtime_error("agent did not start: " + read_file(log_path_));
}

std::string Agent::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::string Agent::log() const {
  return read_file(log_path_);
}

std::pair<int, double> Agent::stop() {
  auto result = stop_quietly();
  if (auto report = sanitizer_report(log()); !report.empty() && !reported_) {
    reported_ = true;
    throw std::runtime_error("the agent: " + report + "\n" + log());
  }
  return result;
}

std::pair<int, double> Agent::stop_quietly() {
  if (pid_ <= 0) return {-1, 0};
  auto start = std::chrono::steady_clock::now();
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), took};
}

Agent::~Agent() {
  stop_quietly();
  // A destructor cannot throw: a sanitizer report not seen by stop() ends the test here.
  if (auto report = sanitizer_report(log()); !report.empty() && !reported_) {
    std::fprintf(stderr, "the agent: %s\n%s\n", report.c_str(), log().c_str());
    std::abort();
  }
  std::error_code ec;
  fs::remove_all(tmp_dir_, ec);
}

RunResult curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"curl", "-s", "--max-time", "20"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

std::optional<double> metric(const std::string& text, const std::string& name,
                             const std::vector<std::string>& labels) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name, 0) != 0) continue;
    char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    bool all = true;
    for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::nullopt;
}

}  // namespace itest
