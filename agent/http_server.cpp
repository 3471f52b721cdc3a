#include "agent/http_server.hpp"

#include <microhttpd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>

#include "agent/basic_auth.hpp"
#include "agent/http_gzip.hpp"
#include "agent/http_listen.hpp"

namespace portman::agent {
namespace {

constexpr unsigned kConnectionTimeoutSeconds = 30;  // idle and slowloris clients are dropped
constexpr unsigned kConnectionLimit = 512;          // per listen address
constexpr std::size_t kGzipMinBytes = 1024;         // smaller bodies are not worth a deflate
constexpr std::size_t kMinMemoryLimit = 32 * 1024;  // MHD's default per-connection pool

struct StopDaemon {
  void operator()(MHD_Daemon* d) const { MHD_stop_daemon(d); }
};
using DaemonPtr = std::unique_ptr<MHD_Daemon, StopDaemon>;

struct DestroyResponse {
  void operator()(MHD_Response* r) const { MHD_destroy_response(r); }
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

class MhdServer final : public HttpServer {
 public:
  MhdServer(HttpServerOptions options, HttpHandler handler, Logger& log)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        log_(log),
        auth_(options_.web.basic_auth_users),
        priorities_(options_.web.tls ? tls_priorities(*options_.web.tls) : "") {}

  // Stop every daemon (each waits for its threads, so requests in flight finish) before the
  // handler and options they point at go away.
  ~MhdServer() override { daemons_.clear(); }

  std::vector<std::uint16_t> ports() const override { return ports_; }

  Status listen(const std::string& text);

 private:
  static MHD_Result on_request(void* cls, MHD_Connection* conn, const char* url, const char* method,
                               const char* version, const char* upload_data,
                               std::size_t* upload_data_size, void** con_cls);
  static void on_mhd_log(void* cls, const char* fmt, va_list ap);

  MHD_Result serve(MHD_Connection* conn, const char* url, const char* method);
  HttpResponse route(MHD_Connection* conn, const HttpRequest& req);
  std::size_t request_bytes(MHD_Connection* conn, std::string_view url) const;
  MHD_Result send(MHD_Connection* conn, const HttpRequest& req, HttpResponse resp);

  HttpServerOptions options_;  // holds the PEM strings MHD reads
  HttpHandler handler_;
  Logger& log_;
  BasicAuth auth_;
  std::string priorities_;  // GnuTLS priority string for the configured TLS versions
  std::mutex mhd_error_mu_;
  std::string last_mhd_error_;  // MHD's own reason when a daemon fails to start
  std::vector<std::uint16_t> ports_;
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

Status MhdServer::listen(const std::string& text) {
  auto addr = parse_listen_address(text);
  if (!addr) return addr.error();
  auto listener = open_listener(*addr, text);
  if (!listener) return listener.error();

  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
  // MHD's pool holds the request line and headers; our own check in route() enforces the exact
  // max_request_bytes (431/413), this only stops a client from making MHD allocate more. Beyond
  // the pool MHD 0.9.75 answers by itself: 431 for headers, 414 for an over-long request line.
  // A malformed request gets 400 from MHD; a line it cannot split at all ("GARBAGE") gets the
  // connection closed without an answer. Strict mode also refuses HTTP/1.1 without Host and
  // whitespace before a header's colon (request smuggling tricks) with 400.
  std::size_t memory_limit = std::max(kMinMemoryLimit, 2 * options_.max_request_bytes);
  std::vector<MHD_OptionItem> opts = {
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&MhdServer::on_mhd_log), this},
      {MHD_OPTION_LISTEN_SOCKET, listener->fd.get(), nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, kConnectionTimeoutSeconds, nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, kConnectionLimit, nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(memory_limit), nullptr},
      {MHD_OPTION_STRICT_FOR_CLIENT, 1, nullptr},
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

