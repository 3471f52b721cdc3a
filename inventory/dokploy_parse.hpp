// Dokploy's answers, read: project.all in its three layouts (dokploy-api.md §3), the per-service
// `<kind>.one` answers, and the error bodies. Pure: strings and JSON in, the model out; the
// client (dokploy_client.hpp) does the asking.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "inventory/dokploy_model.hpp"
#include "libportman/http_client.hpp"
#include "libportman/result.hpp"

namespace portman::dokploy {

// The JSON of a successful answer, or one line saying why there is none: HTTP status with
// Dokploy's message, a key refused (401 without `code`) or without permission (401 with `code`),
// a redirect, HTML or another content type instead of JSON, an empty or cut body. `what` names
// the request ("GET https://dokploy.example.com/api/project.all"). Bodies are never quoted: they
// hold secrets.
Result<nlohmann::json> decode_response(const HttpResponse& response, std::string_view what);

// Just the JSON text, within kMaxNestingDepth; a failure names the byte where it stopped.
Result<nlohmann::json> parse_json(std::string_view body, std::string_view what);

// What project.all lists: every service with what its row tells (all of it in layouts 1 and 2,
// ids and a few names in layout 3), and the row itself for apply_details.
struct Listing {
  int layout = 0;
  std::vector<Service> services;
  std::vector<nlohmann::json> rows;  // one per service
};
Result<Listing> parse_project_all(const nlohmann::json& doc);

// `application.one`, `postgres.one`...; and the query parameter naming the id: "applicationId".
std::string_view one_procedure(ServiceKind kind);
std::string_view id_param(ServiceKind kind);

// Whether a project.all row already holds what `.one` would add (full rows of databases and of
// raw compose files in layouts 1 and 2); applications' ports are only ever in `.one`.
bool row_has_details(ServiceKind kind, const nlohmann::json& row);

// What a compose service still needs when its YAML is not in Dokploy's data (git sources):
// compose.getConvertedCompose, read with its env and type.
struct ComposeSource {
  bool needs_converted = false;
  std::string env;
  bool stack = false;
};

// Fills `service` from a `.one` answer or a full row: names, project and environment, server,
// status, published ports (replacing what was there) and domains. Warnings (a compose port that
// cannot be known) are appended. An answer for another id, or a compose file that is not YAML,
// is an error.
Result<ComposeSource> apply_details(Service& service, const nlohmann::json& one,
                                    std::vector<std::string>& warnings);

// The ports of a compose file (compose.getConvertedCompose's answer for git sources).
Status apply_compose_yaml(Service& service, std::string_view yaml, const ComposeSource& source,
                          std::vector<std::string>& warnings);

// "storefront/shop-web" (with "@staging" outside the default environment): how messages name it.
std::string display_name(const Service& service);

}  // namespace portman::dokploy
