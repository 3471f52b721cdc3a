// The agent's HTTP request path: the input is sent as raw bytes over a TCP connection to the
// real server (libmicrohttpd, basic auth with a cost-4 bcrypt hash, gzip), started once on
// 127.0.0.1:0; the answer is read until the server closes or 300 ms of silence. What MHD itself
// parses is not instrumented; our routing, size checks, Authorization and Accept-Encoding
// handling and response assembly are.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "agent/http_server.hpp"
#include "fuzz/fuzz_input.hpp"
#include "libportman/unique_fd.hpp"

namespace {

using namespace portman::agent;

HttpResponse handle(const HttpRequest& req) {
  static const auto big = std::make_shared<const std::string>(64 * 1024, 'x');
  HttpResponse r;
  if (req.path == "/metrics") {
    r.shared_body = big;
    r.shared_gzip = [] { return std::shared_ptr<const std::string>(); };  // gzip "failed"
  } else if (req.path == "/") {
    r.body = "<html>" + req.path + "</html>";
    r.content_type = "text/html; charset=utf-8";
  } else if (req.path != "/healthz") {
    r.status = 404;
    r.body = "not found: " + req.path + "\n";
  }
  return r;
}

std::uint16_t server_port() {
  static Logger log(LogLevel::error, LogFormat::logfmt);
  static std::unique_ptr<HttpServer> server = [] {
    HttpServerOptions o;
    o.listen_addresses = {"127.0.0.1:0"};
    o.web.basic_auth_users["alice"] =
        "$2y$04$4yLwVfFJUWf3yx4f0zIDcufMA2FpBBs57YDrCOawMWQLg9rSIXgla";  // "wonderland"
    auto s = HttpServer::start(o, handle, log);
    if (!s) std::abort();
    return std::move(*s);
  }();
  return server->ports()[0];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::uint16_t port = server_port();
  portman::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 0;
  for (std::size_t sent = 0; sent < size;) {
    ssize_t n = ::send(fd.get(), data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd.get(), SHUT_WR);
  char buf[16 * 1024];
  pollfd p{fd.get(), POLLIN, 0};
  while (::poll(&p, 1, 300) == 1) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
  }
  return 0;
}
