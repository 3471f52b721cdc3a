// `portman sync --nginx`'s output in Debian's real nginx: `nginx -t` accepts it, run as nobody
// in a scratch prefix, and a foreground nginx serves requests through it (plain HTTP, the HTTP to
// HTTPS redirect, HTTPS with a self-signed certificate, a websocket upgrade's headers) to real
// listeners on the upstream ports of the fixtures' Dokploy inventory.
#include <catch2/catch.hpp>

#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "integration/harness.hpp"
#include "unit/skip.hpp"

namespace fs = std::filesystem;
using namespace itest;

namespace {

constexpr uid_t kNobody = 65534;

std::string nginx_binary() {
  for (const char* p : {"/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"})
    if (::access(p, X_OK) == 0) return p;
  return {};
}

void give_to_nobody(const fs::path& p) {
  REQUIRE(::chown(p.c_str(), kNobody, kNobody) == 0);
}

// What the upstream listeners answer: which one, and the request as it reached it.
std::string upstream_server(int port, const std::string& name) {
  return "    server {\n        listen 127.0.0.1:" + std::to_string(port) +
         ";\n        location / {\n            default_type text/plain;\n"
         "            return 200 \"upstream=" +
         name +
         " host=$http_host proto=$http_x_forwarded_proto real=$http_x_real_ip "
         "xff=$http_x_forwarded_for upgrade=$http_upgrade connection=$http_connection "
         "uri=$request_uri\\n\";\n        }\n    }\n";
}

// A foreground nginx run as nobody; stopped with SIGQUIT (graceful) when destroyed.
class Nginx {
 public:
  Nginx(const std::string& binary, const fs::path& prefix) {
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)
        ::_exit(126);
      std::string p = prefix.string() + "/", conf = "nginx.conf",
                  err = (prefix / "error.log").string();
      ::execl(binary.c_str(), "nginx", "-p", p.c_str(), "-c", conf.c_str(), "-e", err.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;
  ~Nginx() {
    if (pid_ <= 0 || !running()) return;
    ::kill(pid_, SIGQUIT);
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  bool running() {
    if (!exited_ && ::waitpid(pid_, nullptr, WNOHANG) == pid_) exited_ = true;
    return !exited_;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

}  // namespace

TEST_CASE("nginx accepts the generated sites as nobody and proxies through them", "[nginx]") {
  const std::string nginx = nginx_binary();
  if (nginx.empty()) portman::test::skip_test("no nginx binary (install nginx-light)");
  if (::access("/usr/bin/openssl", X_OK) != 0)
    portman::test::skip_test("no openssl to make the test certificate");

  TempDir tmp;
  const fs::path dir = tmp / "nginx";  // nginx's prefix: config, pid, logs, temp folders
  fs::create_directories(dir / "certs");
  for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
    fs::create_directories(dir / "temp" / t);

  // One self-signed certificate, under each name the {domain} template asks for.
  auto made =
      run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
           "-nodes", "-days", "2", "-subj", "/CN=example.com", "-keyout",
           (dir / "key.pem").string(), "-out", (dir / "cert.pem").string()});
  REQUIRE(made.code == 0);
  for (const char* host : {"shop.example.com", "grafana.example.com"}) {
    fs::copy_file(dir / "cert.pem", dir / "certs" / (std::string(host) + ".crt"));
    fs::copy_file(dir / "key.pem", dir / "certs" / (std::string(host) + ".key"));
  }

  auto sites = run({NGINX_CONFIG_TOOL_BIN, "--cert", (dir / "certs/{domain}.crt").string(), "--key",
                    (dir / "certs/{domain}.key").string(), "--listen", "127.0.0.1", "--http-port",
                    "18080", "--https-port", "18443"});
  INFO(sites.err);
  REQUIRE(sites.code == 0);
  // The generator's text as it is: the HTTPS blocks and the ambiguity flag are there.
  REQUIRE(sites.out.find("listen 127.0.0.1:18443 ssl;") != std::string::npos);
  REQUIRE(sites.out.find("# AMBIGUOUS: host port 8080") != std::string::npos);
  write_file(dir / "sites.conf", sites.out);

  const std::string d = dir.string();
  write_file(dir / "nginx.conf",
             "daemon off;\nworker_processes 1;\npid " + d + "/nginx.pid;\nerror_log " + d +
                 "/error.log;\nevents { worker_connections 64; }\nhttp {\n    access_log " + d +
                 "/access.log;\n    client_body_temp_path " + d +
                 "/temp/client_body;\n    proxy_temp_path " + d +
                 "/temp/proxy;\n"
                 "    fastcgi_temp_path " +
                 d + "/temp/fastcgi;\n    uwsgi_temp_path " + d +
                 "/temp/uwsgi;\n    scgi_temp_path " + d + "/temp/scgi;\n    include " + d +
                 "/sites.conf;\n" + upstream_server(8080, "shop-web") +
                 upstream_server(3001, "grafana") + upstream_server(9091, "prometheus") + "}\n");
  // nobody owns the prefix (the checkout may be under /root, mode 0700: nothing is read there).
  for (const auto& entry : fs::recursive_directory_iterator(dir)) give_to_nobody(entry.path());
  give_to_nobody(dir);

  RunOptions as_nobody;
  as_nobody.uid = kNobody;
  auto checked = run({nginx, "-t", "-q", "-p", d + "/", "-c", "nginx.conf", "-e", d + "/error.log"},
                     as_nobody);
  INFO("nginx -t: " << checked.out << checked.err << read_file(dir / "error.log"));
  REQUIRE(checked.code == 0);

  Nginx server(nginx, dir);
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    up = curl({"-o", "/dev/null", "http://127.0.0.1:18080/"}).code == 0;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO(read_file(dir / "error.log"));
  REQUIRE(up);

  SECTION("plain HTTP to the ambiguous staging domain reaches host port 8080") {
    auto r = curl({"-H", "Host: staging.shop.example.com", "http://127.0.0.1:18080/cart?id=7"});
    REQUIRE(r.code == 0);
    CHECK(r.out ==
          "upstream=shop-web host=staging.shop.example.com proto=http real=127.0.0.1 "
          "xff=127.0.0.1 upgrade= connection=close uri=/cart?id=7\n");
  }
  SECTION("an HTTPS domain's plain HTTP is redirected to the HTTPS port") {
    auto r = curl({"-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H",
                   "Host: shop.example.com", "http://127.0.0.1:18080/a?b=1"});
    REQUIRE(r.code == 0);
    CHECK(r.out == "301 https://shop.example.com:18443/a?b=1");
  }
  SECTION("HTTPS with the configured certificate reaches shop-web with the client headers") {
    auto r = curl({"-k", "--resolve", "shop.example.com:18443:127.0.0.1", "-H",
                   "X-Forwarded-For: 203.0.113.9", "https://shop.example.com:18443/x"});
    REQUIRE(r.code == 0);
    CHECK(r.out ==
          "upstream=shop-web host=shop.example.com proto=https real=127.0.0.1 "
          "xff=203.0.113.9, 127.0.0.1 upgrade= connection=close uri=/x\n");
  }
  SECTION("a websocket upgrade's headers reach grafana's compose port") {
    auto r =
        curl({"-k", "--resolve", "grafana.example.com:18443:127.0.0.1", "-H", "Upgrade: websocket",
              "-H", "Connection: Upgrade", "https://grafana.example.com:18443/api/live/ws"});
    REQUIRE(r.code == 0);
    CHECK(r.out ==
          "upstream=grafana host=grafana.example.com proto=https real=127.0.0.1 xff=127.0.0.1 "
          "upgrade=websocket connection=upgrade uri=/api/live/ws\n");
  }
  SECTION("a path location reaches the compose port bound to 127.0.0.1") {
    auto r = curl({"-H", "Host: metrics.example.com", "http://127.0.0.1:18080/prometheus/graph"});
    REQUIRE(r.code == 0);
    CHECK(r.out.rfind("upstream=prometheus host=metrics.example.com proto=http ", 0) == 0);
    CHECK(r.out.find(" uri=/prometheus/graph\n") != std::string::npos);
  }
  CHECK(server.running());
}
