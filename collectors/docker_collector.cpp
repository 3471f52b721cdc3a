#include "collectors/docker_collector.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "collectors/docker_attribution.hpp"
#include "collectors/docker_model.hpp"
#include "libportman/http_client.hpp"
#include "libportman/unique_fd.hpp"

namespace portman {
namespace {

constexpr std::string_view kDefaultHost = "unix:///var/run/docker.sock";
// API 1.41 is Docker 20.10's; later daemons still serve it.
constexpr std::string_view kApi = "http://localhost/v1.41";
// A daemon that accepts and never answers must not hold `check` up for long.
constexpr std::chrono::milliseconds kTimeout{5000};
// /containers/json of a few thousand containers is a few MiB.
constexpr std::size_t kMaxBody = 32u << 20;

constexpr OptionSpec kOptions[] = {
    {"host", kDefaultHost, "Docker's Engine API socket, unix:///PATH (tcp:// is not supported)",
     "DOCKER_HOST"},
};

}  // namespace

const MetricSpec kDockerUpMetric{
    "portman_docker_up",
    MetricType::gauge,
    "1 when Docker's Engine API answered the last scan, 0 when it could not be asked.",
    {}};

namespace {

const MetricSpec* const kMetrics[] = {&kDockerUpMetric};

// How far the socket is: 0 when it accepts a connection, else the errno of connect(). A
// connect of our own tells "no such file" from "permission denied" from "refused" exactly,
// which libcurl's message blurs.
int probe(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return ENAMETOOLONG;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  // Non-blocking: a daemon that stopped accepting fills its backlog, and a blocking connect to
  // a full unix socket waits without end. EAGAIN says so at once.
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return errno;
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return errno;
  return 0;
}

HttpRequest request(const std::string& socket, std::string_view path) {
  HttpRequest r;
  r.url = std::string(kApi) + std::string(path);
  r.unix_socket = socket;
  r.timeout = kTimeout;
  r.max_body = kMaxBody;
  return r;
}

// The body of a 200, or an Error naming the endpoint and the daemon's own message.
Result<std::string> body_of(Result<HttpResponse> r, std::string_view path) {
  if (!r) return r.error();
  if (r->status != 200) {
    std::string text = r->body.substr(0, 200);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return make_error(ErrorKind::io, "GET " + std::string(path) + " answered HTTP " +
                                         std::to_string(r->status) +
                                         (text.empty() ? "" : ": " + text));
  }
  return std::move(r->body);
}

// Fetching, apart from the pure parsers: /info and /containers in one round, /services when
// this node is in a Swarm.
Result<DockerModel> fetch_model(const std::string& socket) {
  const HttpRequest first[] = {request(socket, "/info"), request(socket, "/containers/json?all=1")};
  auto answers = http_get_all(first, 2);
  auto info = body_of(std::move(answers[0]), "/info");
  if (!info) return info.error();
  auto list = body_of(std::move(answers[1]), "/containers/json");
  if (!list) return list.error();

  DockerModel model;
  auto swarm = parse_swarm_active(*info);
  if (!swarm) return swarm.error();
  model.swarm_active = *swarm;
  auto containers = parse_containers(*list);
  if (!containers) return containers.error();
  model.containers = std::move(*containers);
  if (model.swarm_active) {
    // A worker node cannot list services (only managers can): containers still carry their
    // service's labels, so that is not an error.
    auto r = http_get(request(socket, "/services"));
    if (r && r->status == 200) {
      auto services = parse_services(r->body);
      if (!services) return services.error();
      model.services = std::move(*services);
    } else if (!r) {
      return r.error();
    }
  }
  return model;
}

// What probe() found, for messages: a full backlog is a daemon that stopped accepting.
std::string probe_error(int err) {
  if (err == EAGAIN)
    return "the daemon accepts no more connections (its backlog is full: is it hung?)";
  return std::strerror(err);
}

// Docker's answers fetched on a thread of their own, so that a scan waits only so long for them
// (CollectorOptions::remote_wait). The thread is joined before the next fetch and at the end.
class BackgroundFetch {
 public:
  explicit BackgroundFetch(std::string socket) : socket_(std::move(socket)) {}
  BackgroundFetch(const BackgroundFetch&) = delete;
  BackgroundFetch& operator=(const BackgroundFetch&) = delete;
  ~BackgroundFetch() {
    if (worker_.joinable()) worker_.join();
  }

