// Asking Dokploy: project.all, then one `<kind>.one` per service with a bounded number of
// requests in flight, then compose.getConvertedCompose for compose files that live in git.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "inventory/dokploy_model.hpp"
#include "libportman/http_client.hpp"
#include "libportman/result.hpp"
#include "libportman/source_settings.hpp"

namespace portman::dokploy {

// The largest answer read: a project.all of a big organisation in layout 2 is a few MB.
inline constexpr std::size_t kMaxBody = 8u << 20;

struct ClientOptions {
  std::string base_url;                     // "https://dokploy.example.com", without /api
  std::string api_key;                      // secret: sent as x-api-key, never printed
  std::chrono::milliseconds timeout{5000};  // per request
  std::chrono::milliseconds interval{60000};
  std::optional<std::string> server_id;  // nullopt: the Dokploy host
  int parallel = 4;
};

// The settings of `dokploy:`, checked: the URL (http or https, a trailing /api or / removed), the
// key (from api_key_file, readable by its owner only, or $DOKPLOY_API_KEY), the durations and the
// number of requests in flight. Each refusal is one line naming the setting and its origin.
Result<ClientOptions> client_options(const SourceSettings& settings);

// "http(s)://HOST[:PORT][/PATH]" without a trailing "/" or "/api"; refused: another scheme, no
// host, user:password@, a query or a fragment.
Result<std::string> normalize_base_url(std::string_view url);

// The key in `path`, trimmed. Refused when missing, empty, readable or writable by group or
// others (as ssh refuses such keys), or holding a line break.
Result<std::string> read_api_key_file(const std::filesystem::path& path, std::string_view setting);

// How requests are made: http_get_all in the program, a table of answers in unit tests.
using Transport =
    std::function<std::vector<Result<HttpResponse>>(std::span<const HttpRequest>, int parallel)>;
Transport http_transport();

// Everything Dokploy lists, with the ports and domains of each service. Fails when project.all
// fails or cannot be read, or when every service's details fail; one service whose details fail
// gets Service::error and the others are kept.
Result<Inventory> fetch_inventory(const ClientOptions& options, const Transport& transport);

}  // namespace portman::dokploy
