// Dokploy's error bodies and what else comes back instead of JSON: each is one line that says
// what happened, and none quotes the body of a successful answer (it holds secrets).
#include <catch2/catch.hpp>

#include "inventory/dokploy_parse.hpp"
#include "unit/inventory/fixture_transport.hpp"

using namespace portman;
using namespace portman::dokploy;

namespace {

const char* kWhat = "GET http://d/api/application.one?applicationId=x";

std::string fails(const HttpResponse& r) {
  auto j = decode_response(r, kWhat);
  REQUIRE(!j);
  INFO(j.error().message);
  CHECK(j.error().message.find('\n') == std::string::npos);
  CHECK(j.error().message.rfind(kWhat, 0) == 0);
  return j.error().message;
}

HttpResponse fixture(const char* name, long status) {
  return test::json_response(test::slurp(test::dokploy_fixtures() / name), status);
}

}  // namespace

TEST_CASE("401 without code: the key is refused, and how to make one", "[dokploy]") {
  CHECK(fails(fixture("error-401.json", 401)) ==
        std::string(kWhat) +
            ": Dokploy refused the API key (HTTP 401 Unauthorized, sent as x-api-key): create one "
            "in Dokploy under Settings → Profile → API/CLI Keys and put it in "
            "dokploy.api_key_file or $DOKPLOY_API_KEY");
}

TEST_CASE("401 with code: the key works but has no permission", "[dokploy]") {
  std::string m = fails(fixture("error-401-access.json", 401));
  CHECK(m.find("no permission") != std::string::npos);
  CHECK(m.find("UNAUTHORIZED: You don't have access to this service") != std::string::npos);
  CHECK(m.find("refused the API key") == std::string::npos);
}

TEST_CASE("404 400 and 500 give Dokploy's status code and message", "[dokploy]") {
  CHECK(fails(fixture("error-404.json", 404)) ==
        std::string(kWhat) + ": Dokploy answered HTTP 404 NOT_FOUND: Application not found");
  CHECK(fails(fixture("error-400.json", 400)) ==
        std::string(kWhat) + ": Dokploy answered HTTP 400 BAD_REQUEST: Input validation failed");
  std::string m = fails(fixture("error-500.json", 500));
  CHECK(m.find("HTTP 500 INTERNAL_SERVER_ERROR: Internal server error") != std::string::npos);
  CHECK(m.find("v0.29.0") != std::string::npos);
}

TEST_CASE("HTML or text instead of JSON says what came back", "[dokploy]") {
  HttpResponse html;
  html.status = 200;
  html.content_type = "text/html; charset=utf-8";
  html.body = "<!DOCTYPE html><html><body>Dokploy</body></html>";
  std::string m = fails(html);
  CHECK(m.find("HTTP 200 with text/html instead of JSON") != std::string::npos);
  CHECK(m.find("DOCTYPE") == std::string::npos);

  html.status = 502;
  CHECK(fails(html).find("HTTP 502 with text/html instead of Dokploy's JSON") != std::string::npos);

  HttpResponse traefik;
  traefik.status = 404;
  traefik.content_type = "text/plain; charset=utf-8";
  traefik.body = "404 page not found\n";
  CHECK(fails(traefik).find("HTTP 404 with text/plain instead of Dokploy's JSON ('404 page not "
                            "found ')") != std::string::npos);

  HttpResponse empty;
  empty.status = 504;
  CHECK(fails(empty).find("HTTP 504 with no content type and an empty body") != std::string::npos);
}

TEST_CASE("an empty body, a redirect, and JSON that is cut or broken", "[dokploy]") {
  CHECK(fails(test::json_response("")).find("an empty answer (HTTP 200)") != std::string::npos);

  HttpResponse moved;
  moved.status = 301;
  moved.location = "https://login.example.com/";
  CHECK(fails(moved).find("redirected (HTTP 301) to https://login.example.com/, which portman "
                          "does not follow") != std::string::npos);

  std::string cut = test::slurp(test::dokploy_fixtures() / "malformed.txt");
  std::string m = fails(test::json_response(cut));
  CHECK(m.find("ends early, after 1400 bytes") != std::string::npos);
  CHECK(m.find("datab") == std::string::npos);  // nothing of the body, which holds passwords

  CHECK(fails(test::json_response("[1,2,}")).find("not valid JSON at byte 6") != std::string::npos);
  CHECK(fails(test::json_response(std::string(100, '[') + std::string(100, ']')))
            .find("deeper than 64 levels") != std::string::npos);
}

TEST_CASE("a JSON answer without a content type is read", "[dokploy]") {
  HttpResponse r;
  r.status = 200;
  r.body = "[]";
  auto j = decode_response(r, kWhat);
  REQUIRE(j);
  CHECK(j->is_array());
}
