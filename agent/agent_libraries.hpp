// The C libraries only the agent calls (libmicrohttpd, GnuTLS, libcrypt, zlib), looked up with
// dlopen when the agent starts (libportman/shared_library.hpp says why): `portman scan` and the
// other commands start without loading them. One table of functions per library.
#pragma once

#include <crypt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <zlib.h>

#include <string>

#include "libportman/result.hpp"
#include "libportman/shared_library.hpp"

namespace portman::agent {

inline constexpr const char* kMhdSoname = "libmicrohttpd.so.12";
inline constexpr const char* kGnutlsSoname = "libgnutls.so.30";
inline constexpr const char* kCryptSoname = "libcrypt.so.1";
inline constexpr const char* kZlibSoname = "libz.so.1";

// decltype(&MHD_...): the exact signatures of the headers.
struct MhdApi {
  SharedLibrary library;
  decltype(&MHD_start_daemon) start_daemon = nullptr;
  decltype(&MHD_stop_daemon) stop_daemon = nullptr;
  decltype(&MHD_is_feature_supported) is_feature_supported = nullptr;
  decltype(&MHD_get_connection_info) get_connection_info = nullptr;
  decltype(&MHD_get_connection_values) get_connection_values = nullptr;
  decltype(&MHD_lookup_connection_value) lookup_connection_value = nullptr;
  decltype(&MHD_suspend_connection) suspend_connection = nullptr;
  decltype(&MHD_resume_connection) resume_connection = nullptr;
  decltype(&MHD_create_response_from_buffer_with_free_callback_cls) create_response = nullptr;
  decltype(&MHD_add_response_header) add_response_header = nullptr;
  decltype(&MHD_queue_response) queue_response = nullptr;
  decltype(&MHD_destroy_response) destroy_response = nullptr;
};

struct GnutlsApi {
  SharedLibrary library;
  decltype(&gnutls_rnd) rnd = nullptr;
  decltype(&gnutls_hmac_fast) hmac_fast = nullptr;
  decltype(&gnutls_certificate_allocate_credentials) certificate_allocate_credentials = nullptr;
  decltype(&gnutls_certificate_free_credentials) certificate_free_credentials = nullptr;
  decltype(&gnutls_certificate_set_x509_key_mem) certificate_set_x509_key_mem = nullptr;
  decltype(&gnutls_strerror) strerror = nullptr;
};

struct CryptApi {
  SharedLibrary library;
  decltype(&::crypt_r) crypt_hash = nullptr;  // crypt_r
};

struct ZlibApi {
  SharedLibrary library;
  decltype(&deflateInit2_) deflate_init2 = nullptr;  // deflateInit2() is a macro over it
  decltype(&::deflate) deflate_run = nullptr;        // deflate
  decltype(&deflateEnd) deflate_end = nullptr;
};

// Each opens `soname` and binds its functions; an Error names the library and the Debian
// package to install (libmicrohttpd12, libgnutls30, libcrypt1, zlib1g).
Result<MhdApi> load_mhd_api(const std::string& soname = kMhdSoname);
Result<GnutlsApi> load_gnutls_api(const std::string& soname = kGnutlsSoname);
Result<CryptApi> load_crypt_api(const std::string& soname = kCryptSoname);
Result<ZlibApi> load_zlib_api(const std::string& soname = kZlibSoname);

struct AgentLibraries {
  MhdApi mhd;
  GnutlsApi gnutls;
  CryptApi crypt;
  ZlibApi zlib;
};

// All four, loaded once at the first call (thread-safe; the agent calls it first thing, so that a
// missing library stops it at start); later calls return the same tables, or the same Error.
Result<const AgentLibraries*> agent_libraries();

}  // namespace portman::agent
