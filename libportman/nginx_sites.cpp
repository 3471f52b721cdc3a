// The nginx generator. Every value that reaches the config text is checked first (host names,
// paths, addresses, certificate paths), since a stray `;` or `}` in Dokploy's data would
// otherwise change the meaning of the whole file.
#include "libportman/nginx_sites.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <tuple>
#include <vector>

namespace portman::nginx {
namespace {

using dokploy::Domain;
using dokploy::PublishedPort;
using dokploy::Service;

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A DNS name, optionally with a leading "*." (nginx's wildcard server_name).
bool valid_host(std::string_view host) {
  if (host.substr(0, 2) == "*.") host.remove_prefix(2);
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= host.size(); ++i) {
    char c = i < host.size() ? host[i] : '.';
    if (c == '.') {
      if (label == 0 || host[i - 1] == '-') return false;
      label = 0;
    } else if (is_alnum(c) || (c == '-' && label > 0)) {
      ++label;
      if (label > 63) return false;
    } else {
      return false;
    }
  }
  return true;
}

// A URL path that nginx takes unquoted: no spaces, quotes, braces, semicolons or `$`.
bool valid_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  return std::all_of(path.begin(), path.end(), [](char c) {
    return is_alnum(c) || std::string_view("/-._~%+@:,=!*").find(c) != std::string_view::npos;
  });
}

bool valid_ip(std::string_view ip) {
  return !ip.empty() && ip.size() <= 45 && std::all_of(ip.begin(), ip.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
           c == ':';
  });
}

std::string with_brackets(const std::string& ip) {
  return ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
}

// Comments carry Dokploy's text: one line, printable.
std::string comment_text(std::string_view text) {
  std::string out;
  for (char c : text) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

std::string regex_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view(".+*?()[]{}|^$\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string service_name(const Service& s) {
  std::string name = s.project + "/" + s.name;
  if (!s.environment_is_default) name += "@" + s.environment;
  return name;
}

// One domain path, with where it goes or why it cannot.
struct Site {
  std::string host, path;
  bool https = false;
  bool strip = false;
  std::string internal_path;
  std::string upstream;               // "127.0.0.1:8080"; empty: not served
  std::vector<std::string> comments;  // why not served, or what to know
  std::string service;
};

// The published port that serves the domain, or nullptr with the reason.
const PublishedPort* serving_port(const Service& s, const Domain& d, std::string& why) {
  std::vector<const PublishedPort*> tcp;
  for (const auto& p : s.ports)
    if (p.protocol == Protocol::tcp && p.published != 0) tcp.push_back(&p);
  const bool compose = s.kind == dokploy::ServiceKind::compose;
  std::optional<std::uint16_t> target = d.port;
  if (!target) {
    if (!compose && tcp.size() == 1) return tcp.front();
    why = "the domain names no container port";
    return nullptr;
  }
  for (const PublishedPort* p : tcp)
    if (p->target == *target && (!compose || p->compose_service == d.compose_service)) return p;
  why = "no host port publishes container port " + std::to_string(*target) +
        (compose ? " of compose service '" + d.compose_service + "'" : std::string()) +
        "; it is reachable only on Docker's networks (through Traefik)";
  return nullptr;
}

// A certificate path, quoted in the output: no quote, backslash, `$` (nginx variables), control
// character, or brace other than {domain}.
Status check_template(const char* key, const std::string& value) {
  std::string rest = value;
  for (std::size_t at; (at = rest.find("{domain}")) != std::string::npos;) rest.erase(at, 8);
  for (char c : rest)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '$' ||
        c == '{' || c == '}')
      return make_error(ErrorKind::bad_input,
                        std::string("nginx.") + key + ": '" + comment_text(value) +
                            "' holds a character an nginx path cannot take here (a quote, "
                            "backslash, $, control character or a brace other than {domain})");
  return {};
}

std::string fill(const std::string& tmpl, const std::string& host) {
  std::string out = tmpl;
  for (std::size_t at = 0; (at = out.find("{domain}", at)) != std::string::npos; at += host.size())
    out.replace(at, 8, host);
  return out;
}

