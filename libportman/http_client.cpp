#include "libportman/http_client.hpp"

#include <algorithm>
#include <memory>

#include "libportman/curl_api.hpp"

namespace portman {
namespace {

struct EasyDeleter {
  const CurlApi* api = nullptr;
  void operator()(CURL* c) const { api->easy_cleanup(c); }
};
struct ListDeleter {
  const CurlApi* api = nullptr;
  void operator()(curl_slist* l) const { api->slist_free_all(l); }
};
struct MultiDeleter {
  const CurlApi* api = nullptr;
  void operator()(CURLM* m) const { api->multi_cleanup(m); }
};

// One transfer: the handle, its header list and what it has received.
struct Transfer {
  explicit Transfer(const CurlApi& a) : api(&a), easy(nullptr, {&a}), headers(nullptr, {&a}) {}
  const CurlApi* api;
  const HttpRequest* request = nullptr;
  std::unique_ptr<CURL, EasyDeleter> easy;
  std::unique_ptr<curl_slist, ListDeleter> headers;
  HttpResponse response;
  bool too_big = false;
  char error[CURL_ERROR_SIZE] = {};
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->response.body.size() + len > t->request->max_body) {
    t->too_big = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, len);
  return len;
}

Result<std::unique_ptr<Transfer>> prepare(const CurlApi& api, const HttpRequest& r) {
  auto t = std::make_unique<Transfer>(api);
  t->request = &r;
  t->easy.reset(api.easy_init());
  if (!t->easy) return make_error(ErrorKind::io, "cannot start an HTTP request (libcurl)");
  CURL* c = t->easy.get();
  api.easy_setopt(c, CURLOPT_URL, r.url.c_str());
  api.easy_setopt(c, CURLOPT_HTTPGET, 1L);
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is reported, never followed
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
  api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.timeout.count()));
  api.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, r.verify_tls ? 1L : 0L);
  api.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, r.verify_tls ? 2L : 0L);
  api.easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(r.max_body));
  api.easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
  api.easy_setopt(c, CURLOPT_USERAGENT, "portman");
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
  api.easy_setopt(c, CURLOPT_WRITEDATA, t.get());
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, t->error);
  if (!r.unix_socket.empty()) api.easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, r.unix_socket.c_str());
  curl_slist* list = nullptr;
  for (const std::string& h : r.headers) {
    curl_slist* next = api.slist_append(list, h.c_str());
    if (!next) {
      api.slist_free_all(list);
      return make_error(ErrorKind::io, "out of memory building an HTTP request");
    }
    list = next;
  }
  t->headers.reset(list);
  if (list) api.easy_setopt(c, CURLOPT_HTTPHEADER, list);
  return t;
}

// Where the request went, without its query (which may hold ids but never secrets) for messages.
std::string target(const HttpRequest& r) {
  std::string u = r.url.substr(0, r.url.find('?'));
  if (!r.unix_socket.empty()) u += " (via " + r.unix_socket + ")";
  return u;
}

Result<HttpResponse> finish(Transfer& t, CURLcode code) {
  const CurlApi& api = *t.api;
  const HttpRequest& r = *t.request;
  if (t.too_big || code == CURLE_FILESIZE_EXCEEDED)
    return make_error(ErrorKind::io, "GET " + target(r) + ": the answer is larger than " +
                                         std::to_string(r.max_body >> 20) + " MiB; refused");
  if (code != CURLE_OK) {
    std::string why = t.error[0] ? t.error : api.easy_strerror(code);
    if (code == CURLE_OPERATION_TIMEDOUT)
      why = "no answer within " + std::to_string(r.timeout.count()) + " ms";
    return make_error(ErrorKind::io, "GET " + target(r) + ": " + why);
  }
  CURL* c = t.easy.get();
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.response.status);
  const char* ct = nullptr;
  if (api.easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
    t.response.content_type = ct;
  const char* loc = nullptr;
  if (api.easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
    t.response.location = loc;
  return std::move(t.response);
}

}  // namespace

Result<HttpResponse> http_get(const HttpRequest& request) {
  auto api = curl_api();
  if (!api) return api.error();
  auto t = prepare(**api, request);
  if (!t) return t.error();
  CURLcode code = (*api)->easy_perform((*t)->easy.get());
  return finish(**t, code);
}

std::vector<Result<HttpResponse>> http_get_all(std::span<const HttpRequest> requests,
                                               int parallel) {
  std::vector<Result<HttpResponse>> out(requests.size(),
                                        make_error(ErrorKind::io, "request not made"));
  auto loaded = curl_api();
  if (!loaded) {
    for (auto& r : out) r = loaded.error();
    return out;
  }
  const CurlApi& api = **loaded;
  std::unique_ptr<CURLM, MultiDeleter> multi(api.multi_init(), {&api});
  if (!multi) {
    for (auto& r : out) r = make_error(ErrorKind::io, "cannot start HTTP requests (libcurl)");
    return out;
  }
  api.multi_setopt(multi.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS,
                   static_cast<long>(std::max(1, parallel)));
  std::vector<std::unique_ptr<Transfer>> transfers(requests.size());
  std::size_t next = 0, running_count = 0;
  auto start_more = [&] {
    while (next < requests.size() &&
           running_count < static_cast<std::size_t>(std::max(1, parallel))) {
      auto t = prepare(api, requests[next]);
      if (!t) {
        out[next++] = t.error();
        continue;
      }
      api.easy_setopt((*t)->easy.get(), CURLOPT_PRIVATE, reinterpret_cast<void*>(next));
      api.multi_add_handle(multi.get(), (*t)->easy.get());
      transfers[next++] = std::move(*t);
      ++running_count;
    }
  };
  start_more();
  int still = 0;
  do {
    api.multi_perform(multi.get(), &still);
    int left = 0;
    while (CURLMsg* msg = api.multi_info_read(multi.get(), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      void* priv = nullptr;
      api.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      auto i = reinterpret_cast<std::size_t>(priv);
      CURLcode code = msg->data.result;
      api.multi_remove_handle(multi.get(), msg->easy_handle);
      out[i] = finish(*transfers[i], code);
      transfers[i].reset();
      --running_count;
    }
    start_more();
    if (running_count > 0) api.multi_poll(multi.get(), nullptr, 0, 200, nullptr);
  } while (running_count > 0 || next < requests.size());
  return out;
}

}  // namespace portman
