// The libcurl functions portman calls, looked up in libcurl.so.4 at first use (shared_library.hpp
// says why). Only the docker and dokploy sources need it; without libcurl4 they fail with an
// Error naming the package, and every other command still runs.
#pragma once

#include <curl/curl.h>

#include <string>

#include "libportman/result.hpp"
#include "libportman/shared_library.hpp"

namespace portman {

inline constexpr const char* kCurlSoname = "libcurl.so.4";
inline constexpr const char* kCurlPackage = "libcurl4";

// decltype(&curl_...): the exact signatures of the header, variadic setopt/getinfo included.
struct CurlApi {
  SharedLibrary library;
  decltype(&curl_global_init) global_init = nullptr;
  decltype(&curl_easy_init) easy_init = nullptr;
  decltype(&curl_easy_setopt) easy_setopt = nullptr;
  decltype(&curl_easy_perform) easy_perform = nullptr;
  decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&curl_easy_strerror) easy_strerror = nullptr;
  decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&curl_slist_append) slist_append = nullptr;
  decltype(&curl_slist_free_all) slist_free_all = nullptr;
  decltype(&curl_multi_init) multi_init = nullptr;
  decltype(&curl_multi_setopt) multi_setopt = nullptr;
  decltype(&curl_multi_add_handle) multi_add_handle = nullptr;
  decltype(&curl_multi_remove_handle) multi_remove_handle = nullptr;
  decltype(&curl_multi_perform) multi_perform = nullptr;
  decltype(&curl_multi_info_read) multi_info_read = nullptr;
  decltype(&curl_multi_poll) multi_poll = nullptr;
  decltype(&curl_multi_cleanup) multi_cleanup = nullptr;
};

// Opens `soname` and binds every function above; an Error names the library and libcurl4.
Result<CurlApi> load_curl_api(const std::string& soname = kCurlSoname);

// The process's libcurl, loaded and curl_global_init'ed once, at the first call (thread-safe);
// every later call returns the same table, or the same Error.
Result<const CurlApi*> curl_api();

}  // namespace portman
