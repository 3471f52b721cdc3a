// Libraries opened at first use (libportman/shared_library.hpp, curl_api.hpp): a missing or too
// old library is one line naming it and the Debian package to install.
#include <catch2/catch.hpp>

#include <string>

#include "libportman/curl_api.hpp"
#include "libportman/shared_library.hpp"

using namespace portman;

namespace {

constexpr const char* kAbsent = "libportman-test-absent.so.9";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a library that is not installed is one line naming it and its Debian package") {
  auto lib = SharedLibrary::open(kAbsent, "portman-test-package");
  REQUIRE_FALSE(lib);
  const std::string& m = lib.error().message;
  INFO(m);
  CHECK(lib.error().kind == ErrorKind::io);
  CHECK(m.rfind("cannot load libportman-test-absent.so.9 (install the Debian package "
                "portman-test-package): ",
                0) == 0);
  CHECK(contains(m, "No such file"));  // dlerror's reason follows
  CHECK_FALSE(contains(m, "\n"));
}

TEST_CASE("a missing libcurl names libcurl4") {
  auto api = load_curl_api(kAbsent);
  REQUIRE_FALSE(api);
  INFO(api.error().message);
  CHECK(contains(api.error().message,
                 std::string("cannot load ") + kAbsent + " (install the Debian package libcurl4)"));
}

TEST_CASE("a library without one of the functions is refused naming the function") {
  // libc loads, but has no curl_global_init: what a too old or a wrong libcurl.so.4 would give.
  auto api = load_curl_api("libc.so.6");
  REQUIRE_FALSE(api);
  INFO(api.error().message);
  CHECK(contains(api.error().message, "libc.so.6 has no function curl_global_init"));
  CHECK(contains(api.error().message, "libcurl4"));
}

TEST_CASE("the installed libcurl loads with every function bound, once per process") {
  auto api = load_curl_api();
  INFO((api ? "" : api.error().message));
  REQUIRE(api);
  CHECK(api->library.soname() == kCurlSoname);
  CHECK(api->easy_init != nullptr);
  CHECK(api->multi_poll != nullptr);
  CHECK(api->multi_cleanup != nullptr);
  auto first = curl_api();
  REQUIRE(first);
  auto second = curl_api();
  REQUIRE(second);
  CHECK(*first == *second);  // the same table: loaded and initialised once
  CURL* easy = (*first)->easy_init();
  REQUIRE(easy != nullptr);
  (*first)->easy_cleanup(easy);
}