void location_block(std::string& out, const Site& site) {
  out += "    location " + site.path + " {\n";
  for (const auto& c : site.comments) out += "        # " + comment_text(c) + "\n";
  const bool strip = site.strip && site.path != "/";
  const bool prefix = !site.internal_path.empty() && site.internal_path != "/";
  if (strip || prefix) {
    std::string base = prefix ? site.internal_path : std::string();
    if (!base.empty() && base.back() == '/') base.pop_back();
    if (strip) {
      std::string p = site.path;
      if (p.size() > 1 && p.back() == '/') p.pop_back();
      out += "        rewrite ^" + regex_escape(p) + "/?(.*)$ " + base + "/$1 break;\n";
    } else {
      out += "        rewrite ^(.*)$ " + base + "$1 break;\n";
    }
  }
  out += "        proxy_pass http://" + site.upstream +
         ";\n"
         "        proxy_http_version 1.1;\n"
         "        proxy_set_header Upgrade $http_upgrade;\n"
         "        proxy_set_header Connection $portman_connection_upgrade;\n"
         "        proxy_set_header Host $host;\n"
         "        proxy_set_header X-Real-IP $remote_addr;\n"
         "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
         "        proxy_set_header X-Forwarded-Proto $scheme;\n"
         "    }\n";
}

}  // namespace

