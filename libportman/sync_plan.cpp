// The sync planner: Dokploy's published ports on this server against the registry's entries.
#include "libportman/sync_plan.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace portman::sync {
namespace {

using dokploy::PublishedPort;
using dokploy::Service;

// The kind's name as the dokploy object holds it (and Dokploy's API spells it).
std::string kind_name(dokploy::ServiceKind kind) {
  return std::string(dokploy::to_string(kind));
}

std::string entry_name(const Service& s, const PublishedPort& p) {
  std::string name = s.project + "/" + s.name;
  if (s.kind == dokploy::ServiceKind::compose && !p.compose_service.empty())
    name += "/" + p.compose_service;
  if (!s.environment_is_default) name += "@" + s.environment;
  return name;
}

Json link_of(const Service& s, const PublishedPort& p) {
  Json link = Json::object();
  link["project"] = s.project;
  link["environment"] = s.environment;
  link["service"] = s.name;
  link["kind"] = kind_name(s.kind);
  link["id"] = s.id;
  link["target_port"] = p.target;
  if (s.kind == dokploy::ServiceKind::compose) link["compose_service"] = p.compose_service;
  return link;
}

std::string text_of(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// What tells one published port of one Dokploy service from every other: kind, id, compose
// service, container port and protocol. Empty when the entry carries no usable link.
std::string identity(const Json& link, Protocol protocol) {
  if (!link.is_object()) return {};
  std::string kind = text_of(link, "kind"), id = text_of(link, "id");
  auto target = link.find("target_port");
  if (kind.empty() || id.empty() || target == link.end() || !target->is_number_integer() ||
      target->get<std::int64_t>() < 0)
    return {};
  return kind + '\n' + id + '\n' + text_of(link, "compose_service") + '\n' +
         std::to_string(target->get<std::int64_t>()) + '\n' + std::string(to_string(protocol));
}

const Json* link_of_entry(const Entry& e) {
  auto it = e.json.find("dokploy");
  return it != e.json.end() ? &*it : nullptr;
}

// An entry that sync may change: one it wrote (a dokploy object) or one registered for Dokploy by
// hand or by the old scripts (owner "dokploy").
bool dokploy_entry(const Entry& e) {
  const Json* link = link_of_entry(e);
  return (link && link->is_object()) || e.owner == "dokploy";
}

// Members equal regardless of order (a hand-edited file may reorder them).
bool same_object(const Json& a, const Json& b) {
  if (!a.is_object() || !b.is_object() || a.size() != b.size()) return false;
  for (auto& [k, v] : a.items()) {
    auto it = b.find(k);
    if (it == b.end() || *it != v) return false;
  }
  return true;
}

std::string url_for(const Service& s, const PublishedPort& p) {
  if (p.protocol != Protocol::tcp) return {};
  const dokploy::Domain* chosen = nullptr;
  for (const auto& d : s.domains) {
    if (s.kind == dokploy::ServiceKind::compose && !d.compose_service.empty() &&
        d.compose_service != p.compose_service)
      continue;
    if (d.port && *d.port != p.target) continue;
    if (!chosen || (d.https && !chosen->https)) chosen = &d;
    if (chosen->https) break;
  }
  if (!chosen) return {};
  std::string url = (chosen->https ? "https://" : "http://") + chosen->host;
  if (!chosen->path.empty() && chosen->path != "/") url += chosen->path;
  return url;
}

std::string display(PortKey key) {
  return std::to_string(key.port) + "/" + std::string(to_string(key.protocol));
}

// One port that Dokploy publishes on this server, with what its entry should say.
struct Wanted {
  PortKey key;
  const Service* service = nullptr;
  const PublishedPort* port = nullptr;
  std::string name, environment, url, status, identity;
  std::string env_note;  // set when the Dokploy environment is not a configured one
  Json link;
};

Wanted make_wanted(const Service& s, const PublishedPort& p, const Config& config) {
  Wanted w;
  w.key = p.key();
  w.service = &s;
  w.port = &p;
  w.name = entry_name(s, p);
  w.link = link_of(s, p);
  w.identity = identity(w.link, p.protocol);
  w.url = url_for(s, p);
  w.status = s.status == "done" || s.status == "running" ? "active" : "allocated";
  if (config.has_environment(s.environment)) {
    w.environment = s.environment;
  } else {
    w.environment = s.environment_is_default ? "production" : "staging";
    if (!config.has_environment(w.environment) && !config.environments.empty())
      w.environment = config.environments.front();
    w.env_note = w.name + ": Dokploy environment '" + s.environment +
                 "' is not a configured one; registered as '" + w.environment +
                 "' (dokploy.environment keeps '" + s.environment + "')";
  }
  return w;
}

// Older first: created_at as Dokploy wrote it (ISO-8601 sorts as text), unknown last.
bool older(const Wanted& a, const Wanted& b) {
  const std::string &ca = a.service->created_at, &cb = b.service->created_at;
  return std::make_tuple(ca.empty(), ca, a.name) < std::make_tuple(cb.empty(), cb, b.name);
}

std::string created(const Wanted& w) {
  return w.service->created_at.empty() ? "created at an unknown time"
                                       : "created " + w.service->created_at;
}

NewEntry new_entry(const Wanted& w, const Config& config) {
  NewEntry e;
  e.service = w.name;
  e.description = "Dokploy " + kind_name(w.service->kind) + " " + w.service->name +
                  ", container port " + std::to_string(w.port->target);
  e.environment = w.environment;
  e.owner = "dokploy";
  e.status = w.status;
  e.url = w.url;
  if (dokploy::is_database(w.service->kind)) {
    e.service_type = "database";
  } else if (const ServiceType* t = config.type_of_port(w.key.port)) {
    e.service_type = t->name;
  } else if (config.find_type("dynamic")) {
    e.service_type = "dynamic";
  }
  const std::string& ip = w.port->host_ip;
  if (!ip.empty() && ip != "0.0.0.0" && ip != "::") e.bind = ip;
  e.extra = Json::object();
  e.extra["dokploy"] = w.link;
  return e;
}

// What an entry linked to `w` must change to follow it.
std::vector<FieldChange> changes_for(const Entry& e, const Wanted& w, const NewEntry& fresh) {
  std::vector<FieldChange> out;
  auto change = [&](const char* field, const std::string& from, const std::string& to) {
    if (from != to)
      out.push_back({field, from.empty() ? Json() : Json(from), to.empty() ? Json() : Json(to)});
  };
  const Json* link = link_of_entry(e);
  const bool linked = link && link->is_object();
  if (!linked || !same_object(*link, w.link)) {
    // Names follow Dokploy's only when Dokploy's side changed: a rename by hand otherwise stays.
    auto differs = [&](const char* k) {
      return !linked || text_of(*link, k) != text_of(w.link, k);
    };
    if (differs("project") || differs("service") || differs("environment") ||
        differs("compose_service") || differs("id") || differs("kind"))
      change("service", e.service, w.name);
    if (!linked || differs("environment")) change("environment", e.environment, w.environment);
    out.push_back({"dokploy", linked ? *link : Json(), w.link});
  }
  if (e.owner != "dokploy") change("owner", e.owner, "dokploy");
  if (!w.url.empty()) change("url", e.url, w.url);
  if (!fresh.bind.empty()) change("bind", e.bind, fresh.bind);
  if (e.status == "inactive") change("status", e.status, w.status);
  return out;
}

}  // namespace

Plan plan_sync(const Registry& registry, const dokploy::Inventory& inventory, const Config& config,
               const std::optional<std::string>& server_id) {
  Plan plan;
  std::set<std::string> notes_seen;
  auto note = [&](const std::string& text) {
    if (notes_seen.insert(text).second) plan.notes.push_back(text);
  };

  // Every port Dokploy publishes here, by key; a service whose details failed has unknown ports.
  std::map<PortKey, std::vector<Wanted>> by_key;
  std::set<std::string> unknown_services;  // kind\nid of services whose ports are unknown
  for (const Service& s : inventory.services) {
    if (s.server_id != server_id) continue;
    if (!s.error.empty()) {
      unknown_services.insert(kind_name(s.kind) + '\n' + s.id);
      // Its name may be unknown too (project.all of v0.28.3+ lists ids only).
      note(s.project + "/" + (s.name.empty() ? kind_name(s.kind) + " " + s.id : s.name) +
           ": Dokploy did not give its ports (" + s.error + "); its entries are left as they are");
      continue;
    }
    for (const PublishedPort& p : s.ports) {
      if (p.published == 0) continue;  // a random host port: nothing to register
      Wanted w = make_wanted(s, p, config);
      auto& list = by_key[w.key];
      bool repeat =
          std::any_of(list.begin(), list.end(), [&](const Wanted& o) { return o.name == w.name; });
      if (!repeat) list.push_back(std::move(w));
    }
  }

  // One winner per key: platform ports go to the platform, collisions to the oldest service.
  std::vector<Wanted> winners;
  std::set<std::string> all_identities;
  for (auto& [key, list] : by_key) {
    for (const Wanted& w : list) all_identities.insert(w.identity);
    auto platform =
        std::find_if(std::begin(dokploy::kPlatformPorts), std::end(dokploy::kPlatformPorts),
                     // An init-capture: clang before 16 cannot capture a structured binding.
                     [&k = key](const dokploy::PlatformPort& pp) { return pp.key == k; });
    if (platform != std::end(dokploy::kPlatformPorts)) {
      for (const Wanted& w : list)
        plan.conflicts.push_back(
            {key, w.name, std::string(platform->what),
             display(key) + " conflict: " + w.name + " publishes " + std::string(platform->what) +
                 "'s port; not registered (Dokploy's own ports are reserved)"});
      continue;
    }
    std::sort(list.begin(), list.end(), older);
    if (list.size() > 1) {
      Collision c{key, list.front().name, {}, {}};
      c.text = display(key) + " collision: " + list.front().name + " (" + created(list.front()) +
               ") gets the entry; ";
      for (std::size_t i = 1; i < list.size(); ++i) {
        c.others.push_back(list[i].name);
        c.text += (i > 1 ? ", " : "") + list[i].name + " (" + created(list[i]) + ")";
      }
      c.text += list.size() > 2 ? " publish it too" : " publishes it too";
      plan.collisions.push_back(std::move(c));
    }
    winners.push_back(list.front());
  }

  // Registry entries linked to Dokploy, by identity.
  std::map<std::string, std::vector<const Entry*>> linked;
  for (const Entry& e : registry.entries())
    if (const Json* link = link_of_entry(e)) {
      std::string id = identity(*link, e.key.protocol);
      if (!id.empty()) linked[id].push_back(&e);
    }
  std::set<PortKey> winner_keys;
  std::map<std::string, int> winner_identities;
  for (const Wanted& w : winners) {
    winner_keys.insert(w.key);
    ++winner_identities[w.identity];
  }

  std::set<PortKey> consumed;     // entries that follow a wanted port
  std::set<std::string> blocked;  // identities held up by a conflict
  std::set<std::string> used_env_notes;
  for (const Wanted& w : winners) {
    NewEntry fresh = new_entry(w, config);
    const Entry* at = registry.find(w.key);
    if (at && !dokploy_entry(*at)) {
      blocked.insert(w.identity);
      std::string holder = at->service.empty() ? "an entry without a service" : at->service;
      plan.conflicts.push_back({w.key, w.name, holder,
                                display(w.key) + " conflict: Dokploy's " + w.name +
                                    " publishes it, but the registry "
                                    "gives it to " +
                                    holder +
                                    (at->owner.empty() ? "" : " (owner " + at->owner + ")") +
                                    "; not overwritten"});
      continue;
    }
    bool changed = false;
    if (at) {
      consumed.insert(at->key);
      auto changes = changes_for(*at, w, fresh);
      if (!changes.empty()) {
        plan.updates.push_back({w.key, std::nullopt, w.name, std::move(changes)});
        changed = true;
      }
    } else {
      // The service's port moved: its entry elsewhere follows it, unless that key is wanted too.
      const Entry* old = nullptr;
      auto it = linked.find(w.identity);
      if (it != linked.end() && winner_identities[w.identity] == 1)
        for (const Entry* e : it->second)
          if (!winner_keys.count(e->key) && !consumed.count(e->key)) {
            old = e;
            break;
          }
      if (old) {
        consumed.insert(old->key);
        auto changes = changes_for(*old, w, fresh);
        changes.insert(changes.begin(), {"port", Json(display(old->key)), Json(display(w.key))});
        plan.updates.push_back({w.key, old->key, w.name, std::move(changes)});
      } else if (auto st = check_new_entry(fresh, config); !st) {
        note(display(w.key) + " " + w.name + ": not added: " + st.error().message);
        continue;
      } else {
        plan.additions.push_back({w.key, std::move(fresh)});
      }
      changed = true;
    }
    if (changed && !w.env_note.empty() && used_env_notes.insert(w.env_note).second)
      note(w.env_note);
    if (changed && !at && config.is_reserved(w.key.port))
      note(display(w.key) + " is in the config's `reserved` list; registered anyway, since " +
           w.name + " publishes it");
  }

  // Linked entries that no wanted port claims: their service or port is gone.
  for (const Entry& e : registry.entries()) {
    const Json* link = link_of_entry(e);
    if (!link || consumed.count(e.key) || e.status == "inactive") continue;
    std::string id = identity(*link, e.key.protocol);
    if (id.empty() || blocked.count(id)) continue;
    const std::string kind = text_of(*link, "kind"), sid = text_of(*link, "id");
    if (unknown_services.count(kind + '\n' + sid)) continue;
    auto svc =
        std::find_if(inventory.services.begin(), inventory.services.end(),
                     [&](const Service& s) { return kind_name(s.kind) == kind && s.id == sid; });
    std::string reason;
    if (svc == inventory.services.end())
      reason = "its Dokploy service is gone";
    else if (svc->server_id != server_id)
      reason = "its Dokploy service now runs on " +
               (svc->server_id ? "server " + *svc->server_id : std::string("the Dokploy host"));
    else if (all_identities.count(id))
      reason = "Dokploy publishes this port of the service elsewhere, or another service holds it";
    else
      reason = "Dokploy no longer publishes this port of the service";
    plan.deactivations.push_back({e.key, e.service, reason});
  }
  return plan;
}

void apply(const Plan& plan, Registry& registry, const std::string& timestamp) {
  for (const Addition& a : plan.additions)
    registry.add(a.key, entry_fields(a.entry, a.key.protocol, timestamp));
  for (const Update& u : plan.updates) {
    Json fields = Json::object();
    for (const FieldChange& c : u.changes)
      if (c.field != "port") fields[c.field] = c.to;
    if (!u.from) {
      registry.update_fields(u.key, fields, timestamp);
      continue;
    }
    const Entry* old = registry.find(*u.from);
    if (!old) continue;
    Json moved = old->json;
    for (auto& [k, v] : fields.items()) moved[k] = v;
    moved["protocol"] = std::string(to_string(u.key.protocol));
    moved["allocated_at"] = timestamp;
    moved.erase("updated_at");
    registry.release(*u.from, timestamp);
    registry.add(u.key, std::move(moved));
  }
  for (const Deactivation& d : plan.deactivations) {
    const Entry* e = registry.find(d.key);
    if (!e) continue;
    std::string notes = e->notes.empty() ? "sync: " + d.reason : e->notes + "; sync: " + d.reason;
    registry.update_fields(d.key, Json{{"status", "inactive"}, {"notes", notes}}, timestamp);
  }
}

namespace {

std::string shown(const Json& v) {
  if (v.is_null()) return "(none)";
  if (v.is_string()) return "'" + v.get<std::string>() + "'";
  return v.dump();
}

// "url 'a' → 'b'", and for the dokploy object only the members that differ.
std::string change_text(const FieldChange& c) {
  if (c.field == "port")
    return "moved from " + c.from.get<std::string>() + " (the old entry goes to the archive)";
  if (c.field == "dokploy" && c.from.is_object() && c.to.is_object()) {
    std::string out;
    for (auto& [k, v] : c.to.items()) {
      auto it = c.from.find(k);
      Json before = it != c.from.end() ? *it : Json();
      if (before != v)
        out +=
            (out.empty() ? "" : ", ") + ("dokploy." + k) + " " + shown(before) + " → " + shown(v);
    }
    return out.empty() ? "dokploy link rewritten" : out;
  }
  if (c.field == "dokploy") return "linked to Dokploy";
  return c.field + " " + shown(c.from) + " → " + shown(c.to);
}

Json key_json(PortKey key) {
  return Json{{"port", key.port}, {"protocol", std::string(to_string(key.protocol))}};
}

Json entry_json(const NewEntry& e) {
  Json out = Json::object();
  auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) out[k] = v;
  };
  put("service", e.service);
  put("description", e.description);
  put("environment", e.environment);
  put("owner", e.owner);
  put("status", e.status);
  put("url", e.url);
  put("service_type", e.service_type);
  put("process", e.process);
  put("bind", e.bind);
  for (auto& [k, v] : e.extra.items()) out[k] = v;
  return out;
}

}  // namespace

