// The web config (exporter-toolkit format) is loaded strictly: every refusal names file:line:col.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "agent/web_config.hpp"

using namespace portman;
using namespace portman::agent;

namespace {

const std::filesystem::path kDir = std::filesystem::path(PORTMAN_FIXTURES_DIR) / "web";
const std::filesystem::path kInline = kDir / "inline.yml";  // base for relative cert paths

const char* const kAliceHash = "$2y$10$fHBC5bZGYVgTKkGuq6tdV.se8oNhcjtoG56cbUlQxrv/uoTedeBw.";

// The error message of a config that must be refused.
std::string refusal(const std::string& yaml) {
  auto r = parse_web_config(yaml, kInline);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::invalid_data);
  CHECK(r.error().message.find('\n') == std::string::npos);
  return r.error().message;
}

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("A complete web config file loads its certificate, key, versions and users") {
  auto r = load_web_config(kDir / "web-config.yml");
  REQUIRE(r.ok());
  REQUIRE(r->tls.has_value());
  CHECK(has(r->tls->cert_pem, "BEGIN CERTIFICATE"));
  CHECK(has(r->tls->key_pem, "PRIVATE KEY"));
  CHECK(r->tls->cert_file == (kDir / "server.pem").string());
  CHECK(r->tls->min_version == "TLS12");
  CHECK(r->tls->max_version == "TLS13");
  REQUIRE(r->basic_auth_users.size() == 2);
  CHECK(r->basic_auth_users.at("alice") == kAliceHash);
}

TEST_CASE("An empty web config means plain HTTP without authentication") {
  auto r = parse_web_config("", kInline);
  REQUIRE(r.ok());
  CHECK_FALSE(r->tls.has_value());
  CHECK(r->basic_auth_users.empty());
  auto comments = parse_web_config("# nothing here\n", kInline);
  REQUIRE(comments.ok());
}

TEST_CASE("TLS versions default to TLS12 through TLS13 and accept every valid value") {
  auto r = parse_web_config(
      "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n", kInline);
  REQUIRE(r.ok());
  CHECK(r->tls->min_version == "TLS12");
  CHECK(r->tls->max_version == "TLS13");
  for (const char* v : {"TLS10", "TLS11", "TLS12", "TLS13"}) {
    auto one = parse_web_config(std::string("tls_server_config:\n  cert_file: server.pem\n"
                                            "  key_file: server-key.pem\n  min_version: ") +
                                    v + "\n",
                                kInline);
    CHECK(one.ok());
  }
}

