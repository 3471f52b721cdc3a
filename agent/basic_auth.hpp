// HTTP basic auth against bcrypt hashes, verified with libcrypt's crypt_r. bcrypt is slow on
// purpose (~50 ms at cost 10), so a verified user:password pair is cached (as a SHA-256-keyed
// set, never the password itself) and a scrape every few seconds costs one hash, not one bcrypt.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace portman::agent {

class BasicAuth {
 public:
  explicit BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {}
  bool enabled() const { return !users_.empty(); }
  // `authorization` is the request's Authorization header value ("Basic base64(user:pass)").
  bool allows(std::string_view authorization);

 private:
  std::map<std::string, std::string> users_;
  std::mutex mu_;
  std::set<std::string> verified_;  // digests of user:password pairs that passed bcrypt
};

}  // namespace portman::agent
