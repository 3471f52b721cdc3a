#include "agent/http_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "agent/agent_libraries.hpp"
#include "agent/basic_auth.hpp"
#include "agent/http_gzip.hpp"
#include "agent/http_listen.hpp"

namespace portman::agent {
namespace {

// libmicrohttpd's own timeout: reset by every byte, so it only catches clients that stop
// entirely (a reader that never reads its response); ConnectionGuard bounds the header phases.
constexpr unsigned kConnectionTimeoutSeconds = 30;
constexpr unsigned kConnectionLimit = 512;          // per listen address
constexpr std::size_t kGzipMinBytes = 1024;         // smaller bodies are not worth a deflate
constexpr std::size_t kMinMemoryLimit = 32 * 1024;  // MHD's default per-connection pool
constexpr auto kWatchdogPeriod = std::chrono::milliseconds(250);
// A request shed by the full bcrypt pool waits this long (its connection set aside, costing
// nothing) before its 503/429: a flood of new passwords then makes one request per connection
// and second, not thousands, and leaves the request threads to the scrapers.
constexpr auto kShedDelay = std::chrono::seconds(1);
constexpr std::size_t kMaxDelayed = 2048;  // beyond, shed requests are answered at once

struct StopDaemon {
  const MhdApi* mhd = nullptr;
  void operator()(MHD_Daemon* d) const { mhd->stop_daemon(d); }
};
using DaemonPtr = std::unique_ptr<MHD_Daemon, StopDaemon>;

struct DestroyResponse {
  const MhdApi* mhd = nullptr;
  void operator()(MHD_Response* r) const { mhd->destroy_response(r); }
};
using ResponsePtr = std::unique_ptr<MHD_Response, DestroyResponse>;

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return (x | 0x20) == (y | 0x20); });
}

// GnuTLS priority string allowing exactly the versions from min to max.
std::string tls_priorities(const TlsConfig& tls) {
  static const char* const kVersions[][2] = {{"TLS10", "VERS-TLS1.0"},
                                             {"TLS11", "VERS-TLS1.1"},
                                             {"TLS12", "VERS-TLS1.2"},
                                             {"TLS13", "VERS-TLS1.3"}};
  std::string out = "NORMAL:-VERS-ALL";
  bool in_range = false;
  for (const auto& [name, gnutls_name] : kVersions) {
    if (tls.min_version == name) in_range = true;
    if (in_range) out += std::string(":+") + gnutls_name;
    if (tls.max_version == name) break;
  }
  return out;
}

