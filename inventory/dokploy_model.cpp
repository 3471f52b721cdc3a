#include "inventory/dokploy_model.hpp"

namespace portman::dokploy {

std::string_view to_string(ServiceKind kind) {
  switch (kind) {
    case ServiceKind::application:
      return "application";
    case ServiceKind::compose:
      return "compose";
    case ServiceKind::postgres:
      return "postgres";
    case ServiceKind::mysql:
      return "mysql";
    case ServiceKind::mariadb:
      return "mariadb";
    case ServiceKind::mongo:
      return "mongo";
    case ServiceKind::redis:
      return "redis";
    case ServiceKind::libsql:
      return "libsql";
  }
  return "unknown";
}

bool is_database(ServiceKind kind) {
  return kind != ServiceKind::application && kind != ServiceKind::compose;
}

std::vector<const Service*> Inventory::on_server(
    const std::optional<std::string>& server_id) const {
  std::vector<const Service*> out;
  for (const Service& s : services)
    if (s.server_id == server_id) out.push_back(&s);
  return out;
}

}  // namespace portman::dokploy
