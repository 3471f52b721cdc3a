// `portman sync --nginx`: an nginx configuration for the domains that Dokploy routes on this
// server, each path proxied to the host port that serves it. Pure: text from the inventory and
// the `nginx:` section; the output goes inside nginx's `http` block (e.g. conf.d/portman.conf).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "inventory/dokploy_model.hpp"
#include "libportman/config.hpp"
#include "libportman/result.hpp"

namespace portman::nginx {

struct SiteOptions {
  NginxConfig config;
  std::uint16_t http_port = 80;
  std::uint16_t https_port = 443;
};

// A server block per host (its paths as locations), sorted by host then path. HTTPS blocks and a
// redirect from HTTP only where the domain is HTTPS in Dokploy and a certificate is configured.
// A domain that cannot be served here (no host port, another server, a name nginx cannot hold)
// becomes a comment saying why. bad_input when the nginx section holds an unusable value.
Result<std::string> render_sites(const dokploy::Inventory& inventory,
                                 const std::optional<std::string>& server_id,
                                 const SiteOptions& options);

}  // namespace portman::nginx