HttpResponse plain(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse retry_later(int status, std::string body) {
  HttpResponse r = plain(status, std::move(body));
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

// The outcome of one bcrypt check, shared by the pool's job and the suspended request.
struct AuthTicket {
  enum State { pending, allowed, denied, cancelled, shed_busy, shed_client };
  std::atomic<int> state{pending};
};

// Per request (MHD's con_cls): made by the URL callback, freed when the request completes.
struct RequestState {
  enum class Url { ok, too_long, bad };
  Url url = Url::ok;
  bool header_seen = false;  // the handler's first call (header complete) has happened
  std::shared_ptr<AuthTicket> ticket;
};

std::size_t query_args(std::string_view url) {
  auto q = url.find('?');
  if (q == std::string_view::npos) return 0;
  return 1 +
         static_cast<std::size_t>(std::count(url.begin() + static_cast<long>(q), url.end(), '&'));
}

// One guard watches every listen address: the pressure mark grows with their number.
GuardLimits guard_limits(const HttpServerOptions& o) {
  GuardLimits g = o.guard;
  g.busy_at *= std::max<std::size_t>(1, o.listen_addresses.size());
  return g;
}

class MhdServer final : public HttpServer {
 public:
  MhdServer(const MhdApi& mhd, HttpServerOptions options, HttpHandler handler, Logger& log)
      : mhd_(mhd),
        options_(std::move(options)),
        handler_(std::move(handler)),
        log_(log),
        auth_(options_.web.basic_auth_users),
        priorities_(options_.web.tls ? tls_priorities(*options_.web.tls) : ""),
        guard_(guard_limits(options_)),
        pool_(options_.auth_pool),
        watchdog_([this] { watch(); }) {}

  // The pool first: it resumes every connection suspended on a bcrypt check (cancelled ones
  // get 503), so none is left suspended when the daemons stop. Then every daemon (each waits
  // for its threads, so requests in flight finish) before the handler and options go away.
  ~MhdServer() override {
    pool_.stop();
    {
      std::lock_guard lock(watch_mu_);
      stopping_ = true;
    }
    watch_cv_.notify_all();
    watchdog_.join();
    resume_delayed(true);  // nothing may stay suspended when the daemons stop
    daemons_.clear();
  }

  std::vector<std::uint16_t> ports() const override { return ports_; }

  Status listen(const std::string& text);

 private:
  static MHD_Result on_request(void* cls, MHD_Connection* conn, const char* url, const char* method,
                               const char* version, const char* upload_data,
                               std::size_t* upload_data_size, void** con_cls);
  static void on_mhd_log(void* cls, const char* fmt, va_list ap);
  static void* on_url(void* cls, const char* url, MHD_Connection* conn);
  static void on_completed(void* cls, MHD_Connection* conn, void** con_cls,
                           MHD_RequestTerminationCode toe);
  static void on_connection(void* cls, MHD_Connection* conn, void** socket_context,
                            MHD_ConnectionNotificationCode toe);

  MHD_Result serve(MHD_Connection* conn, const HttpRequest& req, const char* version,
                   std::size_t* upload_data_size, void** con_cls);
  std::optional<HttpResponse> refuse(MHD_Connection* conn, const HttpRequest& req,
                                     const char* version, const RequestState& st) const;
  std::optional<HttpResponse> authorize(MHD_Connection* conn, const HttpRequest& req,
                                        RequestState& st, bool& suspended);
  HttpResponse answer(const HttpRequest& req);
  std::size_t request_bytes(MHD_Connection* conn, std::string_view url) const;
  MHD_Result send(MHD_Connection* conn, const HttpRequest& req, HttpResponse resp);
  void refuse_url_now(MHD_Connection* conn);
  void watch();
  void resume_delayed(bool all);

  const MhdApi& mhd_;          // libmicrohttpd, loaded for the process's life
  HttpServerOptions options_;  // holds the PEM strings MHD reads
  HttpHandler handler_;
  Logger& log_;
  BasicAuth auth_;
  std::string priorities_;  // GnuTLS priority string for the configured TLS versions
  std::mutex mhd_error_mu_;
  std::string last_mhd_error_;  // MHD's own reason when a daemon fails to start
  std::vector<std::uint16_t> ports_;
  ConnectionGuard guard_;
  AuthPool pool_;
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool stopping_ = false;
  struct Delayed {
    MHD_Connection* conn;
    ConnectionGuard::Clock::time_point due;
  };
  std::mutex delay_mu_;
  std::vector<Delayed> delayed_;  // shed requests, suspended until `due`
  std::thread watchdog_;  // sweeps guard_ for connections past their deadline, resumes delayed_
  std::vector<DaemonPtr> daemons_;  // last: destroyed first
};

void MhdServer::on_mhd_log(void* cls, const char* fmt, va_list ap) {
  auto* self = static_cast<MhdServer*>(cls);
  try {
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    std::string msg(buf);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
    {
      std::lock_guard lock(self->mhd_error_mu_);
      self->last_mhd_error_ = msg;
    }
    // Most of MHD's messages are about one client (bad TLS handshake, reset connection):
    // debug, so a client cannot flood the log.
    self->log_.debug("http server", {{"detail", msg}});
  } catch (...) {
  }
}

// Closes connections past their header or idle deadline. shutdown(), not close(): the fd stays
// MHD's, which sees the end of the stream and cleans up as for a client that left.
void MhdServer::watch() {
  std::unique_lock lock(watch_mu_);
  while (!stopping_) {
    watch_cv_.wait_for(lock, kWatchdogPeriod);
    resume_delayed(false);
    std::size_t n =
        guard_.expire(ConnectionGuard::Clock::now(), [](int fd) { ::shutdown(fd, SHUT_RDWR); });
    if (n > 0 && log_.enabled(LogLevel::debug))
      log_.debug("http connections past their header or idle deadline closed",
                 {{"count", std::to_string(n)}});
  }
}

void MhdServer::resume_delayed(bool all) {
  std::vector<MHD_Connection*> due;
  {
    std::lock_guard lock(delay_mu_);
    auto now = ConnectionGuard::Clock::now();
    auto keep = std::stable_partition(delayed_.begin(), delayed_.end(),
                                      [&](const Delayed& d) { return !all && now < d.due; });
    for (auto it = keep; it != delayed_.end(); ++it) due.push_back(it->conn);
    delayed_.erase(keep, delayed_.end());
  }
  for (MHD_Connection* c : due) mhd_.resume_connection(c);
}

void* MhdServer::on_url(void* cls, const char* url, MHD_Connection* conn) {
  auto* self = static_cast<MhdServer*>(cls);
  auto* st = new (std::nothrow) RequestState;
  if (st == nullptr) return nullptr;
  std::string_view u(url ? url : "");
  if (u.size() > self->options_.max_url_bytes || query_args(u) > self->options_.max_query_args) {
    st->url = RequestState::Url::too_long;
    self->refuse_url_now(conn);
  } else if (u.find_first_of(" \t") != std::string_view::npos) {
    st->url = RequestState::Url::bad;  // HTTP allows no blank in a request target
  }
  return st;
}

// MHD parses the query next, into its per-connection pool: enough arguments exhaust it and
// leave the connection hanging. So the answer goes out here, written straight to the socket
// (plain HTTP; on TLS the connection is only dropped), and the socket is shut down, which
// makes MHD drop the connection at once.
void MhdServer::refuse_url_now(MHD_Connection* conn) {
  const MHD_ConnectionInfo* info =
      mhd_.get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (info == nullptr) return;
  int fd = info->connect_fd;
  if (!options_.web.tls) {
    static constexpr std::string_view kAnswer =
        "HTTP/1.1 414 URI Too Long\r\nConnection: close\r\nContent-Type: text/plain; "
        "charset=utf-8\r\nContent-Length: 17\r\n\r\nURL is too long.\n";
    [[maybe_unused]] auto n =
        ::send(fd, kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::shutdown(fd, SHUT_RDWR);
}

void MhdServer::on_completed(void* cls, MHD_Connection* conn, void** con_cls,
                             MHD_RequestTerminationCode toe) {
  auto* self = static_cast<MhdServer*>(cls);
  delete static_cast<RequestState*>(*con_cls);
  *con_cls = nullptr;
  // Kept alive: the next request's header has the idle deadline (a closing connection is
  // forgotten right after, in on_connection).
  if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
    self->guard_.request_done(conn, ConnectionGuard::Clock::now());
}

void MhdServer::on_connection(void* cls, MHD_Connection* conn, void**,
                              MHD_ConnectionNotificationCode toe) {
  auto* self = static_cast<MhdServer*>(cls);
  if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
    self->guard_.closed(conn);
    return;
  }
  const MHD_ConnectionInfo* fd =
      self->mhd_.get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  const MHD_ConnectionInfo* addr =
      self->mhd_.get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (fd == nullptr) return;
  try {
    std::string client = client_key(addr ? addr->client_addr : nullptr);
    if (self->guard_.opened(conn, fd->connect_fd, client, ConnectionGuard::Clock::now())) return;
    if (self->log_.enabled(LogLevel::debug))
      self->log_.debug("http connection refused: too many from one client", {{"client", client}});
  } catch (...) {
  }
  ::shutdown(fd->connect_fd, SHUT_RDWR);  // MHD sees the end of the stream and drops it
}

Status MhdServer::listen(const std::string& text) {
  auto addr = parse_listen_address(text);
  if (!addr) return addr.error();
  auto listener = open_listener(*addr, text);
  if (!listener) return listener.error();

  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  flags |= mhd_.is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
  // MHD's pool holds the request line and headers; our own check in refuse() enforces the exact
  // max_request_bytes (431/413), this only stops a client from making MHD allocate more. Beyond
  // the pool MHD 0.9.75 answers by itself: 431 for headers, 414 for an over-long request line.
  // A malformed header line gets 400 from MHD; a line it cannot split at all ("GARBAGE") gets
  // the connection closed without an answer.
  std::size_t memory_limit = std::max(kMinMemoryLimit, 2 * options_.max_request_bytes);
  std::vector<MHD_OptionItem> opts = {
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&MhdServer::on_mhd_log), this},
      {MHD_OPTION_LISTEN_SOCKET, listener->fd.get(), nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, kConnectionTimeoutSeconds, nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, kConnectionLimit, nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(memory_limit), nullptr},
      // Not strict: MHD 0.9.75's strict mode answers a missing Host with a 400 whose body
      // repeats the header block; refuse() makes the same checks, with short answers.
      {MHD_OPTION_STRICT_FOR_CLIENT, 0, nullptr},
      {MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&MhdServer::on_url), this},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&MhdServer::on_completed), this},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&MhdServer::on_connection), this},
  };
  if (options_.threads > 1)
    opts.push_back({MHD_OPTION_THREAD_POOL_SIZE, options_.threads, nullptr});
  if (options_.web.tls) {
    flags |= MHD_USE_TLS;
    opts.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, options_.web.tls->key_pem.data()});
    opts.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, options_.web.tls->cert_pem.data()});
    opts.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0, priorities_.data()});
  }
  opts.push_back({MHD_OPTION_END, 0, nullptr});

  MHD_Daemon* d = mhd_.start_daemon(flags, 0, nullptr, nullptr, &MhdServer::on_request, this,
                                    MHD_OPTION_ARRAY, opts.data(), MHD_OPTION_END);
  if (d == nullptr) {
    std::lock_guard lock(mhd_error_mu_);
    return make_error(ErrorKind::io,
                      "cannot start the HTTP server on " + text + ": " +
                          (last_mhd_error_.empty() ? "libmicrohttpd failed" : last_mhd_error_));
  }
  listener->fd.release();  // MHD_stop_daemon closes it
  daemons_.emplace_back(d, StopDaemon{&mhd_});
  ports_.push_back(listener->port);
  return {};
}

