// The agent's HTTP(S) server, on libmicrohttpd (with GnuTLS for TLS). It accepts GET and HEAD
// only (405 otherwise), limits request size, checks basic auth on every path but the open ones
// (bcrypt on its own small pool, off the request threads), gzips when the client asks, keeps
// HTTP/1.1 connections open, and hands everything else to one handler. Slow, idle and greedy
// clients are bounded: a deadline for each request header, a cap of connections per client, and
// an over-long URL refused before libmicrohttpd parses it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/http_auth_pool.hpp"
#include "agent/http_guard.hpp"
#include "agent/log.hpp"
#include "agent/web_config.hpp"
#include "libportman/result.hpp"

namespace portman::agent {

struct HttpRequest {
  std::string method;  // "GET" or "HEAD"
  std::string path;    // without the query string
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // A body rendered once and shared by many responses (used instead of `body` when set), and
  // how to get its gzip form, also made once, for clients that accept gzip.
  std::shared_ptr<const std::string> shared_body;
  std::function<std::shared_ptr<const std::string>()> shared_gzip;
};

// Called from the server's threads, concurrently: it must be thread-safe.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // ":9097" (every address, IPv4 and IPv6), "127.0.0.1:9097", "[::1]:9097"; port 0 picks one.
  std::vector<std::string> listen_addresses = {":9097"};
  WebConfig web;
  std::vector<std::string> open_paths = {"/healthz"};  // served without basic auth
  std::size_t max_request_bytes = 16 * 1024;           // headers and body; more is refused (4xx)
  unsigned threads = 2;
  // Header deadlines and the per-client connection cap (see http_guard.hpp); busy_at counts per
  // listen address (each takes 512 connections).
  GuardLimits guard;
  // A request line whose URL is longer, or has more query arguments, is refused with 414 before
  // libmicrohttpd parses it (500 arguments exhaust its per-connection memory and hang it).
  std::size_t max_url_bytes = 2048;
  std::size_t max_query_args = 64;
  // bcrypt checks: threads, and how many may wait (in all, and per client) before shedding.
  AuthPoolLimits auth_pool;
};

class HttpServer {
 public:
  // Binds every address or fails naming the one that could not be bound.
  static Result<std::unique_ptr<HttpServer>> start(HttpServerOptions options, HttpHandler handler,
                                                   Logger& log);
  virtual ~HttpServer() = default;  // stops accepting and waits for requests in flight
  // The bound ports, one per listen address, in order (useful with port 0).
  virtual std::vector<std::uint16_t> ports() const = 0;
};

// Parses a listen address: host (empty = any) and port.
struct ListenAddress {
  std::string host;  // "", "127.0.0.1", "::1"
  std::uint16_t port = 0;
};
Result<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace portman::agent