TEST_CASE("A plain-text password is refused with its line and column and is not echoed") {
  auto r = load_web_config(kDir / "plain-password.yml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::invalid_data);
  CHECK(has(r.error().message, "plain-password.yml:3:10:"));
  CHECK(has(r.error().message, "plain-text password"));
  CHECK(has(r.error().message, "htpasswd -nBC 10 alice"));
  CHECK_FALSE(has(r.error().message, "s3cret"));
}

TEST_CASE("Hashes that are not bcrypt are refused as plain-text passwords") {
  std::string good = kAliceHash;
  for (const std::string& bad : {std::string("$1$abcdefgh$abcdefghijklmnopqrstuv"),  // md5-crypt
                                 "$2x$10$" + good.substr(7),  // unknown variant
                                 "$2y$03$" + good.substr(7),  // cost below 4
                                 good.substr(0, 59),          // truncated
                                 good.substr(0, 59) + "!",    // outside the alphabet
                                 std::string("")}) {
    auto msg = refusal("basic_auth_users:\n  alice: '" + bad + "'\n");
    CHECK(has(msg, "inline.yml:2:10:"));
    CHECK(has(msg, "plain-text password"));
  }
  CHECK(has(refusal("basic_auth_users:\n  alice: [a, b]\n"), "inline.yml:2:10:"));
  CHECK(has(refusal("basic_auth_users:\n  alice:\n"), "plain-text password"));
  for (const char* prefix : {"$2a$", "$2b$", "$2y$"}) {
    auto r = parse_web_config(
        std::string("basic_auth_users:\n  alice: ") + prefix + good.substr(4) + "\n", kInline);
    CHECK(r.ok());
  }
}

TEST_CASE("An unknown top-level key is refused with its position and the valid keys") {
  auto msg = refusal("basic_auth_users: {}\ntls_config:\n  cert_file: server.pem\n");
  CHECK(has(msg, "inline.yml:2:1: unknown key 'tls_config'"));
  CHECK(has(msg, "valid keys: tls_server_config, basic_auth_users"));
}

TEST_CASE("An unknown key inside tls_server_config is refused with its position") {
  auto msg = refusal(
      "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n"
      "  min_vers: TLS12\n");
  CHECK(has(msg, "inline.yml:4:3: unknown key 'tls_server_config.min_vers'"));
  CHECK(has(msg, "cert_file, key_file, min_version, max_version"));
}

TEST_CASE("Exporter-toolkit keys that portman does not implement are refused as not supported") {
  for (const char* key : {"client_auth_type: RequireAndVerifyClientCert", "client_ca_file: ca.pem",
                          "cipher_suites: [TLS_AES_128_GCM_SHA256]", "curve_preferences: [X25519]",
                          "prefer_server_cipher_suites: true"}) {
    auto msg = refusal(std::string("tls_server_config:\n  cert_file: server.pem\n"
                                   "  key_file: server-key.pem\n  ") +
                       key + "\n");
    CHECK(has(msg, "inline.yml:4:3:"));
    CHECK(has(msg, "not supported by portman"));
  }
  auto http2 = refusal("http_server_config:\n  http2: false\n");
  CHECK(has(http2, "inline.yml:1:1: 'http_server_config' is not supported by portman"));
}

TEST_CASE("A TLS section needs both a certificate and a key") {
  CHECK(has(refusal("tls_server_config:\n  cert_file: server.pem\n"),
            "inline.yml:1:1: tls_server_config: both cert_file and key_file are required"));
  CHECK(has(refusal("tls_server_config:\n  key_file: server-key.pem\n"),
            "both cert_file and key_file are required"));
  CHECK(has(refusal("tls_server_config:\n"), "inline.yml:1:1:"));
}

TEST_CASE("An unreadable certificate or key file is refused naming the file") {
  auto msg = refusal("tls_server_config:\n  cert_file: missing.pem\n  key_file: server-key.pem\n");
  CHECK(has(msg, "inline.yml:2:14: tls_server_config.cert_file: cannot read "));
  CHECK(has(msg, "missing.pem: No such file or directory"));
  auto key =
      refusal("tls_server_config:\n  cert_file: server.pem\n  key_file: /nonexistent/k.pem\n");
  CHECK(has(key, "inline.yml:3:13:"));
  CHECK(has(key, "/nonexistent/k.pem"));
}

TEST_CASE("A key that does not belong to the certificate is refused at load") {
  auto msg = refusal("tls_server_config:\n  cert_file: server.pem\n  key_file: other-key.pem\n");
  CHECK(has(msg, "inline.yml:1:1: tls_server_config: unusable certificate"));
  CHECK(has(msg, "other-key.pem"));
  auto not_pem = refusal(
      "tls_server_config:\n  cert_file: web-config.yml\n"
      "  key_file: server-key.pem\n");
  CHECK(has(not_pem, "unusable certificate"));
}

TEST_CASE("Invalid TLS versions and a minimum above the maximum are refused") {
  auto base =
      std::string("tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n");
  auto msg = refusal(base + "  min_version: TLS14\n");
  CHECK(has(msg, "inline.yml:4:16: tls_server_config.min_version: 'TLS14' is not a TLS version"));
  CHECK(has(msg, "TLS10, TLS11, TLS12, TLS13"));
  CHECK(has(refusal(base + "  min_version: TLS13\n  max_version: TLS12\n"),
            "min_version TLS13 is above max_version TLS12"));
}

TEST_CASE("Duplicate keys and YAML syntax errors are refused with their position") {
  CHECK(has(refusal("basic_auth_users: {}\nbasic_auth_users: {}\n"),
            "inline.yml:2:1: duplicate key 'basic_auth_users'"));
  CHECK(has(refusal("basic_auth_users:\n  alice: [unclosed\n"), "YAML syntax error"));
  CHECK(has(refusal("- a\n- b\n"), "inline.yml:1:1: web config: expected a map of keys"));
}

TEST_CASE("A missing web config file is refused naming it") {
  auto r = load_web_config(kDir / "does-not-exist.yml");
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "does-not-exist.yml"));
}

TEST_CASE("An empty basic_auth_users and a bcrypt cost above 12 are warned about") {
  auto empty = parse_web_config("basic_auth_users:\n", kInline);
  REQUIRE(empty.ok());
  CHECK(empty->basic_auth_users.empty());
  auto w = web_config_warnings(*empty);
  REQUIRE(w.size() == 1);
  CHECK(has(w[0], "basic_auth_users is empty: every path is served without a password"));
  auto braces = parse_web_config("basic_auth_users: {}\n", kInline);
  REQUIRE(braces.ok());
  CHECK(web_config_warnings(*braces).size() == 1);
  // No key at all: plain HTTP without auth, as asked; nothing to warn about.
  CHECK(web_config_warnings(*parse_web_config("", kInline)).empty());

  // Cost 10 is quiet; 13 and 16 are named with their user and what it costs.
  std::string hash13 = kAliceHash, hash16 = kAliceHash;
  hash13.replace(4, 2, "13");
  hash16.replace(4, 2, "16");
  auto costly = parse_web_config("basic_auth_users:\n  alice: " + std::string(kAliceHash) +
                                     "\n  bob: " + hash13 + "\n  carol: " + hash16 + "\n",
                                 kInline);
  REQUIRE(costly.ok());
  auto cw = web_config_warnings(*costly);
  REQUIRE(cw.size() == 2);
  CHECK(has(cw[0], "basic_auth_users.bob: bcrypt cost 13"));
  CHECK(has(cw[0], "about 0.6 s"));
  CHECK(has(cw[1], "basic_auth_users.carol: bcrypt cost 16"));
  CHECK(has(cw[1], "about 4.5 s"));
  CHECK(has(cw[1], "htpasswd -nBC 10 carol"));
}
