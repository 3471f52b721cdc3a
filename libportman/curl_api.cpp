#include "libportman/curl_api.hpp"

#include <utility>

namespace portman {

Result<CurlApi> load_curl_api(const std::string& soname) {
  auto library = SharedLibrary::open(soname, kCurlPackage);
  if (!library) return library.error();
  CurlApi api{std::move(*library)};
  const SharedLibrary& l = api.library;
  Status s = first_error({
      l.bind(api.global_init, "curl_global_init"),
      l.bind(api.easy_init, "curl_easy_init"),
      l.bind(api.easy_setopt, "curl_easy_setopt"),
      l.bind(api.easy_perform, "curl_easy_perform"),
      l.bind(api.easy_getinfo, "curl_easy_getinfo"),
      l.bind(api.easy_strerror, "curl_easy_strerror"),
      l.bind(api.easy_cleanup, "curl_easy_cleanup"),
      l.bind(api.slist_append, "curl_slist_append"),
      l.bind(api.slist_free_all, "curl_slist_free_all"),
      l.bind(api.multi_init, "curl_multi_init"),
      l.bind(api.multi_setopt, "curl_multi_setopt"),
      l.bind(api.multi_add_handle, "curl_multi_add_handle"),
      l.bind(api.multi_remove_handle, "curl_multi_remove_handle"),
      l.bind(api.multi_perform, "curl_multi_perform"),
      l.bind(api.multi_info_read, "curl_multi_info_read"),
      l.bind(api.multi_poll, "curl_multi_poll"),
      l.bind(api.multi_cleanup, "curl_multi_cleanup"),
  });
  if (!s) return s.error();
  return api;
}

Result<const CurlApi*> curl_api() {
  // Initialised once, thread-safely (curl_global_init is not thread-safe itself). The table is
  // never freed: request threads may use it until the process exits.
  static const Result<const CurlApi*> loaded = []() -> Result<const CurlApi*> {
    auto api = load_curl_api();
    if (!api) return api.error();
    if (CURLcode rc = api->global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
      return make_error(ErrorKind::io,
                        std::string("cannot initialise libcurl: ") + api->easy_strerror(rc));
    return new CurlApi(std::move(*api));
  }();
  return loaded;
}

}  // namespace portman
