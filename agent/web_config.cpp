#include "agent/web_config.hpp"

#include <fcntl.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string_view>
#include <vector>

#include "agent/agent_libraries.hpp"
#include "libportman/unique_fd.hpp"
#include "libportman/whole_file.hpp"
#include "libportman/yaml_load.hpp"

namespace portman::agent {
namespace {

// http_server_config (HTTP/2 switch, extra headers) is refused as a whole: portman serves
// HTTP/1.1 only and sets its own headers, and silently ignoring a security header that the user
// asked for would be worse than refusing to start.
const std::vector<std::string> kTopKeys = {"tls_server_config", "basic_auth_users"};
const std::vector<std::string> kTopUnsupported = {"http_server_config", "rate_limit"};
const std::vector<std::string> kTlsKeys = {"cert_file", "key_file", "min_version", "max_version"};
const std::vector<std::string> kTlsUnsupported = {"cert",
                                                  "key",
                                                  "client_auth_type",
                                                  "client_ca_file",
                                                  "cipher_suites",
                                                  "curve_preferences",
                                                  "prefer_server_cipher_suites",
                                                  "client_allowed_sans"};
const std::vector<std::string> kTlsVersions = {"TLS10", "TLS11", "TLS12", "TLS13"};

constexpr std::size_t kMaxPemBytes = 1 << 20;  // a certificate chain is a few KiB

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Every mistake becomes one invalid_data Error naming file:line:column.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  Error error(const YAML::Mark& m, const std::string& what) const {
    std::string where = source_;
    if (!m.is_null())
      where += ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    return make_error(ErrorKind::invalid_data, where + ": " + what);
  }
  Error error(const YAML::Node& n, const std::string& what) const { return error(n.Mark(), what); }

  Result<std::string> scalar(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) return error(n, key + ": expected a single value, not a list or map");
    return n.Scalar();
  }

  // Checks a map's keys: unsupported ones and unknown ones are refused, duplicates too.
  Status keys(const YAML::Node& map, const std::string& where,
              const std::vector<std::string>& allowed,
              const std::vector<std::string>& unsupported) const {
    if (!map.IsMap())
      return error(
          map, (where.empty() ? std::string("web config") : where) + ": expected a map of keys");
    std::set<std::string> seen;
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      std::string full = where.empty() ? key : where + "." + key;
      if (contains(unsupported, key))
        return error(kv.first,
                     "'" + full + "' is not supported by portman; valid keys: " + join(allowed));
      if (!contains(allowed, key))
        return error(kv.first, "unknown key '" + full + "'; valid keys: " + join(allowed));
      if (!seen.insert(key).second) return error(kv.first, "duplicate key '" + full + "'");
    }
    return {};
  }

 private:
  std::string source_;
};

struct CredentialsFree {
  const GnutlsApi* gnutls = nullptr;
  void operator()(gnutls_certificate_credentials_t c) const {
    gnutls->certificate_free_credentials(c);
  }
};
using Credentials =
    std::unique_ptr<std::remove_pointer_t<gnutls_certificate_credentials_t>, CredentialsFree>;

gnutls_datum_t datum(const std::string& s) {
  // GnuTLS only reads through this pointer.
  return {reinterpret_cast<unsigned char*>(const_cast<char*>(s.data())),
          static_cast<unsigned>(s.size())};
}

// Loads the pair the way the server will, so a bad PEM or a key of another certificate is
// refused at start instead of on the first handshake.
Status check_key_pair(const std::string& cert_pem, const std::string& key_pem) {
  auto libraries = agent_libraries();
  if (!libraries) return libraries.error();
  const GnutlsApi& gnutls = (*libraries)->gnutls;
  gnutls_certificate_credentials_t raw = nullptr;
  if (int rc = gnutls.certificate_allocate_credentials(&raw); rc < 0)
    return make_error(ErrorKind::io, gnutls.strerror(rc));
  Credentials creds(raw, {&gnutls});
  gnutls_datum_t cert = datum(cert_pem), key = datum(key_pem);
  if (int rc = gnutls.certificate_set_x509_key_mem(creds.get(), &cert, &key, GNUTLS_X509_FMT_PEM);
      rc < 0)
    return make_error(ErrorKind::invalid_data, gnutls.strerror(rc));
  return {};
}

Result<std::string> read_pem(const Reader& r, const YAML::Node& value, const std::string& key,
                             const std::filesystem::path& base, std::string& path_out) {
  auto s = r.scalar(value, key);
  if (!s) return s.error();
  if (s->empty()) return r.error(value, key + ": empty path");
  std::filesystem::path p(*s);
  if (p.is_relative()) p = base / p;
  auto text = read_whole_file(p, kMaxPemBytes);
  if (!text) return r.error(value, key + ": " + text.error().message);
  path_out = p.string();
  return std::move(*text);
}

Result<std::string> tls_version(const Reader& r, const YAML::Node& value, const std::string& key) {
  auto s = r.scalar(value, key);
  if (!s) return s.error();
  if (!contains(kTlsVersions, *s))
    return r.error(value,
                   key + ": '" + *s + "' is not a TLS version; valid: " + join(kTlsVersions));
  return *s;
}