MHD_Result MhdServer::on_request(void* cls, MHD_Connection* conn, const char* url,
                                 const char* method, const char* version, const char*,
                                 std::size_t* upload_data_size, void** con_cls) {
  auto* self = static_cast<MhdServer*>(cls);
  HttpRequest req{method ? method : "", url ? url : ""};
  // This is C code's thread: nothing may escape.
  try {
    return self->serve(conn, req, version, upload_data_size, con_cls);
  } catch (const std::exception& e) {
    self->log_.error("http handler failed", {{"path", req.path}, {"err", e.what()}});
  } catch (...) {
    self->log_.error("http handler failed", {{"path", req.path}});
  }
  try {
    return self->send(conn, req, plain(500, "internal server error\n"));
  } catch (...) {
    return MHD_NO;  // MHD closes the connection
  }
}

// MHD calls this once when the header is complete, then (with a body) once per chunk of it, then
// once more at the end. A refusal goes out on the first call, so that no body is ever read and
// MHD closes the connection after it. Anything else is answered on the last call: a response
// queued earlier makes MHD close the connection, and HTTP/1.1 clients expect to reuse it.
MHD_Result MhdServer::serve(MHD_Connection* conn, const HttpRequest& req, const char* version,
                            std::size_t* upload_data_size, void** con_cls) {
  auto* st = static_cast<RequestState*>(*con_cls);
  if (st == nullptr) *con_cls = st = new RequestState;  // the URL callback did not run
  if (!st->header_seen) {
    st->header_seen = true;
    guard_.header_done(conn);
    if (auto refusal = refuse(conn, req, version, *st)) return send(conn, req, std::move(*refusal));
    return MHD_YES;
  }
  if (*upload_data_size != 0) {  // refuse() lets no body through; drop one all the same
    *upload_data_size = 0;
    return MHD_YES;
  }
  bool suspended = false;
  std::optional<HttpResponse> denial = authorize(conn, req, *st, suspended);
  if (suspended) return MHD_YES;  // called again once the check is done
  return send(conn, req, denial ? std::move(*denial) : answer(req));
}