  // The newest answer: one fetched now if it comes within `wait` (any time, before the first
  // answer), else the previous one while the fetch goes on for the next scan.
  std::shared_ptr<const Result<DockerModel>> get(std::chrono::milliseconds wait) {
    std::unique_lock lock(mu_);
    if (!running_) {
      if (worker_.joinable()) worker_.join();  // finished: it only signals and returns
      running_ = true;
      worker_ = std::thread([this] {
        auto fresh = std::make_shared<const Result<DockerModel>>(fetch_model(socket_));
        std::lock_guard done(mu_);
        last_ = std::move(fresh);
        running_ = false;
        done_.notify_all();
      });
      if (!last_)
        done_.wait(lock, [&] { return !running_; });
      else
        done_.wait_for(lock, wait, [&] { return !running_; });
    }
    return last_;
  }

 private:
  const std::string socket_;
  std::mutex mu_;
  std::condition_variable done_;
  bool running_ = false;                             // guarded by mu_
  std::shared_ptr<const Result<DockerModel>> last_;  // guarded by mu_
  std::thread worker_;
};

class DockerCollector final : public Collector {
 public:
  DockerCollector(std::string host, std::string socket,
                  std::optional<std::chrono::milliseconds> wait)
      : host_(std::move(host)), socket_(std::move(socket)), wait_(wait) {
    if (wait_) background_ = std::make_unique<BackgroundFetch>(socket_);
  }

  // A socket that does not exist means Docker is not installed or not running here: that is
  // the normal state of most hosts, so it is no failure and no note, only portman_docker_up 0.
  // Anything else (no permission, a refused or silent daemon, a malformed answer) is a failure
  // worth a line: the published ports are then shown by their proxy process only.
  Status collect(const ScanScope&, LiveState& state) override {
    int err = probe(socket_);
    if (err == ENOENT) {
      report(state, false);
      return {};
    }
    std::shared_ptr<const Result<DockerModel>> answer;
    if (err != 0)
      answer =
          std::make_shared<const Result<DockerModel>>(make_error(ErrorKind::io, probe_error(err)));
    else if (background_)
      answer = background_->get(*wait_);
    else
      answer = std::make_shared<const Result<DockerModel>>(fetch_model(socket_));
    const Result<DockerModel>& model = *answer;
    if (!model) {
      report(state, false);
      std::string why = "cannot reach the Engine API at " + host_ + ": " + model.error().message;
      state.notes.push_back("docker: " + why +
                            "; ports published by containers are shown by their proxy process");
      return make_error(ErrorKind::io, why);
    }
    report(state, true);
    attribute_workloads(*model, state);
    return {};
  }

 private:
  static void report(LiveState& state, bool up) {
    state.samples.push_back({&kDockerUpMetric, {}, up ? 1.0 : 0.0});
  }

  std::string host_;    // as configured, for messages
  std::string socket_;  // its path
  std::optional<std::chrono::milliseconds> wait_;
  std::unique_ptr<BackgroundFetch> background_;  // with wait_ only
};

}  // namespace

std::span<const OptionSpec> docker_options() {
  return kOptions;
}

std::span<const MetricSpec* const> docker_metrics() {
  return kMetrics;
}

Result<std::string> docker_socket_path(std::string_view host, std::string_view where) {
  constexpr std::string_view scheme = "unix://";
  auto refuse = [&](std::string_view why) {
    return make_error(ErrorKind::bad_input,
                      std::string(where) + ": \"" + std::string(host) + "\" " + std::string(why) +
                          "; give unix:///PATH, e.g. " + std::string(kDefaultHost));
  };
  if (!host.starts_with(scheme)) {
    auto colon = host.find("://");
    if (colon != std::string_view::npos)
      return refuse(
          "is not supported: portman asks Docker's Engine API over its unix socket "
          "only, not over " +
          std::string(host.substr(0, colon)) + "://");
    return refuse("is not a Docker host");
  }
  std::string_view path = host.substr(scheme.size());
  if (path.empty() || !path.starts_with('/')) return refuse("has no absolute socket path");
  if (path.size() >= sizeof(sockaddr_un::sun_path)) return refuse("has a socket path too long");
  return std::string(path);
}

Result<std::unique_ptr<Collector>> make_docker_collector(const CollectorContext& context) {
  const std::string& host = context.settings.text("host");
  auto socket = docker_socket_path(host.empty() ? kDefaultHost : std::string_view(host),
                                   context.settings.describe("host"));
  if (!socket) return socket.error();
  return std::unique_ptr<Collector>(
      std::make_unique<DockerCollector>(host.empty() ? std::string(kDefaultHost) : host,
                                        std::move(*socket), context.shared.remote_wait));
}

}  // namespace portman
