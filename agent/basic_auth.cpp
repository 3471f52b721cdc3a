#include "agent/basic_auth.hpp"

#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "agent/agent_libraries.hpp"

namespace portman::agent {
namespace {

constexpr std::size_t kMaxAuthorization = 4096;  // longer is not a credential we issued

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard alphabet; '=' padding optional but only at the end.
std::optional<std::string> base64_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = base64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

struct Credentials {
  std::string user, password;
};

// "Basic dXNlcjpwYXNz" (scheme case-insensitive) -> user, password.
std::optional<Credentials> parse_basic(std::string_view h) {
  if (h.size() > kMaxAuthorization) return std::nullopt;
  auto trim = [](std::string_view& s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  };
  trim(h);
  if (h.size() < 6 || !iequals(h.substr(0, 5), "basic") || (h[5] != ' ' && h[5] != '\t'))
    return std::nullopt;
  h.remove_prefix(6);
  trim(h);
  auto decoded = base64_decode(h);
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  // crypt_r stops at a NUL: "pass\0junk" would otherwise verify as "pass".
  if (decoded->find('\0') != std::string::npos) return std::nullopt;
  return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// One bcrypt: the phrase hashed with the setting (salt and cost) taken from `hash`.
bool bcrypt_matches(const CryptApi& crypt, const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: too big for a thread's stack
  const char* out = crypt.crypt_hash(password.c_str(), hash.c_str(), data.get());
  if (out == nullptr || out[0] == '*') return false;  // "*0"/"*1": libxcrypt's failure tokens
  return constant_time_equal(out, hash);
}

}  // namespace

void BoundedSet::insert(const std::string& key) {
  if (capacity_ == 0 || !set_.insert(key).second) return;
  order_.push_back(key);
  if (order_.size() > capacity_) {
    set_.erase(order_.front());
    order_.pop_front();
  }
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {
  // Without randomness the key stays zero: the digests are still never the password.
  // Without the libraries (the agent checks them at start) every check is denied, never allowed.
  if (auto libraries = agent_libraries()) libs_ = *libraries;
  if (libs_) libs_->gnutls.rnd(GNUTLS_RND_KEY, key_.data(), key_.size());
}

std::string BasicAuth::digest(const std::string& user, const std::string& password) const {
  std::string text = user + ':' + password;
  std::array<unsigned char, 32> out{};
  if (!libs_) return {};
  if (libs_->gnutls.hmac_fast(GNUTLS_MAC_SHA256, key_.data(), key_.size(), text.data(), text.size(),
                              out.data()) < 0)
    return {};  // empty: never remembered
  return std::string(reinterpret_cast<const char*>(out.data()), out.size());
}

BasicAuth::Check BasicAuth::check(std::string_view authorization) {
  if (users_.empty()) return Check::allowed;
  auto creds = parse_basic(authorization);
  if (!creds) return Check::denied;
  std::string key = digest(creds->user, creds->password);
  if (key.empty()) return Check::needs_bcrypt;
  std::lock_guard lock(mu_);
  if (allowed_.contains(key)) return Check::allowed;
  if (denied_.contains(key)) return Check::denied;
  return Check::needs_bcrypt;
}

bool BasicAuth::verify(std::string_view authorization) {
  if (users_.empty()) return true;
  auto creds = parse_basic(authorization);
  if (!creds) return false;
  auto it = users_.find(creds->user);
  // An unknown user pays the same bcrypt as a known one.
  bool ok = libs_ &&
            bcrypt_matches(libs_->crypt, creds->password,
                           it == users_.end() ? users_.begin()->second : it->second) &&
            it != users_.end();
  std::string key = digest(creds->user, creds->password);
  if (!key.empty()) {
    std::lock_guard lock(mu_);
    (ok ? allowed_ : denied_).insert(key);
  }
  return ok;
}

bool BasicAuth::allows(std::string_view authorization) {
  switch (check(authorization)) {
    case Check::allowed:
      return true;
    case Check::denied:
      return false;
    case Check::needs_bcrypt:
      break;
  }
  return verify(authorization);
}

}  // namespace portman::agent
