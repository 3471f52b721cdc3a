// A fake Dokploy for the tests: serves the fixtures (tests/fixtures/dokploy) as Dokploy's REST
// API does, GET /api/<procedure>?<idParam>=<id> -> <procedure>/<id>.json, with project.all in the
// layout asked for, checks x-api-key, and fails on purpose in the ways Dokploy and the proxies in
// front of it do. Listens on 127.0.0.1 and prints its port on stdout; stops on SIGTERM or SIGINT.
//
//   fake_dokploy [--port N] [--fixtures DIR] [--layout v1|v2|v3] [--key KEY]
//                [--mode ok|401|500|html|truncated|dropped|huge|redirect|slow]
//                [--fail ID]... [--deny ID]...
//
// Modes answer every request under /api/ (but health) so: 401 the key refused, 500 Dokploy's
// generic error, html a login page, truncated project.all cut mid-string (malformed.txt), dropped
// a body shorter than its Content-Length, huge a 50 MB JSON body, redirect a 302 to another host,
// slow a socket that accepts connections and never answers. --fail ID answers 500 for that
// service's details, --deny ID the member-permission 401.
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

struct Options {
  int port = 0;
  std::string fixtures = PORTMAN_FIXTURES_DIR "/dokploy";
  std::string layout = "v3";
  std::string key = "test-key";
  std::string mode = "ok";
  std::set<std::string> fail, deny;
};

constexpr std::uint64_t kHugeBytes = 50u * 1024 * 1024;

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return true;
}

MHD_Result send(MHD_Connection* c, unsigned status, const std::string& body,
                const char* type = "application/json; charset=utf-8") {
  MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                    MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "Content-Type", type);
  MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

MHD_Result send_fixture(MHD_Connection* c, const Options& o, unsigned status,
                        const std::string& name) {
  std::string body;
  if (!read_file(o.fixtures + "/" + name, body))
    return send(c, 500, "{\"message\":\"fake_dokploy: no fixture " + name + "\"}");
  return send(c, status, body);
}

// 50 MB of a JSON array of spaces, made as it is sent.
ssize_t huge_body(void*, std::uint64_t pos, char* buf, std::size_t max) {
  std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(max, kHugeBytes - pos));
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t at = pos + i;
    buf[i] = at == 0 ? '[' : at == kHugeBytes - 1 ? ']' : ' ';
  }
  return static_cast<ssize_t>(n);
}

// Half of what Content-Length promised, then the connection is closed.
ssize_t dropped_body(void* cls, std::uint64_t pos, char* buf, std::size_t max) {
  const auto* body = static_cast<const std::string*>(cls);
  if (pos >= body->size()) return MHD_CONTENT_READER_END_WITH_ERROR;
  std::size_t n = std::min(max, body->size() - static_cast<std::size_t>(pos));
  std::memcpy(buf, body->data() + pos, n);
  return static_cast<ssize_t>(n);
}

struct IdArg {
  std::string key, value;
};

MHD_Result first_id(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* out = static_cast<IdArg*>(cls);
  std::string k = key ? key : "";
  if (k.size() > 2 && k.compare(k.size() - 2, 2, "Id") == 0) {
    *out = {k, value ? value : ""};
    return MHD_NO;  // found: stop
  }
  return MHD_YES;
}

