// The agent's libraries, opened when it starts (agent/agent_libraries.hpp): each missing one is
// one line naming it and its Debian package; the installed ones load with every function bound.
#include <catch2/catch.hpp>

#include <string>

#include "agent/agent_libraries.hpp"

using namespace portman;
using namespace portman::agent;

namespace {

constexpr const char* kAbsent = "libportman-test-absent.so.9";

std::string expected(const std::string& package) {
  return std::string("cannot load ") + kAbsent + " (install the Debian package " + package + "): ";
}

template <class R>
std::string message(const R& r) {
  return r ? std::string() : r.error().message;
}

}  // namespace

TEST_CASE("a missing agent library names its Debian package") {
  auto mhd = load_mhd_api(kAbsent);
  auto gnutls = load_gnutls_api(kAbsent);
  auto crypt = load_crypt_api(kAbsent);
  auto zlib = load_zlib_api(kAbsent);
  CHECK(message(mhd).rfind(expected("libmicrohttpd12"), 0) == 0);
  CHECK(message(gnutls).rfind(expected("libgnutls30"), 0) == 0);
  CHECK(message(crypt).rfind(expected("libcrypt1"), 0) == 0);
  CHECK(message(zlib).rfind(expected("zlib1g"), 0) == 0);
  CHECK(message(mhd).find('\n') == std::string::npos);
}

TEST_CASE("a library lacking a function the agent calls is refused naming the function") {
  auto mhd = load_mhd_api("libc.so.6");
  REQUIRE_FALSE(mhd);
  CHECK(message(mhd).find("libc.so.6 has no function MHD_start_daemon") != std::string::npos);
}

TEST_CASE("the installed agent libraries load with every function bound") {
  auto libraries = agent_libraries();
  INFO(message(libraries));
  REQUIRE(libraries);
  const AgentLibraries& l = **libraries;
  CHECK(l.mhd.library.soname() == kMhdSoname);
  CHECK(l.mhd.destroy_response != nullptr);
  CHECK(l.gnutls.strerror != nullptr);
  CHECK(l.crypt.crypt_hash != nullptr);
  CHECK(l.zlib.deflate_end != nullptr);
  CHECK(l.mhd.is_feature_supported(MHD_FEATURE_THREADS) == MHD_YES);
  auto again = agent_libraries();
  REQUIRE(again);
  CHECK(*again == *libraries);
}
