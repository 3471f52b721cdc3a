// gzip_compress against the gzip program: what it writes must test clean (CRC and size) and
// decompress to the input, for bodies that compress as /metrics does and for ones that do not
// (its output buffer starts small and grows).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "agent/http_gzip.hpp"
#include "unit/support.hpp"

using portman::agent::gzip_compress;

namespace {

// What `gzip -dc` makes of `gz`, and whether `gzip -t` passed it; through a file, as gzip reads.
struct Gunzipped {
  bool intact = false;
  std::string text;
};

Gunzipped gunzip(const std::string& gz) {
  char path[] = "/tmp/portman-gzip-test.XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, gz.data(), gz.size()) == static_cast<ssize_t>(gz.size()));
  ::close(fd);
  Gunzipped out;
  const std::string quoted = std::string("'") + path + "'";
  out.intact = std::system(("gzip -t < " + quoted + " 2>/dev/null").c_str()) == 0;
  if (FILE* pipe = ::popen(("gzip -dc < " + quoted + " 2>/dev/null").c_str(), "r")) {
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.text.append(buf, n);
    ::pclose(pipe);
  }
  ::unlink(path);
  return out;
}

// Text like /metrics, `bytes` long; with `noise`, every other line is random bytes, which do not
// compress (the output buffer has to grow).
std::string body(std::size_t bytes, bool noise) {
  std::mt19937 random(7);
  std::string out;
  for (int line = 0; out.size() < bytes; ++line) {
    if (noise && line % 2) {
      for (int i = 0; i < 100; ++i) out += static_cast<char>(random() & 0xff);
      out += '\n';
    } else {
      out += "portman_listening_port_info{port=\"" + std::to_string(20000 + line % 3000) +
             "\",protocol=\"tcp\",address=\"0.0.0.0\",process=\"svc\"} 1\n";
    }
  }
  out.resize(bytes);
  return out;
}

}  // namespace

TEST_CASE("gzip: bodies of any size decompress to themselves, CRC and size intact") {
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{4096}, std::size_t{128 * 1024 - 1},
        std::size_t{128 * 1024}, std::size_t{600 * 1024}, std::size_t{3 * 1024 * 1024 + 7}}) {
    for (bool noise : {false, true}) {
      INFO("size " << size << (noise ? ", half random" : ""));
      const std::string text = body(size, noise);
      auto gz = gzip_compress(text);
      REQUIRE(gz);
      REQUIRE(gz->size() >= 18);  // header and trailer
      CHECK(gz->substr(0, 3) == "\x1f\x8b\x08");
      if (!noise && size >= 4096) CHECK(gz->size() < text.size() / 5);
      Gunzipped back = gunzip(*gz);
      CHECK(back.intact);
      CHECK(back.text == text);
    }
  }
}