Result<std::string> render_sites(const dokploy::Inventory& inventory,
                                 const std::optional<std::string>& server_id,
                                 const SiteOptions& options) {
  const NginxConfig& cfg = options.config;
  if (cfg.certificate.empty() != cfg.certificate_key.empty())
    return make_error(ErrorKind::bad_input,
                      "nginx.certificate and nginx.certificate_key go together: set both "
                      "(e.g. /etc/letsencrypt/live/{domain}/fullchain.pem and privkey.pem) or "
                      "neither");
  for (auto [key, value] :
       {std::pair{"certificate", &cfg.certificate}, {"certificate_key", &cfg.certificate_key}})
    if (auto st = check_template(key, *value); !st) return st.error();
  if (!cfg.listen_address.empty() && !valid_ip(cfg.listen_address))
    return make_error(ErrorKind::bad_input, "nginx.listen_address: '" +
                                                comment_text(cfg.listen_address) +
                                                "' is not an IP address (e.g. 127.0.0.1 or ::1)");
  const bool tls = !cfg.certificate.empty();
  const std::string listen_prefix =
      cfg.listen_address.empty() ? std::string() : with_brackets(cfg.listen_address) + ":";

  // Which services publish each tcp host port here: two make a proxied port ambiguous.
  std::map<std::uint16_t, std::set<std::string>> publishers;
  for (const Service& s : inventory.services)
    if (s.server_id == server_id)
      for (const auto& p : s.ports)
        if (p.protocol == Protocol::tcp && p.published != 0)
          publishers[p.published].insert(service_name(s));

  std::vector<Site> sites;
  std::vector<std::string> skipped;  // whole domains not served, as comment lines
  for (const Service& s : inventory.services) {
    for (const Domain& d : s.domains) {
      const std::string where = comment_text(d.host) + comment_text(d.path == "/" ? "" : d.path) +
                                " (" + comment_text(service_name(s)) + ")";
      if (s.server_id != server_id) {
        skipped.push_back(where + ": runs on " +
                          (s.server_id ? "server " + comment_text(*s.server_id)
                                       : std::string("the Dokploy host")) +
                          ", not here");
        continue;
      }
      if (!valid_host(d.host)) {
        skipped.push_back(where + ": not a host name nginx can serve");
        continue;
      }
      const std::string path = d.path.empty() ? "/" : d.path;
      if (!valid_path(path) || (!d.internal_path.empty() && !valid_path(d.internal_path))) {
        skipped.push_back(where + ": the path holds characters an nginx location cannot take");
        continue;
      }
      if (!s.error.empty()) {
        skipped.push_back(where + ": Dokploy did not give its ports (" + comment_text(s.error) +
                          ")");
        continue;
      }
      std::string why;
      const PublishedPort* p = serving_port(s, d, why);
      if (!p) {
        skipped.push_back(where + ": " + why);
        continue;
      }
      std::string ip = p->host_ip;
      if (ip.empty() || ip == "0.0.0.0") ip = "127.0.0.1";
      if (ip == "::") ip = "::1";
      if (!valid_ip(ip)) {
        skipped.push_back(where + ": host address '" + comment_text(ip) + "' is not an IP address");
        continue;
      }
      Site site;
      site.host = d.host;
      std::transform(site.host.begin(), site.host.end(), site.host.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      site.path = path;
      site.https = d.https;
      site.strip = d.strip_path;
      site.internal_path = d.internal_path;
      site.upstream = with_brackets(ip) + ":" + std::to_string(p->published);
      site.service = service_name(s);
      site.comments.push_back(site.service + ", " +
                              (p->compose_service.empty()
                                   ? std::string()
                                   : "compose service " + p->compose_service + ", ") +
                              "container port " + std::to_string(p->target));
      const auto& pubs = publishers[p->published];
      if (pubs.size() > 1) {
        std::string names;
        for (const auto& n : pubs) names += (names.empty() ? "" : ", ") + n;
        site.comments.push_back("AMBIGUOUS: host port " + std::to_string(p->published) +
                                " is published by " + names + "; which one answers is not certain");
      }
      if (d.https && !tls)
        site.comments.push_back(
            "HTTPS in Dokploy; plain HTTP here until nginx.certificate and "
            "nginx.certificate_key are set");
      sites.push_back(std::move(site));
    }
  }
  std::sort(sites.begin(), sites.end(), [](const Site& a, const Site& b) {
    return std::tie(a.host, a.path, a.service) < std::tie(b.host, b.path, b.service);
  });
  std::sort(skipped.begin(), skipped.end());

  std::string out =
      "# Generated by `portman sync --nginx` from Dokploy's domains for " +
      (server_id ? "server " + comment_text(*server_id) : std::string("the Dokploy host")) +
      ".\n# Include it inside nginx's http block; the next run rewrites it.\n\n"
      "map $http_upgrade $portman_connection_upgrade {\n"
      "    default upgrade;\n"
      "    '' close;\n"
      "}\n";
  for (const auto& line : skipped) out += "\n# not served: " + line + "\n";

  // One server block per host, its paths as locations.
  for (std::size_t i = 0; i < sites.size();) {
    std::size_t end = i;
    bool https = false;
    while (end < sites.size() && sites[end].host == sites[i].host) https |= sites[end++].https;
    const std::string& host = sites[i].host;
    const bool ssl = https && tls;
    out += "\nserver {\n";
    if (ssl)
      out += "    listen " + listen_prefix + std::to_string(options.https_port) + " ssl;\n";
    else
      out += "    listen " + listen_prefix + std::to_string(options.http_port) + ";\n";
    out += "    server_name " + host + ";\n";
    if (ssl) {
      out += "    ssl_certificate \"" + fill(cfg.certificate, host) + "\";\n";
      out += "    ssl_certificate_key \"" + fill(cfg.certificate_key, host) + "\";\n";
    }
    for (std::size_t j = i; j < end; ++j) {
      if (j > i && sites[j].path == sites[j - 1].path) {
        out += "    # not served: " + sites[j].path + " (" + comment_text(sites[j].service) +
               "): the same path is already routed to " + comment_text(sites[j - 1].service) + "\n";
        continue;
      }
      out += "\n";
      location_block(out, sites[j]);
    }
    out += "}\n";
    if (ssl) {
      const std::string port =
          options.https_port == 443 ? std::string() : ":" + std::to_string(options.https_port);
      out += "\nserver {\n    listen " + listen_prefix + std::to_string(options.http_port) +
             ";\n    server_name " + host + ";\n    return 301 https://$host" + port +
             "$request_uri;\n}\n";
    }
    i = end;
  }
  return out;
}

}  // namespace portman::nginx
