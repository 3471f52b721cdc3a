#include "inventory/dokploy_parse.hpp"

#include <optional>

#include "inventory/compose_ports.hpp"
#include "libportman/limits.hpp"

namespace portman::dokploy {
namespace {

using nlohmann::json;

struct TooDeep {};

std::optional<std::string> string_at(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<bool> bool_at(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

// A port number 1-65535, or nothing (null, absent, out of range, not a number).
std::optional<std::uint16_t> port_at(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_integer()) return std::nullopt;
  auto v = it->get<long long>();
  if (v < 1 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// Printable ASCII only and short: Dokploy's message goes into one line of ours.
std::string one_line(std::string_view s, std::size_t max = 200) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    out += (c >= 0x20 && c < 0x7f) ? c : ' ';
  }
  return out;
}

bool is_json_type(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  return t.find("json") != std::string_view::npos;
}

std::string content_type_name(const HttpResponse& r) {
  if (r.content_type.empty()) return "no content type";
  return one_line(r.content_type.substr(0, r.content_type.find(';')), 60);
}

struct KindInfo {
  ServiceKind kind;
  const char* list_key;  // in project.all
  const char* id_key;
  const char* one;
};
constexpr KindInfo kKinds[] = {
    {ServiceKind::application, "applications", "applicationId", "application.one"},
    {ServiceKind::compose, "compose", "composeId", "compose.one"},
    {ServiceKind::postgres, "postgres", "postgresId", "postgres.one"},
    {ServiceKind::mysql, "mysql", "mysqlId", "mysql.one"},
    {ServiceKind::mariadb, "mariadb", "mariadbId", "mariadb.one"},
    {ServiceKind::mongo, "mongo", "mongoId", "mongo.one"},
    {ServiceKind::redis, "redis", "redisId", "redis.one"},
    {ServiceKind::libsql, "libsql", "libsqlId", "libsql.one"},
};

const KindInfo& info(ServiceKind kind) {
  for (const KindInfo& k : kKinds)
    if (k.kind == kind) return k;
  return kKinds[0];
}

Error not_a_listing(const std::string& where, const std::string& what) {
  return make_error(ErrorKind::invalid_data,
                    "project.all: " + where + " " + what + "; is dokploy.url a Dokploy server?");
}

// The server a row names: absent keeps what is known, null is the Dokploy host.
void read_server(Service& s, const json& o) {
  auto it = o.find("serverId");
  if (it == o.end()) return;
  if (it->is_string())
    s.server_id = it->get<std::string>();
  else if (it->is_null())
    s.server_id.reset();
}

void read_common(Service& s, const json& o) {
  if (auto v = string_at(o, "name")) s.name = *v;
  if (auto v = string_at(o, "appName")) s.app_name = *v;
  if (auto v = string_at(o, s.kind == ServiceKind::compose ? "composeStatus" : "applicationStatus"))
    s.status = *v;
  if (auto v = string_at(o, "createdAt")) s.created_at = *v;
  read_server(s, o);
}

// The names one port object uses: Dokploy's own rows (camelCase) or Docker's endpoint spec.
struct PortFields {
  const char *published, *target, *protocol, *mode;
  const char* default_mode;
};

// One port object; nullopt when it lacks a valid published or target port.
std::optional<PublishedPort> read_port(const json& p, const PortFields& f) {
  auto published = port_at(p, f.published);
  auto target = port_at(p, f.target);
  if (!published || !target) return std::nullopt;
  PublishedPort pp;
  pp.published = *published;
  pp.target = *target;
  pp.protocol = string_at(p, f.protocol).value_or("tcp") == "udp" ? Protocol::udp : Protocol::tcp;
  pp.publish_mode = string_at(p, f.mode).value_or(f.default_mode);
  return pp;
}

// Dokploy's Swarm override, {"Ports": [{Protocol, TargetPort, PublishedPort, PublishMode}]}:
// when set, it replaces the service's own ports.
bool read_endpoint_spec(Service& s, const json& o, std::vector<std::string>& warnings) {
  auto it = o.find("endpointSpecSwarm");
  if (it == o.end() || !it->is_object()) return false;
  s.ports.clear();
  auto ports = it->find("Ports");
  if (ports == it->end() || !ports->is_array()) return true;
  for (const json& p : *ports) {
    if (!p.is_object()) continue;
    if (auto pp = read_port(p, {"PublishedPort", "TargetPort", "Protocol", "PublishMode", "host"}))
      s.ports.push_back(std::move(*pp));
    else
      warnings.push_back(display_name(s) +
                         ": an endpointSpecSwarm port without PublishedPort or TargetPort; Swarm "
                         "picks the host port, so it cannot be known");
  }
  return true;
}

void read_application_ports(Service& s, const json& o, std::vector<std::string>& warnings) {
  if (read_endpoint_spec(s, o, warnings)) return;
  auto it = o.find("ports");
  if (it == o.end() || !it->is_array()) return;
  s.ports.clear();
  // Before v0.23.7 there is no publishMode and Docker's default, ingress, applied.
  const PortFields fields{"publishedPort", "targetPort", "protocol", "publishMode", "ingress"};
  for (const json& p : *it) {
    if (!p.is_object()) continue;
    if (auto pp = read_port(p, fields))
      s.ports.push_back(std::move(*pp));
    else
      warnings.push_back(display_name(s) + ": a port without a valid publishedPort or targetPort");
  }
}

void read_database_ports(Service& s, const json& o, std::vector<std::string>& warnings) {
  if (read_endpoint_spec(s, o, warnings)) return;
  struct External {
    const char* key;
    std::uint16_t target;
  };
  auto target = [&]() -> std::uint16_t {
    switch (s.kind) {
      case ServiceKind::postgres:
        return 5432;
      case ServiceKind::mysql:
      case ServiceKind::mariadb:
        return 3306;
      case ServiceKind::mongo:
        return 27017;
      case ServiceKind::redis:
        return 6379;
      default:
        return 8080;  // libsql's HTTP port
    }
  }();
  std::vector<External> externals = {{"externalPort", target}};
  if (s.kind == ServiceKind::libsql) {
    externals.push_back({"externalGRPCPort", 5001});
    externals.push_back({"externalAdminPort", 5000});
  }
  bool known = false;
  for (const External& e : externals) known = known || o.contains(e.key);
  if (!known) return;  // a slim row: the `.one` answer will tell
  s.ports.clear();
  for (const External& e : externals) {
    auto published = port_at(o, e.key);
    if (!published) continue;
    PublishedPort pp;
    pp.published = *published;
    pp.target = e.target;
    pp.publish_mode = "host";
    s.ports.push_back(std::move(pp));
  }
}

void read_domains(Service& s, const json& o) {
  auto it = o.find("domains");
  if (it == o.end() || !it->is_array()) return;
  s.domains.clear();
  for (const json& d : *it) {
    if (!d.is_object()) continue;
    auto host = string_at(d, "host");
    if (!host || host->empty()) continue;
    if (bool_at(d, "enabled") == false) continue;  // no Traefik router; absent means enabled
    if (string_at(d, "domainType") == std::optional<std::string>("preview")) continue;
    Domain dom;
    dom.host = *host;
    if (auto p = string_at(d, "path"); p && !p->empty()) dom.path = *p;
    dom.https = bool_at(d, "https").value_or(false);
    dom.port = port_at(d, "port");
    dom.compose_service = string_at(d, "serviceName").value_or("");
    dom.strip_path = bool_at(d, "stripPath").value_or(false);
    dom.internal_path = string_at(d, "internalPath").value_or("");
    s.domains.push_back(std::move(dom));
  }
}

void read_placement(Service& s, const json& o) {
  if (auto env = o.find("environment"); env != o.end() && env->is_object()) {
    if (auto v = string_at(*env, "name")) s.environment = *v;
    if (auto v = bool_at(*env, "isDefault"))
      s.environment_is_default = *v;
    else if (auto v = string_at(*env, "name"))
      s.environment_is_default = *v == "production";  // before isDefault (v0.26.1)
    if (auto p = env->find("project"); p != env->end() && p->is_object()) {
      if (auto v = string_at(*p, "name")) s.project = *v;
      if (auto v = string_at(*p, "projectId")) s.project_id = *v;
    }
  } else if (auto p = o.find("project"); p != o.end() && p->is_object()) {  // layout 1's `.one`
    if (auto v = string_at(*p, "name")) s.project = *v;
    if (auto v = string_at(*p, "projectId")) s.project_id = *v;
  }
}

}  // namespace

std::string display_name(const Service& s) {
  std::string out = (s.project.empty() ? std::string() : s.project + "/") +
                    (s.name.empty() ? std::string(to_string(s.kind)) + " " + s.id : s.name);
  if (!s.environment_is_default && !s.environment.empty()) out += "@" + s.environment;
  return out;
}

std::string_view one_procedure(ServiceKind kind) {
  return info(kind).one;
}

std::string_view id_param(ServiceKind kind) {
  return info(kind).id_key;
}

Result<json> parse_json(std::string_view body, std::string_view what) {
  // Deeper than any answer of Dokploy's; a stack-eating document is refused while it is read.
  json::parser_callback_t limit = [](int depth, json::parse_event_t, json&) {
    if (depth > kMaxNestingDepth) throw TooDeep{};
    return true;
  };
  try {
    return json::parse(body.begin(), body.end(), limit);
  } catch (const TooDeep&) {
    return make_error(ErrorKind::invalid_data, std::string(what) + ": the JSON nests deeper than " +
                                                   std::to_string(kMaxNestingDepth) +
                                                   " levels; not an answer of Dokploy's");
  } catch (const json::parse_error& e) {
    // e.what() quotes the body near the error, and bodies hold secrets: only the offset.
    if (e.byte > body.size())  // nlohmann counts from 1: past the end is end of input
      return make_error(ErrorKind::invalid_data,
                        std::string(what) + ": the JSON answer ends early, after " +
                            std::to_string(body.size()) +
                            " bytes (cut short: a dropped connection or a proxy's size limit?)");
    return make_error(
        ErrorKind::invalid_data,
        std::string(what) + ": the answer is not valid JSON at byte " + std::to_string(e.byte));
  } catch (const json::exception&) {
    return make_error(ErrorKind::invalid_data,
                      std::string(what) + ": the answer is not valid JSON");
  }
}

Result<json> decode_response(const HttpResponse& r, std::string_view what) {
  const std::string w(what);
  const std::string status = "HTTP " + std::to_string(r.status);
  if (r.status >= 300 && r.status < 400)
    return make_error(ErrorKind::io,
                      w + ": redirected (" + status + ") to " +
                          (r.location.empty() ? "an unnamed place" : one_line(r.location)) +
                          ", which portman does not follow; set dokploy.url to the address "
                          "Dokploy answers at");
  if (r.status < 200 || r.status >= 300) {
    // Dokploy's errors are JSON objects with a message, and a code unless the key was refused.
    std::optional<json> err;
    if (is_json_type(r.content_type) || r.content_type.empty()) {
      auto j = parse_json(r.body, what);
      if (j && j->is_object() && j->contains("message")) err = std::move(*j);
    }
    if (!err) {
      std::string out = w + ": " + status + " with " + content_type_name(r) +
                        (r.body.empty() ? " and an empty body" : "") + " instead of Dokploy's JSON";
      // A proxy's plain-text page ("404 page not found") says where the request went wrong.
      if (r.content_type.rfind("text/plain", 0) == 0 && !r.body.empty())
        out += " ('" + one_line(r.body, 80) + "')";
      return make_error(ErrorKind::io, out + "; is dokploy.url the address of Dokploy?");
    }
    std::string message = (*err)["message"].is_string()
                              ? one_line((*err)["message"].get<std::string>())
                              : std::string("(no message)");
    auto code = string_at(*err, "code");
    if (r.status == 401 && !code)
      return make_error(ErrorKind::io,
                        w + ": Dokploy refused the API key (" + status + " " + message +
                            ", sent as x-api-key): create one in Dokploy under Settings → Profile "
                            "→ API/CLI Keys and put it in dokploy.api_key_file or "
                            "$DOKPLOY_API_KEY");
    if (r.status == 401 || r.status == 403)
      return make_error(ErrorKind::io, w + ": the API key has no permission for this (" + status +
                                           " " + one_line(code.value_or("")) + ": " + message +
                                           "); use a key of an owner or admin of the organization");
    std::string out = w + ": Dokploy answered " + status +
                      (code ? " " + one_line(*code, 40) : std::string()) + ": " + message;
    if (r.status == 500)
      out +=
          " (Dokploy v0.25.5 to v0.28.x fail so when a service sets a stop grace period; fixed "
          "in v0.29.0)";
    return make_error(ErrorKind::io, out);
  }
  if (r.body.empty())
    return make_error(ErrorKind::invalid_data, w + ": an empty answer (" + status + "), not JSON");
  if (!r.content_type.empty() && !is_json_type(r.content_type))
    return make_error(ErrorKind::invalid_data,
                      w + ": " + status + " with " + content_type_name(r) +
                          " instead of JSON; is dokploy.url the address of Dokploy itself (not "
                          "its web page behind a login)?");
  return parse_json(r.body, what);
}

Result<Listing> parse_project_all(const json& doc) {
  if (!doc.is_array())
    return not_a_listing("the answer",
                         std::string("is a JSON ") + doc.type_name() + ", not a list of projects");
  Listing out;
  bool v1 = false, full_rows = false;
  auto add_services = [&](const json& holder, const std::string& where,
                          const Service& base) -> Status {
    for (const KindInfo& k : kKinds) {
      auto list = holder.find(k.list_key);
      if (list == holder.end() || list->is_null()) continue;
      if (!list->is_array()) return not_a_listing(where + "." + k.list_key, "is not a list");
      for (std::size_t i = 0; i < list->size(); ++i) {
        const json& row = (*list)[i];
        auto id = row.is_object() ? string_at(row, k.id_key) : std::nullopt;
        if (!id || id->empty())
          return not_a_listing(where + "." + k.list_key + "[" + std::to_string(i) + "]",
                               std::string("has no ") + k.id_key);
        if (row.contains("appName") || row.contains("domains")) full_rows = true;
        Service s = base;
        s.kind = k.kind;
        s.id = *id;
        read_common(s, row);
        out.services.push_back(std::move(s));
        out.rows.push_back(row);
      }
    }
    return Status{};
  };
  for (std::size_t p = 0; p < doc.size(); ++p) {
    const json& project = doc[p];
    const std::string where = "[" + std::to_string(p) + "]";
    if (!project.is_object() || !string_at(project, "projectId"))
      return not_a_listing("project " + where, "is not a project (no projectId)");
    Service base;
    base.project = string_at(project, "name").value_or("");
    base.project_id = *string_at(project, "projectId");
    if (project.contains("applications")) {  // layout 1: services hang off the project
      v1 = true;
      base.environment = "production";
      base.environment_is_default = true;
      if (auto st = add_services(project, where, base); !st) return st.error();
      continue;
    }
    auto envs = project.find("environments");
    if (envs == project.end() || envs->is_null()) continue;  // nothing this key may see
    if (!envs->is_array()) return not_a_listing(where + ".environments", "is not a list");
    for (std::size_t e = 0; e < envs->size(); ++e) {
      const json& env = (*envs)[e];
      const std::string ewhere = where + ".environments[" + std::to_string(e) + "]";
      if (!env.is_object()) return not_a_listing(ewhere, "is not an environment");
      Service in_env = base;
      in_env.environment = string_at(env, "name").value_or("production");
      in_env.environment_is_default =
          bool_at(env, "isDefault").value_or(in_env.environment == "production");
      if (auto st = add_services(env, ewhere, in_env); !st) return st.error();
    }
  }
  out.layout = v1 ? 1 : full_rows ? 2 : 3;
  return out;
}

bool row_has_details(ServiceKind kind, const json& row) {
  if (!row.contains("appName")) return false;  // a slim (layout 3) row
  switch (kind) {
    case ServiceKind::application:
      return false;  // ports are only in application.one
    case ServiceKind::compose:
      return row.contains("composeFile") && string_at(row, "sourceType") == "raw";
    default:
      return row.contains("externalPort");
  }
}

Result<ComposeSource> apply_details(Service& s, const json& one,
                                    std::vector<std::string>& warnings) {
  if (!one.is_object())
    return make_error(ErrorKind::invalid_data, std::string(one_procedure(s.kind)) +
                                                   ": the answer is a JSON " + one.type_name() +
                                                   ", not a service");
  if (auto id = string_at(one, info(s.kind).id_key); id && *id != s.id)
    return make_error(ErrorKind::invalid_data,
                      std::string(one_procedure(s.kind)) + ": asked for " + s.id + ", got " + *id);
  read_common(s, one);
  read_placement(s, one);
  read_domains(s, one);
  ComposeSource compose;
  switch (s.kind) {
    case ServiceKind::application:
      read_application_ports(s, one, warnings);
      break;
    case ServiceKind::compose: {
      compose.env = string_at(one, "env").value_or("");
      compose.stack = string_at(one, "composeType") == std::optional<std::string>("stack");
      auto file = string_at(one, "composeFile");
      auto source = string_at(one, "sourceType");
      if (source == std::optional<std::string>("raw") || (!source && file && !file->empty())) {
        if (auto st = apply_compose_yaml(s, file.value_or(""), compose, warnings); !st)
          return st.error();
      } else {
        compose.needs_converted = true;
      }
      break;
    }
    default:
      read_database_ports(s, one, warnings);
  }
  return compose;
}

Status apply_compose_yaml(Service& s, std::string_view yaml, const ComposeSource& source,
                          std::vector<std::string>& warnings) {
  s.ports.clear();
  if (yaml.find_first_not_of(" \t\r\n") == std::string_view::npos) return {};
  auto parsed = parse_compose_ports(yaml, source.env, source.stack, "the compose file");
  if (!parsed) return make_error(ErrorKind::invalid_data, parsed.error().message);
  s.ports = std::move(parsed->ports);
  for (std::string& w : parsed->warnings) warnings.push_back(display_name(s) + ": " + w);
  return {};
}

}  // namespace portman::dokploy
