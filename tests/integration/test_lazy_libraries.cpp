// Libraries opened at first use (libportman/shared_library.hpp): a command that does not need
// libcurl or the agent's libraries runs without them, and one that does fails in one line
// naming the library and its Debian package. A library that cannot be loaded is simulated by an
// empty file of its soname first on LD_LIBRARY_PATH (dlopen and the dynamic loader both look
// there before the system's copy).
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "harness.hpp"

using itest::TempDir;
using nlohmann::json;

namespace {

const char* const kLazy[] = {"libcurl.so.4", "libmicrohttpd.so.12", "libgnutls.so.30", "libz.so.1",
                             "libcrypt.so.1"};

// A folder holding an empty (unloadable) file for each soname; its path.
std::string broken_libraries(const TempDir& dir) {
  auto folder = dir / "broken-libs";
  std::filesystem::create_directories(folder);
  for (const char* soname : kLazy) itest::write_file(folder / soname, "");
  return folder.string();
}

json collector_run(const json& report, const std::string& name) {
  for (const json& r : report["collectors"])
    if (r["collector"] == name) return r;
  return json();
}

// A unix socket that accepts connections (the kernel's backlog) and never answers: enough for
// the docker source's probe to go on to its HTTP request.
class SilentSocket {
 public:
  explicit SilentSocket(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof a.sun_path);
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
  }
  SilentSocket(const SilentSocket&) = delete;
  SilentSocket& operator=(const SilentSocket&) = delete;
  ~SilentSocket() { ::close(fd_); }

 private:
  int fd_;
};

}  // namespace

TEST_CASE("scan and version run with every lazily loaded library unloadable") {
  TempDir dir;
  itest::RunOptions opts{.env = {{"LD_LIBRARY_PATH", broken_libraries(dir)}}};
  auto version = itest::portman({"version"}, opts);
  INFO(version.err);
  CHECK(version.code == 0);
  // No Docker socket: the docker source never makes a request, so libcurl is never opened.
  const std::string missing = "unix://" + (dir / "no-docker.sock").string();
  auto scan = itest::portman(
      {"scan", "--json", "--docker.host", missing, "--registry", (dir / "reg.json").string()},
      opts);
  INFO(scan.err);
  REQUIRE(scan.code == 0);
  CHECK(collector_run(scan.json(), "sockets")["success"] == true);
  CHECK(collector_run(scan.json(), "docker")["success"] == true);
}

TEST_CASE("docker: an unloadable libcurl fails the source in one line naming libcurl4") {
  TempDir dir;
  const std::string sock = (dir / "docker.sock").string();
  SilentSocket daemon(sock);
  itest::RunOptions opts{.env = {{"LD_LIBRARY_PATH", broken_libraries(dir)}}};
  auto r = itest::portman({"scan", "--json", "--docker.host", "unix://" + sock, "--registry",
                           (dir / "reg.json").string()},
                          opts);
  INFO(r.err);
  json run = collector_run(r.json(), "docker");
  CHECK(run["success"] == false);
  std::string error = run["error"];
  CHECK(error.find("cannot load libcurl.so.4 (install the Debian package libcurl4)") !=
        std::string::npos);
  CHECK(error.find('\n') == std::string::npos);
  CHECK(collector_run(r.json(), "sockets")["success"] == true);  // the rest as before
}

TEST_CASE("agent: an unloadable libmicrohttpd stops it at start in one line naming the package") {
  TempDir dir;
  // `timeout`: were the library not checked at start, the agent would run instead of failing.
  auto r = itest::run(
      {"timeout", "20", PORTMAN_BIN, "--registry", (dir / "reg.json").string(), "agent",
       "--web.listen-address", "127.0.0.1:0"},
      {.env = {{"LD_LIBRARY_PATH", broken_libraries(dir)}, {"PORTMAN_CONFIG", "/dev/null"}}});
  INFO(r.err);
  CHECK(r.code != 0);
  CHECK(r.code != 124);  // not stopped by timeout
  CHECK(
      r.err.find("cannot load libmicrohttpd.so.12 (install the Debian package libmicrohttpd12)") !=
      std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}
