#include "agent/basic_auth.hpp"

#include <crypt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <array>
#include <cstring>
#include <memory>
#include <optional>

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
bool bcrypt_matches(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: too big for a thread's stack
  const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
  if (out == nullptr || out[0] == '*') return false;  // "*0"/"*1": libxcrypt's failure tokens
  return constant_time_equal(out, hash);
}

std::optional<std::string> sha256(std::string_view s) {
  std::array<unsigned char, 32> digest{};
  if (gnutls_hash_fast(GNUTLS_DIG_SHA256, s.data(), s.size(), digest.data()) < 0)
    return std::nullopt;
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

}  // namespace

bool BasicAuth::allows(std::string_view authorization) {
  if (users_.empty()) return true;
  auto creds = parse_basic(authorization);
  if (!creds) return false;
  auto it = users_.find(creds->user);
  if (it == users_.end()) {
    // Same cost as a real user's check, so timing does not tell which users exist.
    bcrypt_matches(creds->password, users_.begin()->second);
    return false;
  }
  auto key = sha256(creds->user + ':' + creds->password);
  if (key) {
    std::lock_guard lock(mu_);
    if (verified_.count(*key)) return true;
  }
  // bcrypt outside the lock: concurrent first scrapes verify in parallel.
  if (!bcrypt_matches(creds->password, it->second)) return false;
  if (key) {
    std::lock_guard lock(mu_);
    verified_.insert(std::move(*key));  // at most one pair per user can ever pass bcrypt
  }
  return true;
}

}  // namespace portman::agent
