#include "agent/agent_libraries.hpp"

#include <utility>

namespace portman::agent {

Result<MhdApi> load_mhd_api(const std::string& soname) {
  auto library = SharedLibrary::open(soname, "libmicrohttpd12");
  if (!library) return library.error();
  MhdApi api{std::move(*library)};
  const SharedLibrary& l = api.library;
  Status s = first_error({
      l.bind(api.start_daemon, "MHD_start_daemon"),
      l.bind(api.stop_daemon, "MHD_stop_daemon"),
      l.bind(api.is_feature_supported, "MHD_is_feature_supported"),
      l.bind(api.get_connection_info, "MHD_get_connection_info"),
      l.bind(api.get_connection_values, "MHD_get_connection_values"),
      l.bind(api.lookup_connection_value, "MHD_lookup_connection_value"),
      l.bind(api.suspend_connection, "MHD_suspend_connection"),
      l.bind(api.resume_connection, "MHD_resume_connection"),
      l.bind(api.create_response, "MHD_create_response_from_buffer_with_free_callback_cls"),
      l.bind(api.add_response_header, "MHD_add_response_header"),
      l.bind(api.queue_response, "MHD_queue_response"),
      l.bind(api.destroy_response, "MHD_destroy_response"),
  });
  if (!s) return s.error();
  return api;
}

Result<GnutlsApi> load_gnutls_api(const std::string& soname) {
  auto library = SharedLibrary::open(soname, "libgnutls30");
  if (!library) return library.error();
  GnutlsApi api{std::move(*library)};
  const SharedLibrary& l = api.library;
  Status s = first_error({
      l.bind(api.rnd, "gnutls_rnd"),
      l.bind(api.hmac_fast, "gnutls_hmac_fast"),
      l.bind(api.certificate_allocate_credentials, "gnutls_certificate_allocate_credentials"),
      l.bind(api.certificate_free_credentials, "gnutls_certificate_free_credentials"),
      l.bind(api.certificate_set_x509_key_mem, "gnutls_certificate_set_x509_key_mem"),
      l.bind(api.strerror, "gnutls_strerror"),
  });
  if (!s) return s.error();
  return api;
}

Result<CryptApi> load_crypt_api(const std::string& soname) {
  auto library = SharedLibrary::open(soname, "libcrypt1");
  if (!library) return library.error();
  CryptApi api{std::move(*library)};
  if (Status s = api.library.bind(api.crypt_hash, "crypt_r"); !s) return s.error();
  return api;
}

Result<ZlibApi> load_zlib_api(const std::string& soname) {
  auto library = SharedLibrary::open(soname, "zlib1g");
  if (!library) return library.error();
  ZlibApi api{std::move(*library)};
  const SharedLibrary& l = api.library;
  Status s = first_error({
      l.bind(api.deflate_init2, "deflateInit2_"),
      l.bind(api.deflate_run, "deflate"),
      l.bind(api.deflate_end, "deflateEnd"),
  });
  if (!s) return s.error();
  return api;
}

Result<const AgentLibraries*> agent_libraries() {
  // Never freed: the server's threads use the tables until the process exits.
  static const Result<const AgentLibraries*> loaded = []() -> Result<const AgentLibraries*> {
    auto mhd = load_mhd_api();
    if (!mhd) return mhd.error();
    auto gnutls = load_gnutls_api();
    if (!gnutls) return gnutls.error();
    auto crypt = load_crypt_api();
    if (!crypt) return crypt.error();
    auto zlib = load_zlib_api();
    if (!zlib) return zlib.error();
    return new AgentLibraries{std::move(*mhd), std::move(*gnutls), std::move(*crypt),
                              std::move(*zlib)};
  }();
  return loaded;
}

}  // namespace portman::agent
