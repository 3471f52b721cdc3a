// A Dokploy made of the fixture files (tests/fixtures/dokploy), answering the client's requests
// without a network: GET /api/<procedure>?<idParam>=<id> -> <procedure>/<id>.json.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "inventory/dokploy_client.hpp"
#include "unit/support.hpp"

namespace portman::test {

inline std::filesystem::path dokploy_fixtures() {
  return std::filesystem::path(PORTMAN_FIXTURES_DIR) / "dokploy";
}

inline HttpResponse json_response(std::string body, long status = 200) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json; charset=utf-8";
  r.body = std::move(body);
  return r;
}

struct FixtureDokploy {
  std::string layout = "v3";
  std::string key = "test-key";
  // Answers that replace the fixtures, by "procedure?query" ("application.one?applicationId=X").
  std::map<std::string, Result<HttpResponse>> overrides;
  std::vector<std::string> asked;  // "procedure?query", in order
  int max_batch = 0;               // the largest `parallel` the client passed

  Result<HttpResponse> answer(const HttpRequest& r) {
    auto api = r.url.find("/api/");
    REQUIRE(api != std::string::npos);
    std::string call = r.url.substr(api + 5);
    asked.push_back(call);
    bool keyed = false;
    for (const auto& h : r.headers) keyed = keyed || h == "x-api-key: " + key;
    if (!keyed) return json_response(slurp(dokploy_fixtures() / "error-401.json"), 401);
    if (auto it = overrides.find(call); it != overrides.end()) return it->second;
    if (call == "project.all")
      return json_response(slurp(dokploy_fixtures() / ("project-all." + layout + ".json")));
    auto q = call.find('?'), eq = call.find('=');
    if (q == std::string::npos || eq == std::string::npos)
      return json_response(slurp(dokploy_fixtures() / "error-404.json"), 404);
    auto file = dokploy_fixtures() / call.substr(0, q) / (call.substr(eq + 1) + ".json");
    if (!std::filesystem::exists(file))
      return json_response(slurp(dokploy_fixtures() / "error-404.json"), 404);
    return json_response(slurp(file));
  }

  dokploy::Transport transport() {
    return [this](std::span<const HttpRequest> requests, int parallel) {
      max_batch = std::max(max_batch, parallel);
      std::vector<Result<HttpResponse>> out;
      for (const HttpRequest& r : requests) out.push_back(answer(r));
      return out;
    };
  }
};

inline dokploy::ClientOptions test_options(std::string key = "test-key") {
  dokploy::ClientOptions o;
  o.base_url = "http://dokploy.test:3000";
  o.api_key = std::move(key);
  return o;
}

}  // namespace portman::test
