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
};

// Relative cert/key paths are taken relative to the web config file's folder, as exporter-toolkit
// does.
Result<WebConfig> load_web_config(const std::filesystem::path& file);
Result<WebConfig> parse_web_config(std::string_view yaml, const std::filesystem::path& file);

}  // namespace portman::agent
