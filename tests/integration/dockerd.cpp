#include "dockerd.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "unit/skip.hpp"

namespace itest {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kPath = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

bool alive(pid_t pid) {
  return pid > 0 && ::kill(pid, 0) == 0;
}

// Waits for a process we did not fork (containerd, dockerd's child) to go away.
bool wait_gone(pid_t pid, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (alive(pid) && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(20ms);
  return !alive(pid);
}

// The containerd dockerd started, from its log line "started new containerd process" pid=N.
pid_t containerd_pid(const fs::path& log) {
  std::string text = read_file(log);
  auto at = text.find("started new containerd process");
  if (at == std::string::npos) return -1;
  auto p = text.find("pid=", at);
  return p == std::string::npos ? -1 : std::atoi(text.c_str() + p + 4);
}

// Mount points under `dir`, deepest first (netns bind mounts, overlay roots left by a daemon
// that died).
std::vector<std::string> mounts_under(const fs::path& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  const std::string prefix = dir.string() + "/";
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point.rfind(prefix, 0) == 0) out.push_back(point);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return out;
}

bool has_program(const char* path) {
  return ::access(path, X_OK) == 0;
}

}  // namespace

bool wait_for_port(int port, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  do {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < end);
  return false;
}

Dockerd::Dockerd(DockerdOptions options) {
  for (const char* p : {"/usr/sbin/dockerd", "/usr/bin/docker", "/bin/busybox"})
    if (!has_program(p)) portman::test::skip_test((std::string(p) + " is not installed").c_str());
  char tmpl[] = "/tmp/pmdocker-XXXXXX";  // short: unix socket paths hold 107 bytes
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  socket_ = dir_ / "docker.sock";
  const fs::path log = dir_ / "dockerd.log";
  std::vector<std::string> argv = {"/usr/sbin/dockerd",
                                   "--data-root",
                                   (dir_ / "data").string(),
                                   "--exec-root",
                                   (dir_ / "exec").string(),
                                   "--pidfile",
                                   (dir_ / "dockerd.pid").string(),
                                   "-H",
                                   host()};
  if (!options.userland_proxy) argv.push_back("--userland-proxy=false");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // the test died: let dockerd stop its containers
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ::dup2(in, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::string path = kPath;
    char* envp[] = {path.data(), nullptr};
    ::execve(args[0], args.data(), envp);
    ::_exit(127);
  }
  bool up = false;
  for (int i = 0; i < 300 && !up; ++i) {  // about 1 s on an empty data root; 15 s at most
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    auto r = curl({"--unix-socket", socket_.string(), "http://localhost/_ping"});
    up = r.code == 0 && r.out == "OK";
    if (!up) std::this_thread::sleep_for(50ms);
  }
  if (!up) {
    std::string text = read_file(log);
    std::string tail = text.substr(text.size() > 600 ? text.size() - 600 : 0);
    stop_daemon();
    std::error_code ec;
    fs::remove_all(dir_, ec);
    portman::test::skip_test(("dockerd did not start here: " + tail).c_str());
  }
  import_image();
}

RunResult Dockerd::docker(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"docker"};
  argv.insert(argv.end(), args.begin(), args.end());
  return itest::run(argv, {.env = {{"DOCKER_HOST", host()},
                                   {"HOME", dir_.string()},
                                   {"DOCKER_CONFIG", (dir_ / "cli").string()}}});
}

void Dockerd::import_image() {
  const fs::path root = dir_ / "rootfs";
  fs::create_directories(root / "bin");
  fs::create_directories(root / "www");
  fs::copy_file("/bin/busybox", root / "bin/busybox");
  fs::create_symlink("busybox", root / "bin/httpd");
  write_file(root / "www/index.html", "portman\n");
  const std::string cmd =
      "tar -C " + root.string() +
      " -c . | docker import -c 'CMD [\"/bin/httpd\",\"-f\",\"-p\",\"80\",\"-h\","
      "\"/www\"]' - " +
      kImage;
  auto r = itest::run({"sh", "-c", cmd}, {.env = {{"DOCKER_HOST", host()},
                                                  {"HOME", dir_.string()},
                                                  {"DOCKER_CONFIG", (dir_ / "cli").string()}}});
  if (r.code != 0) throw std::runtime_error("docker import failed: " + r.err);
}

std::string Dockerd::run(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"run", "-d", "--init"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = docker(argv);
  if (r.code != 0) {
    if (!ran_one_) portman::test::skip_test(("containers cannot run here: " + r.err).c_str());
    throw std::runtime_error("docker run failed: " + r.err);
  }
  ran_one_ = true;
  std::string id = r.out;
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

void Dockerd::swarm_init() {
  auto r =
      docker({"swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:2377"});
  if (r.code != 0) throw std::runtime_error("docker swarm init failed: " + r.err);
  swarm_ = true;
}

void Dockerd::stop_daemon() {
  if (pid_ <= 0) return;
  pid_t containerd = containerd_pid(dir_ / "dockerd.log");
  ::kill(pid_, SIGTERM);
  auto end = std::chrono::steady_clock::now() + 20s;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > end) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  pid_ = -1;
  // dockerd stops the containerd it started; make sure before the folder goes.
  if (containerd > 0 && !wait_gone(containerd, 10s)) {
    ::kill(containerd, SIGKILL);
    wait_gone(containerd, 5s);
  }
}

Dockerd::~Dockerd() {
  if (pid_ > 0) {
    if (swarm_) docker({"swarm", "leave", "--force"});  // removes the services' tasks too
    auto ids = docker({"ps", "-aq"});
    std::vector<std::string> rm = {"rm", "-f"};
    std::istringstream lines(ids.out);
    for (std::string id; std::getline(lines, id);)
      if (!id.empty()) rm.push_back(id);
    if (rm.size() > 2) docker(rm);
  }
  stop_daemon();
  for (const std::string& point : mounts_under(dir_)) ::umount2(point.c_str(), MNT_DETACH);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace itest
