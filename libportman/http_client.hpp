// HTTP GETs over TCP, TLS or a unix socket (libcurl), for the sources that ask a daemon or an API
// what it runs: Dokploy over HTTP(S), Docker's Engine API over its unix socket. Errors are values:
// a transport failure is an Error, an HTTP error status is a response the caller interprets.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "libportman/result.hpp"

namespace portman {

struct HttpRequest {
  std::string url;                          // http(s)://host[:port]/path?query
  std::vector<std::string> headers;         // "Name: value"; secrets allowed, never logged
  std::string unix_socket;                  // connect here instead of the URL's host (Docker)
  std::chrono::milliseconds timeout{5000};  // the whole request, connect to last byte
  std::size_t max_body = 16u << 20;         // a longer body is an Error, read no further
  bool verify_tls = true;
};

struct HttpResponse {
  long status = 0;
  std::string content_type;  // as sent, e.g. "application/json; charset=utf-8"
  std::string body;
  std::string location;  // the Location header of a 3xx, which is never followed
};

// One GET. Redirects are not followed (a 3xx comes back as a response).
Result<HttpResponse> http_get(const HttpRequest& request);

// Many GETs with at most `parallel` in flight (libcurl multi); results in request order.
std::vector<Result<HttpResponse>> http_get_all(std::span<const HttpRequest> requests, int parallel);

}  // namespace portman
