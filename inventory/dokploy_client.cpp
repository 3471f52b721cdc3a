#include "inventory/dokploy_client.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "inventory/dokploy_parse.hpp"
#include "libportman/unique_fd.hpp"
#include "libportman/whole_file.hpp"

namespace portman::dokploy {
namespace {

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Where an option's value came from is the last part of describe(): "(from $DOKPLOY_API_KEY)".
bool from_environment(const SourceSettings& s, std::string_view key) {
  std::string d = s.describe(key);
  return d.find("(from $") != std::string::npos;
}

HttpRequest request(const ClientOptions& o, const std::string& path_and_query) {
  HttpRequest r;
  r.url = o.base_url + "/api/" + path_and_query;
  r.headers = {"x-api-key: " + o.api_key, "Accept: application/json"};
  r.timeout = o.timeout;
  r.max_body = kMaxBody;
  return r;
}

// "GET https://host/api/application.one?applicationId=ID": ids are not secrets.
std::string what(const HttpRequest& r) {
  return "GET " + r.url;
}

}  // namespace

Result<std::string> normalize_base_url(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorKind::bad_input,
                      "'" + std::string(url) + "' " + why +
                          "; expected http(s)://HOST[:PORT], e.g. https://dokploy.example.com");
  };
  std::string_view u = trim(url);
  std::size_t scheme_end = u.find("://");
  if (scheme_end == std::string_view::npos) return bad("has no http:// or https://");
  std::string scheme(u.substr(0, scheme_end));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") return bad("is not http or https");
  std::string_view rest = u.substr(scheme_end + 3);
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.empty() || authority.front() == ':') return bad("has no host");
  if (authority.find('@') != std::string_view::npos)
    return bad("holds a user or password (put the API key in dokploy.api_key_file)");
  if (rest.find_first_of("?#") != std::string_view::npos) return bad("has a query or fragment");
  for (char c : rest)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("holds a space or control");
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.size() >= 4 && path.substr(path.size() - 4) == "/api") path.remove_suffix(4);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return scheme + "://" + std::string(authority) + std::string(path);
}

Result<std::string> read_api_key_file(const std::filesystem::path& path, std::string_view setting) {
  const std::string where = std::string(setting) + ": " + path.string();
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd)
    return make_error(ErrorKind::bad_input,
                      where + ": cannot read the API key: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return make_error(ErrorKind::bad_input, where + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return make_error(ErrorKind::bad_input, where + ": not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(ErrorKind::bad_input,
                      where + ": the API key is accessible to group or others (mode " + mode +
                          "); run chmod 600 on it, as ssh requires for private keys");
  }
  auto text = read_whole_fd(fd.get(), path, 64 * 1024, static_cast<std::size_t>(st.st_size));
  if (!text)
    return make_error(ErrorKind::bad_input,
                      setting.empty() ? text.error().message
                                      : std::string(setting) + ": " + text.error().message);
  std::string_view key = trim(*text);
  if (key.empty())
    return make_error(ErrorKind::bad_input,
                      where + ": the file is empty; put the API key created in Dokploy in it");
  for (char c : key)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return make_error(ErrorKind::bad_input,
                        where +
                            ": the key holds a line break or control character; the file "
                            "must hold the key alone");
  return std::string(key);
}

Result<ClientOptions> client_options(const SourceSettings& s) {
  ClientOptions o;
  auto url = normalize_base_url(s.text("url"));
  if (!url) return make_error(ErrorKind::bad_input, s.describe("url") + ": " + url.error().message);
  o.base_url = *url;

  if (s.has("api_key_file")) {
    auto key = read_api_key_file(s.text("api_key_file"), s.describe("api_key_file"));
    if (!key) return key.error();
    o.api_key = *key;
  } else if (s.has("api_key")) {
    // Only from the environment: on a command line every user sees it in ps, and portman.yml is
    // usually readable by all.
    if (!from_environment(s, "api_key"))
      return make_error(ErrorKind::bad_input,
                        s.describe("api_key") +
                            ": the key may come only from $DOKPLOY_API_KEY or a file named by "
                            "dokploy.api_key_file (mode 600), never a flag or portman.yml");
    o.api_key = std::string(trim(s.text("api_key")));
    for (char c : o.api_key)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        return make_error(ErrorKind::bad_input,
                          s.describe("api_key") + ": the key holds a control character");
  }
  if (o.api_key.empty())
    return make_error(ErrorKind::bad_input,
                      s.describe("url") +
                          " is set but there is no API key: create one in Dokploy under Settings "
                          "→ Profile → API/CLI Keys and put it in a file named by "
                          "dokploy.api_key_file (mode 600) or in $DOKPLOY_API_KEY");

  auto timeout = s.duration("timeout");
  if (!timeout) return timeout.error();
  o.timeout = *timeout;
  auto interval = s.duration("interval");
  if (!interval) return interval.error();
  o.interval = *interval;
  auto parallel = s.integer("parallel", 1, 64);
  if (!parallel) return parallel.error();
  o.parallel = static_cast<int>(*parallel);
  if (s.has("server_id")) o.server_id = std::string(trim(s.text("server_id")));
  return o;
}

