// What the unit tests share: fixture files, and hand-built live state and registries (no
// kernel, no /proc).
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "libportman/live_state.hpp"
#include "libportman/registry.hpp"
#include "unit/skip.hpp"

namespace portman::test {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A sanitizer build (PORTMAN_SANITIZE) runs several times slower, unoptimised: the time limits
// of tests that prove an algorithm is not quadratic stretch with it.
#ifdef PORTMAN_SANITIZED
inline constexpr double kTimeScale = 5;
#else
inline constexpr double kTimeScale = 1;
#endif

// Wall-clock seconds that f() takes.
template <class F>
double seconds(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline Owner owner(pid_t pid, std::string process, std::string exe = {}, std::string cmdline = {}) {
  Owner o;
  o.pid = pid;
  o.process = std::move(process);
  o.exe = std::move(exe);
  o.cmdline = std::move(cmdline);
  o.user = pid == 1 ? "root" : "svc";
  return o;
}

// One listening socket; the family follows the address. `inode` must differ between sockets
// unless they are the same socket.
inline ListeningSocket sock(std::string address, std::uint16_t port, std::vector<Owner> owners,
                            std::uint64_t inode, Protocol protocol = Protocol::tcp,
                            bool v6only = false) {
  ListeningSocket s;
  s.protocol = protocol;
  s.address = std::move(address);
  s.family = s.address.find(':') != std::string::npos ? Family::ipv6 : Family::ipv4;
  s.port = port;
  s.v6only = v6only;
  s.inode = inode;
  s.owners = std::move(owners);
  return s;
}

inline Registry registry(const std::string& allocations_json) {
  auto r = Registry::parse("{\"allocations\": " + allocations_json + "}", "test-registry.json");
  if (!r) FAIL(r.error().message);
  return std::move(r).value();
}

}  // namespace portman::test
