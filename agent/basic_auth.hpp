// HTTP basic auth against bcrypt hashes, verified with libcrypt's crypt_r. bcrypt is slow on
// purpose (~70 ms at cost 10), so each answer is remembered for the pair that got it: a scrape
// every few seconds costs one keyed hash, not one bcrypt, and a client repeating a wrong password
// is refused from memory. Pairs are kept as HMAC-SHA256 digests under a key drawn at start, never
// in clear, in two bounded sets (oldest out first).
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace portman::agent {

struct AgentLibraries;

// A set that forgets its oldest entry beyond `capacity`.
class BoundedSet {
 public:
  explicit BoundedSet(std::size_t capacity) : capacity_(capacity) {}
  bool contains(const std::string& key) const { return set_.count(key) != 0; }
  void insert(const std::string& key);
  std::size_t size() const { return set_.size(); }

 private:
  std::size_t capacity_;
  std::unordered_set<std::string> set_;
  std::deque<std::string> order_;
};

class BasicAuth {
 public:
  enum class Check { allowed, denied, needs_bcrypt };
  static constexpr std::size_t kAllowedCapacity = 64;  // right pairs: one or two per user
  static constexpr std::size_t kDeniedCapacity = 4096;

  explicit BasicAuth(std::map<std::string, std::string> users);
  bool enabled() const { return !users_.empty(); }
  // Without bcrypt: a malformed header or a remembered pair is decided, anything else needs
  // verify(). `authorization` is the Authorization header value ("Basic base64(user:pass)").
  Check check(std::string_view authorization);
  // One bcrypt (also for an unknown user, so timing does not tell which users exist); the answer
  // is remembered for check().
  bool verify(std::string_view authorization);
  // check(), then verify() when needed.
  bool allows(std::string_view authorization);

 private:
  std::string digest(const std::string& user, const std::string& password) const;

  std::map<std::string, std::string> users_;
  const AgentLibraries* libs_ = nullptr;  // GnuTLS and libcrypt (agent_libraries.hpp)
  std::array<unsigned char, 32> key_{};   // HMAC key, random per process
  std::mutex mu_;
  BoundedSet allowed_{kAllowedCapacity};
  BoundedSet denied_{kDeniedCapacity};
};

}  // namespace portman::agent