Result<TlsConfig> read_tls(const Reader& r, const YAML::Node& key_node, const YAML::Node& n,
                           const std::filesystem::path& base) {
  const std::string where = "tls_server_config";
  if (n.IsNull()) return r.error(key_node, where + ": cert_file and key_file are required");
  if (auto st = r.keys(n, where, kTlsKeys, kTlsUnsupported); !st) return st.error();
  TlsConfig tls;
  bool have_cert = false, have_key = false;
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar(), full = where + "." + key;
    if (key == "cert_file") {
      auto pem = read_pem(r, kv.second, full, base, tls.cert_file);
      if (!pem) return pem.error();
      tls.cert_pem = std::move(*pem);
      have_cert = true;
    } else if (key == "key_file") {
      auto pem = read_pem(r, kv.second, full, base, tls.key_file);
      if (!pem) return pem.error();
      tls.key_pem = std::move(*pem);
      have_key = true;
    } else {
      auto v = tls_version(r, kv.second, full);
      if (!v) return v.error();
      (key == "min_version" ? tls.min_version : tls.max_version) = *v;
    }
  }
  if (!have_cert || !have_key)
    return r.error(key_node, where + ": both cert_file and key_file are required");
  auto rank = [](const std::string& v) {
    return std::find(kTlsVersions.begin(), kTlsVersions.end(), v) - kTlsVersions.begin();
  };
  if (rank(tls.min_version) > rank(tls.max_version))
    return r.error(key_node, where + ": min_version " + tls.min_version + " is above max_version " +
                                 tls.max_version);
  if (auto st = check_key_pair(tls.cert_pem, tls.key_pem); !st)
    return r.error(key_node, where + ": unusable certificate '" + tls.cert_file + "' and key '" +
                                 tls.key_file + "': " + st.error().message);
  return tls;
}

// $2a$, $2b$ or $2y$, a two-digit cost 04-31, '$', then 22 salt + 31 hash chars of bcrypt's
// base64 alphabet: 60 characters in all.
bool is_bcrypt_hash(std::string_view h) {
  if (h.size() != 60 || h.substr(0, 2) != "$2" || h[3] != '$' || h[6] != '$') return false;
  if (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') return false;
  if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9') return false;
  int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 31) return false;
  return std::all_of(h.begin() + 7, h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '/';
  });
}

Result<std::map<std::string, std::string>> read_users(const Reader& r, const YAML::Node& n) {
  std::map<std::string, std::string> users;
  if (n.IsNull()) return users;
  if (!n.IsMap()) return r.error(n, "basic_auth_users: expected a map of user: bcrypt hash");
  for (const auto& kv : n) {
    auto user = r.scalar(kv.first, "basic_auth_users");
    if (!user) return user.error();
    if (user->empty() || user->find(':') != std::string::npos)
      return r.error(kv.first, "basic_auth_users: user name '" + *user +
                                   "' must be non-empty and without ':'");
    std::string full = "basic_auth_users." + *user;
    // Never echo the value: it may be a real password.
    if (!kv.second.IsScalar() || !is_bcrypt_hash(kv.second.Scalar()))
      return r.error(kv.second.Mark().is_null() ? kv.first.Mark() : kv.second.Mark(),
                     full +
                         ": plain-text password or not a bcrypt hash; make one with "
                         "`htpasswd -nBC 10 " +
                         *user + "`");
    if (!users.emplace(*user, kv.second.Scalar()).second)
      return r.error(kv.first, "duplicate user '" + *user + "'");
  }
  return users;
}

Result<WebConfig> read_top(const Reader& r, const YAML::Node& root,
                           const std::filesystem::path& base) {
  WebConfig wc;
  if (root.IsNull()) return wc;  // an empty file: plain HTTP, no auth
  if (auto st = r.keys(root, "", kTopKeys, kTopUnsupported); !st) return st.error();
  for (const auto& kv : root) {
    if (kv.first.Scalar() == "tls_server_config") {
      auto tls = read_tls(r, kv.first, kv.second, base);
      if (!tls) return tls.error();
      wc.tls = std::move(*tls);
    } else {
      auto users = read_users(r, kv.second);
      if (!users) return users.error();
      wc.basic_auth_users = std::move(*users);
      wc.basic_auth_key = true;
    }
  }
  return wc;
}

}  // namespace

std::vector<std::string> web_config_warnings(const WebConfig& web) {
  std::vector<std::string> out;
  if (web.basic_auth_key && web.basic_auth_users.empty())
    out.push_back(
        "basic_auth_users is empty: every path is served without a password; add a user or "
        "remove the key");
  for (const auto& [user, hash] : web.basic_auth_users) {
    int cost = (hash[4] - '0') * 10 + (hash[5] - '0');  // checked by is_bcrypt_hash
    if (cost <= kMaxQuietBcryptCost) continue;
    // Cost 10 takes about 70 ms on a server core; each step doubles it.
    char took[32];
    std::snprintf(took, sizeof took, "%.1f", 0.07 * std::ldexp(1.0, cost - 10));
    out.push_back("basic_auth_users." + user + ": bcrypt cost " + std::to_string(cost) +
                  " makes each new password check take about " + took +
                  " s of CPU; 10 to 12 is enough (htpasswd -nBC 10 " + user + ")");
  }
  return out;
}

std::vector<std::string> accepted_web_config_keys() {
  std::vector<std::string> out = {"basic_auth_users.USER"};
  for (const auto& k : kTlsKeys) out.push_back("tls_server_config." + k);
  return out;
}

Result<WebConfig> parse_web_config(std::string_view yaml, const std::filesystem::path& file) {
  Reader r(file.string());
  std::filesystem::path base = file.parent_path();
  if (base.empty()) base = ".";
  auto root = load_yaml(yaml, file.string());
  if (!root) return root.error();
  try {
    return read_top(r, *root, base);
  } catch (const YAML::Exception& e) {
    return r.error(e.mark, "YAML syntax error: " + e.msg);
  }
}

Result<WebConfig> load_web_config(const std::filesystem::path& file) {
  auto text = read_whole_file(file, kMaxPemBytes);
  if (!text) return make_error(ErrorKind::invalid_data, "web config: " + text.error().message);
  return parse_web_config(*text, file);
}

}  // namespace portman::agent