HttpResponse MhdServer::answer(const HttpRequest& req) {
  HttpResponse resp = handler_(req);
  if (log_.enabled(LogLevel::debug))
    log_.debug(
        "http request",
        {{"method", req.method}, {"path", req.path}, {"status", std::to_string(resp.status)}});
  return resp;
}

std::optional<HttpResponse> MhdServer::refuse(MHD_Connection* conn, const HttpRequest& req,
                                              const char* version, const RequestState& st) const {
  if (st.url == RequestState::Url::too_long) return plain(414, "URL is too long.\n");
  if (st.url == RequestState::Url::bad) return plain(400, "bad request: blank in the URL\n");
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = plain(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  // Header names with blanks ("Host : x", "Transfer-Encoding : chunked") are request smuggling
  // tricks: a proxy in front may read them differently.
  bool blank_name = false;
  mhd_.get_connection_values(
      conn, MHD_HEADER_KIND,
      [](void* cls, MHD_ValueKind, const char* key, const char*) -> MHD_Result {
        if (key && std::strpbrk(key, " \t")) *static_cast<bool*>(cls) = true;
        return MHD_YES;
      },
      &blank_name);
  if (blank_name) return plain(400, "bad request: blank in a header name\n");
  if (version && std::strcmp(version, "HTTP/1.1") == 0 &&
      mhd_.lookup_connection_value(conn, MHD_HEADER_KIND, "Host") == nullptr)
    return plain(400, "bad request: HTTP/1.1 without Host\n");
  std::size_t size = request_bytes(conn, req.path);
  if (size > options_.max_request_bytes) return plain(431, "request header fields too large\n");
  // GET and HEAD take no body here; one is refused, not read, so that no two parsers can
  // disagree on where the next request starts.
  if (mhd_.lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding"))
    return plain(413, "request bodies are not accepted\n");
  if (const char* cl = mhd_.lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length"))
    if (std::strtoull(cl, nullptr, 10) > 0) return plain(413, "request body too large\n");
  return std::nullopt;
}

// Basic auth: remembered answers on this thread; a new password waits for the pool while its
// connection is suspended, and a full pool sheds the request at once.
std::optional<HttpResponse> MhdServer::authorize(MHD_Connection* conn, const HttpRequest& req,
                                                 RequestState& st, bool& suspended) {
  bool open = std::find(options_.open_paths.begin(), options_.open_paths.end(), req.path) !=
              options_.open_paths.end();
  if (!auth_.enabled() || open) return std::nullopt;
  auto unauthorized = [] {
    HttpResponse r = plain(401, "unauthorized\n");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"portman\"");
    return r;
  };
  if (st.ticket) {  // back from the pool, or from the shed delay
    switch (st.ticket->state.load()) {
      case AuthTicket::allowed:
        return std::nullopt;
      case AuthTicket::denied:
        return unauthorized();
      case AuthTicket::pending:  // called while the check runs: wait for the resume
        suspended = true;
        return std::nullopt;
      case AuthTicket::shed_client:
        return retry_later(429, "too many password checks from this client\n");
      case AuthTicket::shed_busy:
        return retry_later(503, "too many password checks in progress\n");
      default:
        return retry_later(503, "server stopping\n");
    }
  }
  const char* authz = mhd_.lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
  if (authz == nullptr) return unauthorized();
  switch (auth_.check(authz)) {
    case BasicAuth::Check::allowed:
      return std::nullopt;
    case BasicAuth::Check::denied:
      return unauthorized();
    case BasicAuth::Check::needs_bcrypt:
      break;
  }
  const MHD_ConnectionInfo* addr =
      mhd_.get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  auto ticket = std::make_shared<AuthTicket>();
  AuthPool::Job job = [this, ticket, conn, header = std::string(authz)](bool run) {
    ticket->state = !run                   ? AuthTicket::cancelled
                    : auth_.verify(header) ? AuthTicket::allowed
                                           : AuthTicket::denied;
    mhd_.resume_connection(conn);
  };
  st.ticket = ticket;
  auto admit = pool_.submit(
      client_key(addr ? addr->client_addr : nullptr),
      [this, conn] { mhd_.suspend_connection(conn); }, std::move(job));
  if (admit == AuthPool::Admit::queued) {
    suspended = true;
    return std::nullopt;
  }
  ticket->state = admit == AuthPool::Admit::client_full ? AuthTicket::shed_client
                  : admit == AuthPool::Admit::full      ? AuthTicket::shed_busy
                                                        : AuthTicket::cancelled;
  if (admit != AuthPool::Admit::stopped) {
    std::lock_guard lock(delay_mu_);
    if (delayed_.size() < kMaxDelayed) {
      // Suspended before it is listed: the watchdog can only resume a suspended connection.
      mhd_.suspend_connection(conn);
      delayed_.push_back({conn, ConnectionGuard::Clock::now() + kShedDelay});
      suspended = true;
      return std::nullopt;
    }
  }
  return authorize(conn, req, st, suspended);  // answers from the ticket, at once
}

// The request as received: request line, header lines and query arguments.
std::size_t MhdServer::request_bytes(MHD_Connection* conn, std::string_view url) const {
  std::size_t total = url.size() + 16;  // method, version, separators
  auto add = [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
    auto* sum = static_cast<std::size_t*>(cls);
    *sum += (key ? std::strlen(key) : 0) + (value ? std::strlen(value) : 0) + 4;
    return MHD_YES;
  };
  mhd_.get_connection_values(conn, MHD_HEADER_KIND, add, &total);
  mhd_.get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add, &total);
  return total;
}

MHD_Result MhdServer::send(MHD_Connection* conn, const HttpRequest& req, HttpResponse resp) {
  bool encoded = std::any_of(resp.headers.begin(), resp.headers.end(),
                             [](const auto& h) { return iequals(h.first, "Content-Encoding"); });
  using Body = std::shared_ptr<const std::string>;
  Body body = resp.shared_body ? resp.shared_body
                               : std::make_shared<const std::string>(std::move(resp.body));
  if (!encoded && body->size() >= kGzipMinBytes) {
    resp.headers.emplace_back("Vary", "Accept-Encoding");
    const char* ae = mhd_.lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
    if (ae && accepts_gzip(ae)) {
      // Also for HEAD: its headers (Content-Length) must be those GET would send.
      Body gz;
      if (resp.shared_body && resp.shared_gzip) {
        gz = resp.shared_gzip();
      } else if (auto made = gzip_compress(*body)) {
        gz = std::make_shared<const std::string>(std::move(*made));
      }
      if (gz && gz->size() < body->size()) {
        body = std::move(gz);
        resp.headers.emplace_back("Content-Encoding", "gzip");
      }
    }
  }
  // MHD sends from the shared body and drops our reference when done: no copy of a large
  // scrape. For HEAD, MHD sends the Content-Length of this body but not the body itself.
  auto* hold = new Body(body);
  ResponsePtr r(mhd_.create_response(
                    body->size(), const_cast<char*>(body->data()),
                    [](void* p) { delete static_cast<Body*>(p); }, hold),
                DestroyResponse{&mhd_});
  if (!r) {
    delete hold;
    log_.error("cannot create an HTTP response", {{"path", req.path}});
    return MHD_NO;
  }
  mhd_.add_response_header(r.get(), MHD_HTTP_HEADER_CONTENT_TYPE, resp.content_type.c_str());
  for (const auto& [name, value] : resp.headers)
    if (mhd_.add_response_header(r.get(), name.c_str(), value.c_str()) != MHD_YES)
      log_.error("invalid response header dropped", {{"path", req.path}, {"header", name}});
  return mhd_.queue_response(conn, static_cast<unsigned>(resp.status), r.get());
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpServerOptions options,
                                                      HttpHandler handler, Logger& log) {
  if (options.listen_addresses.empty())
    return make_error(ErrorKind::bad_input, "no listen address given");
  if (!handler) return make_error(ErrorKind::bad_input, "no HTTP handler given");
  for (const auto& w : web_config_warnings(options.web)) log.warn(w);
  auto libraries = agent_libraries();
  if (!libraries) return libraries.error();
  std::vector<std::string> addresses = options.listen_addresses;
  auto server =
      std::make_unique<MhdServer>((*libraries)->mhd, std::move(options), std::move(handler), log);
  for (const auto& a : addresses)
    if (auto st = server->listen(a); !st) return st.error();  // started daemons stop here
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace portman::agent