std::string render_text(const Plan& plan) {
  std::string out;
  for (const Addition& a : plan.additions) {
    out += "+ " + display(a.key) + " " + a.entry.service + " (" +
           (a.entry.service_type.empty() ? "no type" : a.entry.service_type) + ", " +
           a.entry.environment + ") " + a.entry.status;
    if (!a.entry.url.empty()) out += " " + a.entry.url;
    if (!a.entry.bind.empty()) out += " bind " + a.entry.bind;
    out += "\n";
  }
  for (const Update& u : plan.updates) {
    out += "~ " + display(u.key) + " " + u.service + ":";
    const char* sep = " ";
    for (const FieldChange& c : u.changes) {
      out += sep + change_text(c);
      sep = "; ";
    }
    out += "\n";
  }
  for (const Deactivation& d : plan.deactivations)
    out += "- " + display(d.key) + " " + d.service + " → inactive (" + d.reason + ")\n";
  for (const Collision& c : plan.collisions) out += "! " + c.text + "\n";
  for (const Conflict& c : plan.conflicts) out += "! " + c.text + "\n";
  for (const std::string& n : plan.notes) out += "note: " + n + "\n";
  if (plan.empty()) {
    out += "nothing to change\n";
  } else {
    out += std::to_string(plan.additions.size()) + " to add, " +
           std::to_string(plan.updates.size()) + " to change, " +
           std::to_string(plan.deactivations.size()) + " to mark inactive\n";
  }
  return out;
}

