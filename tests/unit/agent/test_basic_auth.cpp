// Basic auth against bcrypt hashes (htpasswd -nbBC 10), with the verified-pair cache.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "agent/basic_auth.hpp"

using namespace portman::agent;

namespace {

// htpasswd -nbBC 10 alice s3cret / bob hunter2
const std::map<std::string, std::string> kUsers = {
    {"alice", "$2y$10$fHBC5bZGYVgTKkGuq6tdV.se8oNhcjtoG56cbUlQxrv/uoTedeBw."},
    {"bob", "$2y$10$lZHMBmqbrjP0H1Bz.PkQGuMtyy9XEupCsUOc/ALbFvXpEhqVEon96"},
};

std::string base64(const std::string& in) {
  static const char* const kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3F];
  while (out.size() % 4) out += '=';
  return out;
}

std::string basic(const std::string& user, const std::string& pass) {
  return "Basic " + base64(user + ":" + pass);
}

double seconds_of(BasicAuth& auth, const std::string& header, bool& result) {
  auto t0 = std::chrono::steady_clock::now();
  result = auth.allows(header);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("Basic auth accepts the right password for each user") {
  BasicAuth auth(kUsers);
  CHECK(auth.enabled());
  CHECK(auth.allows(basic("alice", "s3cret")));
  CHECK(auth.allows(basic("bob", "hunter2")));
}

TEST_CASE("Basic auth refuses a wrong password and another user's password") {
  BasicAuth auth(kUsers);
  CHECK_FALSE(auth.allows(basic("alice", "wrong")));
  CHECK_FALSE(auth.allows(basic("alice", "hunter2")));
  CHECK_FALSE(auth.allows(basic("alice", "")));
  CHECK_FALSE(auth.allows(basic("alice", "s3cret ")));
  // A NUL would end the phrase given to crypt_r: "s3cret\0x" must not pass as "s3cret".
  CHECK_FALSE(auth.allows(basic("alice", std::string("s3cret\0x", 8))));
}

TEST_CASE("Basic auth refuses an unknown user after paying one bcrypt") {
  BasicAuth auth(kUsers);
  bool ok = true;
  double unknown = seconds_of(auth, basic("mallory", "s3cret"), ok);
  CHECK_FALSE(ok);
  double known = seconds_of(auth, basic("alice", "wrong"), ok);
  CHECK_FALSE(ok);
  // Same order of cost: timing does not tell whether a user exists.
  CHECK(unknown > known / 5);
}

TEST_CASE("Basic auth refuses malformed Authorization headers") {
  BasicAuth auth(kUsers);
  for (const std::string& h :
       {std::string(""), std::string("Basic"), std::string("Basic "),
        std::string("Bearer ") + base64("alice:s3cret"), std::string("Basic !!!notbase64!!!"),
        std::string("Basic ") + base64("alice"),          // no colon
        std::string("Basic ") + base64(":s3cret"),        // no user
        std::string("Basicx ") + base64("alice:s3cret"),  // not the scheme
        std::string("Basic ") + std::string(5000, 'A')}) {
    CHECK_FALSE(auth.allows(h));
  }
}

TEST_CASE("Basic auth accepts the scheme in any case and without padding") {
  BasicAuth auth(kUsers);
  std::string token = base64("alice:s3cret");
  CHECK(auth.allows("basic " + token));
  CHECK(auth.allows("BASIC   " + token + "  "));
  while (!token.empty() && token.back() == '=') token.pop_back();
  CHECK(auth.allows("Basic " + token));
}

TEST_CASE("Basic auth without users is disabled and allows everything") {
  BasicAuth auth({});
  CHECK_FALSE(auth.enabled());
  CHECK(auth.allows(""));
}

TEST_CASE("A repeated verification is served from the cache much faster than bcrypt") {
  BasicAuth auth(kUsers);
  bool ok = false;
  double first = seconds_of(auth, basic("bob", "hunter2"), ok);
  REQUIRE(ok);
  double second = seconds_of(auth, basic("bob", "hunter2"), ok);
  REQUIRE(ok);
  CHECK(second < first / 5);
  // A wrong password costs a bcrypt the first time, then it is refused from memory too.
  double wrong = seconds_of(auth, basic("bob", "nope"), ok);
  CHECK_FALSE(ok);
  CHECK(wrong > second);
  double wrong_again = seconds_of(auth, basic("bob", "nope"), ok);
  CHECK_FALSE(ok);
  CHECK(wrong_again < wrong / 5);
}

TEST_CASE("check decides without bcrypt only what it has seen or cannot parse") {
  BasicAuth auth(kUsers);
  using Check = BasicAuth::Check;
  CHECK(auth.check(basic("alice", "s3cret")) == Check::needs_bcrypt);
  CHECK(auth.check(basic("alice", "wrong")) == Check::needs_bcrypt);
  CHECK(auth.check(basic("mallory", "x")) == Check::needs_bcrypt);
  CHECK(auth.check("Bearer abc") == Check::denied);  // malformed: no bcrypt needed
  CHECK(auth.verify(basic("alice", "s3cret")));
  CHECK_FALSE(auth.verify(basic("alice", "wrong")));
  CHECK_FALSE(auth.verify(basic("mallory", "x")));
  CHECK(auth.check(basic("alice", "s3cret")) == Check::allowed);
  CHECK(auth.check(basic("alice", "wrong")) == Check::denied);
  CHECK(auth.check(basic("mallory", "x")) == Check::denied);
  // Another user with alice's password is another pair.
  CHECK(auth.check(basic("bob", "s3cret")) == Check::needs_bcrypt);
  // Disabled auth allows everything without a check.
  BasicAuth none({});
  CHECK(none.check("") == Check::allowed);
}

TEST_CASE("The remembered pairs are bounded and the oldest go first") {
  BoundedSet set(3);
  for (const char* k : {"a", "b", "c", "d"}) set.insert(k);
  CHECK(set.size() == 3);
  CHECK_FALSE(set.contains("a"));
  CHECK(set.contains("b"));
  CHECK(set.contains("d"));
  set.insert("b");  // already there: no change of order or size
  set.insert("e");
  CHECK_FALSE(set.contains("b"));
  CHECK(set.size() == 3);
  BasicAuth auth(kUsers);
  for (int i = 0; i < 20; ++i) auth.verify(basic("alice", "guess" + std::to_string(i)));
  CHECK(BasicAuth::kDeniedCapacity >= 20);
  CHECK(auth.check(basic("alice", "guess0")) == BasicAuth::Check::denied);
}
