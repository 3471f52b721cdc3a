// The kernel's ephemeral port range, read from PROCFS/sys/net/ipv4/ip_local_port_range.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "collectors/sockets.hpp"

using namespace portman;
namespace fs = std::filesystem;

namespace {

struct FakeProcfs {
  fs::path root;
  FakeProcfs() {
    char tmpl[] = "/tmp/portman-procfs-XXXXXX";
    root = ::mkdtemp(tmpl);
    fs::create_directories(root / "sys/net/ipv4");
  }
  ~FakeProcfs() { fs::remove_all(root); }
  void range(const std::string& text) const {
    std::ofstream(root / "sys/net/ipv4/ip_local_port_range") << text;
  }
};

}  // namespace

TEST_CASE("the ephemeral range is read as the kernel writes it (tab-separated)") {
  FakeProcfs p;
  p.range("32768\t60999\n");
  auto r = read_ephemeral_ports(p.root);
  REQUIRE(r);
  CHECK(r->first == 32768);
  CHECK(r->second == 60999);
}

TEST_CASE("a missing or malformed ephemeral range is unknown, not a guess") {
  FakeProcfs p;
  CHECK_FALSE(read_ephemeral_ports(p.root));
  for (const char* bad : {"", "abc def", "60999 32768", "0 100", "1000 70000", "1000"}) {
    p.range(bad);
    CHECK_FALSE(read_ephemeral_ports(p.root));
  }
}

TEST_CASE("this machine's own ephemeral range is readable") {
  auto r = read_ephemeral_ports("/proc");
  REQUIRE(r);
  CHECK(r->first <= r->second);
}
