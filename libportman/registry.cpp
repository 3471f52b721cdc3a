#include "libportman/registry.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <set>

namespace portman {
namespace {

constexpr const char* kStringFields[] = {
    "service",      "description",  "environment", "protocol", "owner",   "status", "url",
    "service_type", "allocated_at", "updated_at",  "notes",    "process", "bind",   "released_at"};

const char* type_name(const Json& j) {
  return j.type_name();
}

std::string field(const Json& obj, const char* name) {
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Checks that the fields portman reads have the types it expects; unknown fields are free-form.
Status check_allocation(const Json& obj, const std::string& path, std::string_view source) {
  auto bad = [&](const std::string& where, const std::string& what) {
    return make_error(ErrorKind::invalid_data, std::string(source) + ": " + where + ": " + what);
  };
  if (!obj.is_object()) return bad(path, std::string("expected an object, got ") + type_name(obj));
  for (const char* name : kStringFields) {
    auto it = obj.find(name);
    if (it != obj.end() && !it->is_string() && !it->is_null())
      return bad(path + "." + name, std::string("expected a string, got ") + type_name(*it));
  }
  return {};
}

// "parse error at line 3, column 5: syntax error ..." → "FILE:3:5: syntax error ..."
std::string describe_parse_error(const nlohmann::json::parse_error& e, std::string_view text,
                                 std::string_view source) {
  std::string msg = e.what();
  if (auto colon = msg.find(": ", msg.find("column")); colon != std::string::npos)
    msg = msg.substr(colon + 2);
  size_t line = 1, col = 1;
  for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::string(source) + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + msg;
}

bool key_less(const Entry& a, const Entry& b) {
  if (a.key != b.key) return a.key < b.key;
  return a.raw_key < b.raw_key;
}

}  // namespace

Registry::Registry() {
  doc_ = Json::object();
  doc_["version"] = "1.0.0";
  doc_["allocations"] = Json::object();
  doc_["archive"] = Json::array();
}

Result<Registry> Registry::parse(std::string_view text, std::string_view source) {
  Registry r;
  // Track keys per open object, to find keys written twice (JSON allows it; we must not lose one).
  std::vector<std::set<std::string>> open;
  std::vector<std::string> path;
  auto on_event = [&](int, Json::parse_event_t ev, Json& parsed) {
    switch (ev) {
      case Json::parse_event_t::object_start:
        open.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        path.resize(open.size());
        break;
      case Json::parse_event_t::key: {
        if (open.empty()) break;
        // path[i] is the current key of the i-th open object.
        path.resize(open.size());
        path.back() = parsed.get<std::string>();
        if (!open.back().insert(path.back()).second) {
          std::string where;
          for (const auto& p : path) where += (where.empty() ? "" : ".") + p;
          r.duplicate_keys_.push_back(where);
        }
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    r.doc_ = Json::parse(text.begin(), text.end(), on_event);
  } catch (const nlohmann::json::parse_error& e) {
    return make_error(ErrorKind::invalid_data, describe_parse_error(e, text, source));
  }
  auto bad = [&](const std::string& where, const std::string& what) {
    return make_error(ErrorKind::invalid_data, std::string(source) + ": " + where + ": " + what);
  };
  if (!r.doc_.is_object())
    return bad("top level", std::string("expected an object, got ") + type_name(r.doc_));
  if (!r.doc_.contains("allocations")) r.doc_["allocations"] = Json::object();
  const Json& allocs = r.doc_["allocations"];
  if (!allocs.is_object())
    return bad("allocations", std::string("expected an object, got ") + type_name(allocs));
  for (const auto& [key, value] : allocs.items()) {
    std::string path = "allocations[\"" + key + "\"]";
    auto pk = parse_registry_key(key);
    if (!pk) return bad(path, pk.error().message);
    if (auto st = check_allocation(value, path, source); !st) return st.error();
  }
  if (auto it = r.doc_.find("generation"); it != r.doc_.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
      return bad("generation", "expected a whole number >= 0");
  }
  if (auto it = r.doc_.find("archive"); it != r.doc_.end()) {
    if (!it->is_array())
      return bad("archive", std::string("expected a list, got ") + type_name(*it));
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& a = (*it)[i];
      std::string path = "archive[" + std::to_string(i) + "]";
      if (auto st = check_allocation(a, path, source); !st) return st.error();
      if (a.contains("port") && !a["port"].is_number_integer() && !a["port"].is_string())
        return bad(path + ".port", "expected a port number");
    }
  }
  r.reindex();
  return r;
}

void Registry::reindex() {
  entries_.clear();
  for (const auto& [key, value] : doc_["allocations"].items()) {
    Entry e;
    e.key = *parse_registry_key(key);  // checked by parse() or written by add()
    e.raw_key = key;
    e.service = field(value, "service");
    e.description = field(value, "description");
    e.environment = field(value, "environment");
    e.owner = field(value, "owner");
    e.status = field(value, "status");
    e.url = field(value, "url");
    e.service_type = field(value, "service_type");
    e.process = field(value, "process");
    e.bind = field(value, "bind");
    e.notes = field(value, "notes");
    e.allocated_at = field(value, "allocated_at");
    e.updated_at = field(value, "updated_at");
    e.json = value;
    entries_.push_back(std::move(e));
  }
  std::sort(entries_.begin(), entries_.end(), key_less);
}

const Entry* Registry::find(PortKey key) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [](const Entry& e, PortKey k) { return e.key < k; });
  return it != entries_.end() && it->key == key ? &*it : nullptr;
}

std::vector<ArchivedPort> Registry::archive() const {
  std::vector<ArchivedPort> out;
  auto it = doc_.find("archive");
  if (it == doc_.end() || !it->is_array()) return out;
  for (const Json& a : *it) {
    ArchivedPort p;
    auto port = a.find("port");
    if (port == a.end()) continue;
    std::string key =
        port->is_string() ? port->get<std::string>() : std::to_string(port->get<long long>());
    if (field(a, "protocol") == "udp" && key.find('/') == std::string::npos) key += "/udp";
    auto pk = parse_registry_key(key);
    if (!pk) continue;
    p.key = *pk;
    p.service = field(a, "service");
    p.released_at = parse_timestamp(field(a, "released_at"));
    out.push_back(std::move(p));
  }
  return out;
}

std::int64_t Registry::generation() const {
  auto it = doc_.find("generation");
  return it != doc_.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

void Registry::add(PortKey key, Json fields) {
  doc_["allocations"][registry_key(key)] = std::move(fields);
  reindex();
}

void Registry::set_status(PortKey key, std::string_view status, std::optional<std::string> note,
                          const std::string& timestamp) {
  const Entry* e = find(key);
  if (!e) return;
  Json& obj = doc_["allocations"][e->raw_key];
  obj["status"] = std::string(status);
  if (note) obj["notes"] = *note;
  obj["updated_at"] = timestamp;
  reindex();
}

void Registry::release(PortKey key, const std::string& timestamp) {
  const Entry* e = find(key);
  if (!e) return;
  std::string raw = e->raw_key;
  Json record = Json::object();
  record["port"] = key.port;
  record["protocol"] = std::string(to_string(key.protocol));
  for (const auto& [k, v] : doc_["allocations"][raw].items())
    if (k != "port") record[k] = v;  // every field the allocation had survives into the archive
  record["released_at"] = timestamp;
  if (!doc_.contains("archive") || !doc_["archive"].is_array()) doc_["archive"] = Json::array();
  doc_["archive"].push_back(std::move(record));
  doc_["allocations"].erase(raw);
  reindex();
}

std::string Registry::serialize_next(std::chrono::system_clock::time_point now) const {
  Json out = Json::object();
  for (const auto& [k, v] : doc_.items()) {
    if (k != "allocations") {
      out[k] = v;
      continue;
    }
    Json sorted = Json::object();  // numeric port order, so that diffs stay small
    for (const Entry& e : entries_) sorted[e.raw_key] = doc_["allocations"][e.raw_key];
    out[k] = std::move(sorted);
  }
  out["generation"] = generation() + 1;
  out["last_updated"] = local_timestamp(now).substr(0, 10);
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string local_timestamp(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text) {
  std::tm tm{};
  int consumed = 0;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::string_view rest = text.substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest.front() == '.')
    rest.remove_prefix(std::min(rest.find_first_not_of("0123456789", 1), rest.size()));
  std::time_t t;
  if (rest.empty()) {
    tm.tm_isdst = -1;
    t = std::mktime(&tm);
  } else if (rest == "Z") {
    t = timegm(&tm);
  } else {
    int hh = 0, mm = 0;
    char sign = rest.front();
    if ((sign != '+' && sign != '-') ||
        std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &hh, &mm) != 2)
      return std::nullopt;
    t = timegm(&tm) - (sign == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
  }
  return std::chrono::system_clock::from_time_t(t);
}

}  // namespace portman
