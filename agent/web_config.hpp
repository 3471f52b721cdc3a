// --web.config.file, in the exporter-toolkit format that Prometheus exporters share:
//   tls_server_config: { cert_file, key_file, min_version, max_version }
//   basic_auth_users:  { USER: BCRYPT_HASH }   (as made by `htpasswd -nBC 10 USER`)
// Loaded strictly: an unknown key, a plain-text password or an unreadable certificate is refused
// at start with the file, line and column.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libportman/result.hpp"

namespace portman::agent {

struct TlsConfig {
  std::string cert_pem;  // contents, read at load time
  std::string key_pem;
  std::string cert_file, key_file;
  std::string min_version = "TLS12";  // TLS10, TLS11, TLS12, TLS13
  std::string max_version = "TLS13";
};

struct WebConfig {
  std::optional<TlsConfig> tls;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
  bool basic_auth_key = false;  // the file has a basic_auth_users key (maybe empty)
};

// bcrypt costs above this make each first check of a password cost seconds.
constexpr int kMaxQuietBcryptCost = 12;

// What is valid but probably not what was meant, one message each, for the start-up log: an
// empty basic_auth_users (which serves everything without a password), a bcrypt cost above 12.
std::vector<std::string> web_config_warnings(const WebConfig& web);

// Every key the reader accepts, dotted ("tls_server_config.cert_file", "basic_auth_users.USER"):
// what docs/configuration.md must describe (its unit test checks).
std::vector<std::string> accepted_web_config_keys();

// Relative cert/key paths are taken relative to the web config file's folder, as exporter-toolkit
// does.
Result<WebConfig> load_web_config(const std::filesystem::path& file);
Result<WebConfig> parse_web_config(std::string_view yaml, const std::filesystem::path& file);

}  // namespace portman::agent
