// Dokploy's answers, through the client's whole reading: the parts of the input are the bodies of
// project.all, then of each request the client makes after it, in order (a 404 when the parts run
// out).
#include <string>

#include "fuzz/fuzz_input.hpp"
#include "inventory/dokploy_client.hpp"

namespace {

portman::HttpResponse answer(std::string_view body, long status) {
  portman::HttpResponse r;
  r.status = status;
  r.content_type = "application/json; charset=utf-8";
  r.body = std::string(body);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = portman::fuzz::split_parts(portman::fuzz::as_text(data, size));
  std::size_t next = 0;
  portman::dokploy::Transport transport = [&](std::span<const portman::HttpRequest> requests, int) {
    std::vector<portman::Result<portman::HttpResponse>> out;
    for (std::size_t i = 0; i < requests.size(); ++i, ++next)
      out.emplace_back(next < parts.size() ? answer(parts[next], 200)
                                           : answer(R"({"message":"Not found"})", 404));
    return out;
  };
  portman::dokploy::ClientOptions options;
  options.base_url = "https://dokploy.invalid";
  options.api_key = "fuzz";
  (void)portman::dokploy::fetch_inventory(options, transport);
  return 0;
}