Transport http_transport() {
  return [](std::span<const HttpRequest> requests, int parallel) {
    return http_get_all(requests, parallel);
  };
}

Result<Inventory> fetch_inventory(const ClientOptions& o, const Transport& transport) {
  Inventory inv;
  const HttpRequest all = request(o, "project.all");
  auto answers = transport(std::span(&all, 1), 1);
  if (answers.size() != 1 || !answers[0]) {
    std::string why = answers.empty() ? "no answer" : answers[0].error().message;
    return make_error(ErrorKind::io, "Dokploy: " + why);
  }
  auto doc = decode_response(*answers[0], what(all));
  if (!doc) return make_error(doc.error().kind, "Dokploy: " + doc.error().message);
  auto listing = parse_project_all(*doc);
  if (!listing)
    return make_error(listing.error().kind,
                      "Dokploy at " + o.base_url + ": " + listing.error().message);
  inv.layout = listing->layout;
  inv.services = std::move(listing->services);

  std::vector<ComposeSource> compose(inv.services.size());
  std::vector<HttpRequest> ones;
  std::vector<std::size_t> asked;  // service index of each request
  for (std::size_t i = 0; i < inv.services.size(); ++i) {
    Service& s = inv.services[i];
    const auto& row = listing->rows[i];
    if (row_has_details(s.kind, row)) {
      auto got = apply_details(s, row, inv.warnings);
      if (got)
        compose[i] = *got;
      else
        s.error = got.error().message;
      if (!compose[i].needs_converted) continue;
    }
    ones.push_back(request(o, std::string(one_procedure(s.kind)) + "?" +
                                  std::string(id_param(s.kind)) + "=" + percent_encode(s.id)));
    asked.push_back(i);
  }
  std::size_t failed = 0;
  std::string first_failure;
  auto results = transport(ones, o.parallel);
  for (std::size_t n = 0; n < asked.size() && n < results.size(); ++n) {
    Service& s = inv.services[asked[n]];
    Result<nlohmann::json> j = results[n] ? decode_response(*results[n], what(ones[n]))
                                          : Result<nlohmann::json>(results[n].error());
    Result<ComposeSource> got =
        j ? apply_details(s, *j, inv.warnings) : Result<ComposeSource>(j.error());
    if (got) {
      compose[asked[n]] = *got;
      continue;
    }
    s.error = got.error().message;
    s.ports.clear();
    if (failed++ == 0) first_failure = s.error;
  }
  if (!asked.empty() && failed == asked.size())
    return make_error(ErrorKind::io,
                      "Dokploy: the details of every service failed; the first: " + first_failure);

  // Compose files from git: the YAML Dokploy deploys, as it converts it.
  std::vector<HttpRequest> converted;
  std::vector<std::size_t> converted_of;
  for (std::size_t i = 0; i < inv.services.size(); ++i) {
    if (!compose[i].needs_converted || !inv.services[i].error.empty()) continue;
    converted.push_back(
        request(o, "compose.getConvertedCompose?composeId=" + percent_encode(inv.services[i].id)));
    converted_of.push_back(i);
  }
  if (converted.empty()) return inv;
  results = transport(converted, o.parallel);
  for (std::size_t n = 0; n < converted_of.size() && n < results.size(); ++n) {
    Service& s = inv.services[converted_of[n]];
    Result<nlohmann::json> j = results[n] ? decode_response(*results[n], what(converted[n]))
                                          : Result<nlohmann::json>(results[n].error());
    Status st = !j ? Status(j.error())
                : !j->is_string()
                    ? Status(make_error(ErrorKind::invalid_data,
                                        what(converted[n]) + ": expected the compose file as a "
                                                             "JSON string"))
                    : apply_compose_yaml(s, j->get_ref<const std::string&>(),
                                         compose[converted_of[n]], inv.warnings);
    if (!st) {
      s.error = st.error().message;
      s.ports.clear();
    }
  }
  return inv;
}

}  // namespace portman::dokploy