MHD_Result answer(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                  const char*, size_t*, void**) {
  const Options& o = *static_cast<const Options*>(cls);
  std::string path = url;
  std::fprintf(stderr, "%s %s\n", method, url);
  if (std::strcmp(method, "GET") != 0)
    return send(c, 404, R"({"message":"Not found","code":"NOT_FOUND"})");
  if (path == "/api/health") return send(c, 200, R"({"ok":true})");
  if (path.rfind("/api/", 0) != 0) return send(c, 404, "404 page not found\n", "text/plain");

  if (o.mode == "html")
    return send(c, 200, "<!DOCTYPE html><html><head><title>Dokploy</title></head></html>",
                "text/html; charset=utf-8");
  if (o.mode == "redirect") {
    MHD_Response* r = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Location", "http://login.example.com/");
    MHD_Result ok = MHD_queue_response(c, 302, r);
    MHD_destroy_response(r);
    return ok;
  }
  const char* key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-api-key");
  if (o.mode == "401" || !key || o.key != key) return send_fixture(c, o, 401, "error-401.json");
  if (o.mode == "500") return send_fixture(c, o, 500, "error-500.json");
  if (o.mode == "huge") {
    MHD_Response* r =
        MHD_create_response_from_callback(kHugeBytes, 64 * 1024, &huge_body, nullptr, nullptr);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_Result ok = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ok;
  }

  std::string procedure = path.substr(5);
  if (procedure == "project.all") {
    if (o.mode == "truncated") return send_fixture(c, o, 200, "malformed.txt");
    std::string file = "project-all." + o.layout + ".json";
    if (o.mode == "dropped") {
      static std::string body;  // read once per process; the response refers to it
      if (body.empty() && !read_file(o.fixtures + "/" + file, body))
        return send(c, 500, R"({"message":"fake_dokploy: no fixture"})");
      MHD_Response* r =
          MHD_create_response_from_callback(body.size() * 2, 4096, &dropped_body, &body, nullptr);
      MHD_add_response_header(r, "Content-Type", "application/json");
      MHD_Result ok = MHD_queue_response(c, 200, r);
      MHD_destroy_response(r);
      return ok;
    }
    return send_fixture(c, o, 200, file);
  }
  if (procedure.find('/') != std::string::npos || procedure.find("..") != std::string::npos)
    return send_fixture(c, o, 404, "error-404.json");
  IdArg id;
  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, &first_id, &id);
  if (id.key.empty()) return send_fixture(c, o, 400, "error-400.json");
  if (id.value.empty() || id.value.find('/') != std::string::npos || id.value[0] == '.')
    return send_fixture(c, o, 404, "error-404.json");
  if (o.fail.count(id.value)) return send_fixture(c, o, 500, "error-500.json");
  if (o.deny.count(id.value)) return send_fixture(c, o, 401, "error-401-access.json");
  std::string body;
  if (!read_file(o.fixtures + "/" + procedure + "/" + id.value + ".json", body))
    return send_fixture(c, o, 404, "error-404.json");
  return send(c, 200, body);
}

int usage(const char* why) {
  std::fprintf(stderr,
               "fake_dokploy: %s\nusage: fake_dokploy [--port N] [--fixtures DIR] "
               "[--layout v1|v2|v3] [--key KEY] [--mode "
               "ok|401|500|html|truncated|dropped|huge|redirect|slow] [--fail ID]... "
               "[--deny ID]...\n",
               why);
  return 2;
}

// Blocks until SIGTERM or SIGINT (blocked in every thread, so that sigwait gets them).
void wait_for_stop(const sigset_t& stop) {
  int sig = 0;
  sigwait(&stop, &sig);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage(("missing value after " + a).c_str());
    std::string v = argv[++i];
    if (a == "--port")
      o.port = std::atoi(v.c_str());
    else if (a == "--fixtures")
      o.fixtures = v;
    else if (a == "--layout")
      o.layout = v;
    else if (a == "--key")
      o.key = v;
    else if (a == "--mode")
      o.mode = v;
    else if (a == "--fail")
      o.fail.insert(v);
    else if (a == "--deny")
      o.deny.insert(v);
    else
      return usage(("unknown option " + a).c_str());
  }
  static const std::set<std::string> kModes = {"ok",      "401",  "500",      "html", "truncated",
                                               "dropped", "huge", "redirect", "slow"};
  if (!kModes.count(o.mode)) return usage(("unknown mode " + o.mode).c_str());
  if (o.layout != "v1" && o.layout != "v2" && o.layout != "v3")
    return usage(("unknown layout " + o.layout).c_str());

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  if (o.mode == "slow") {
    // The kernel completes the handshake into the backlog; nothing ever accepts or answers.
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(fd, 64) != 0) {
      std::perror("fake_dokploy: listen");
      return 1;
    }
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    std::printf("%d\n", ntohs(addr.sin_port));
    std::fflush(stdout);
    wait_for_stop(stop);
    close(fd);
    return 0;
  }

  MHD_Daemon* d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, nullptr,
                                   nullptr, &answer, &o, MHD_OPTION_SOCK_ADDR,
                                   reinterpret_cast<sockaddr*>(&addr), MHD_OPTION_END);
  if (!d) {
    std::fprintf(stderr, "fake_dokploy: cannot listen on 127.0.0.1:%d\n", o.port);
    return 1;
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  std::printf("%u\n", info ? static_cast<unsigned>(info->port) : 0u);
  std::fflush(stdout);
  wait_for_stop(stop);
  MHD_stop_daemon(d);
  return 0;
}
