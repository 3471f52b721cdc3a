// Prints the nginx sites that `portman sync --nginx` writes for the fixtures' Dokploy inventory
// (tests/unit/dokploy_inventory.hpp), so that tests/integration/test_nginx.cpp can hand them to a
// real nginx without a Dokploy.
//   nginx_config_tool [--server ID] [--cert TEMPLATE --key TEMPLATE] [--listen ADDR]
//                     [--http-port N] [--https-port N]
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "libportman/nginx_sites.hpp"
#include "unit/dokploy_inventory.hpp"

int main(int argc, char** argv) {
  portman::nginx::SiteOptions options;
  std::optional<std::string> server;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--server")
      server = value;
    else if (flag == "--cert")
      options.config.certificate = value;
    else if (flag == "--key")
      options.config.certificate_key = value;
    else if (flag == "--listen")
      options.config.listen_address = value;
    else if (flag == "--http-port")
      options.http_port = static_cast<std::uint16_t>(std::atoi(value.c_str()));
    else if (flag == "--https-port")
      options.https_port = static_cast<std::uint16_t>(std::atoi(value.c_str()));
    else {
      std::cerr << "nginx_config_tool: unknown flag " << flag << "\n";
      return 2;
    }
  }
  auto text = portman::nginx::render_sites(portman::test::fixture_inventory(), server, options);
  if (!text) {
    std::cerr << "nginx_config_tool: " << text.error().message << "\n";
    return 1;
  }
  std::cout << *text;
  return 0;
}