  MHD_Daemon* d = MHD_start_daemon(flags, 0, nullptr, nullptr, &MhdServer::on_request, this,
                                   MHD_OPTION_ARRAY, opts.data(), MHD_OPTION_END);
  if (d == nullptr) {
    std::lock_guard lock(mhd_error_mu_);
    return make_error(ErrorKind::io,
                      "cannot start the HTTP server on " + text + ": " +
                          (last_mhd_error_.empty() ? "libmicrohttpd failed" : last_mhd_error_));
  }
  listener->fd.release();  // MHD_stop_daemon closes it
  daemons_.emplace_back(d);
  ports_.push_back(listener->port);
  return {};
}

MHD_Result MhdServer::on_request(void* cls, MHD_Connection* conn, const char* url,
                                 const char* method, const char*, const char*, std::size_t*,
                                 void**) {
  auto* self = static_cast<MhdServer*>(cls);
  // This is C code's thread: nothing may escape.
  try {
    return self->serve(conn, url, method);
  } catch (const std::exception& e) {
    self->log_.error("http handler failed", {{"path", url ? url : ""}, {"err", e.what()}});
  } catch (...) {
    self->log_.error("http handler failed", {{"path", url ? url : ""}});
  }
  try {
    return self->send(conn, {method ? method : "", url ? url : ""},
                      plain(500, "internal server error\n"));
  } catch (...) {
    return MHD_NO;  // MHD closes the connection
  }
}

// Answers on the first call, before any body is read: we serve GET and HEAD only, so a body is
// never needed, and MHD discards it (closing the connection) once a response is queued.
MHD_Result MhdServer::serve(MHD_Connection* conn, const char* url, const char* method) {
  HttpRequest req{method ? method : "", url ? url : ""};
  HttpResponse resp = route(conn, req);
  if (log_.enabled(LogLevel::debug))
    log_.debug(
        "http request",
        {{"method", req.method}, {"path", req.path}, {"status", std::to_string(resp.status)}});
  return send(conn, req, std::move(resp));
}

HttpResponse MhdServer::route(MHD_Connection* conn, const HttpRequest& req) {
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = plain(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  std::size_t size = request_bytes(conn, req.path);
  if (size > options_.max_request_bytes) return plain(431, "request header fields too large\n");
  if (const char* cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length")) {
    unsigned long long body = std::strtoull(cl, nullptr, 10);
    if (body > options_.max_request_bytes - size) return plain(413, "request body too large\n");
  }
  bool open = std::find(options_.open_paths.begin(), options_.open_paths.end(), req.path) !=
              options_.open_paths.end();
  if (auth_.enabled() && !open) {
    const char* authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (authz == nullptr || !auth_.allows(authz)) {
      HttpResponse r = plain(401, "unauthorized\n");
      r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"portman\"");
      return r;
    }
  }
  return handler_(req);
}

// The request as received: request line, header lines and query arguments.
std::size_t MhdServer::request_bytes(MHD_Connection* conn, std::string_view url) const {
  std::size_t total = url.size() + 16;  // method, version, separators
  auto add = [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
    auto* sum = static_cast<std::size_t*>(cls);
    *sum += (key ? std::strlen(key) : 0) + (value ? std::strlen(value) : 0) + 4;
    return MHD_YES;
  };
  MHD_get_connection_values(conn, MHD_HEADER_KIND, add, &total);
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add, &total);
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
    const char* ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
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
  ResponsePtr r(MHD_create_response_from_buffer_with_free_callback_cls(
      body->size(), const_cast<char*>(body->data()), [](void* p) { delete static_cast<Body*>(p); },
      hold));
  if (!r) {
    delete hold;
    log_.error("cannot create an HTTP response", {{"path", req.path}});
    return MHD_NO;
  }
  MHD_add_response_header(r.get(), MHD_HTTP_HEADER_CONTENT_TYPE, resp.content_type.c_str());
  for (const auto& [name, value] : resp.headers)
    if (MHD_add_response_header(r.get(), name.c_str(), value.c_str()) != MHD_YES)
      log_.error("invalid response header dropped", {{"path", req.path}, {"header", name}});
  return MHD_queue_response(conn, static_cast<unsigned>(resp.status), r.get());
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpServerOptions options,
                                                      HttpHandler handler, Logger& log) {
  if (options.listen_addresses.empty())
    return make_error(ErrorKind::bad_input, "no listen address given");
  if (!handler) return make_error(ErrorKind::bad_input, "no HTTP handler given");
  std::vector<std::string> addresses = options.listen_addresses;
  auto server = std::make_unique<MhdServer>(std::move(options), std::move(handler), log);
  for (const auto& a : addresses)
    if (auto st = server->listen(a); !st) return st.error();  // started daemons stop here
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace portman::agent