Json render_json(const Plan& plan) {
  Json out = Json::object();
  Json& add = out["add"] = Json::array();
  for (const Addition& a : plan.additions) {
    Json j = key_json(a.key);
    j["entry"] = entry_json(a.entry);
    add.push_back(std::move(j));
  }
  Json& change = out["change"] = Json::array();
  for (const Update& u : plan.updates) {
    Json j = key_json(u.key);
    j["service"] = u.service;
    if (u.from) j["from"] = key_json(*u.from);
    Json& fields = j["changes"] = Json::array();
    for (const FieldChange& c : u.changes)
      fields.push_back(Json{{"field", c.field}, {"from", c.from}, {"to", c.to}});
    change.push_back(std::move(j));
  }
  Json& inactive = out["inactive"] = Json::array();
  for (const Deactivation& d : plan.deactivations) {
    Json j = key_json(d.key);
    j["service"] = d.service;
    j["reason"] = d.reason;
    inactive.push_back(std::move(j));
  }
  Json& collisions = out["collisions"] = Json::array();
  for (const Collision& c : plan.collisions) {
    Json j = key_json(c.key);
    j["winner"] = c.winner;
    j["others"] = c.others;
    j["message"] = c.text;
    collisions.push_back(std::move(j));
  }
  Json& conflicts = out["conflicts"] = Json::array();
  for (const Conflict& c : plan.conflicts) {
    Json j = key_json(c.key);
    j["service"] = c.service;
    j["holder"] = c.holder;
    j["message"] = c.text;
    conflicts.push_back(std::move(j));
  }
  out["notes"] = plan.notes;
  out["empty"] = plan.empty();
  return out;
}

}  // namespace portman::sync
