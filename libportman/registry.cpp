#include "libportman/registry.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "libportman/limits.hpp"

namespace portman {
namespace {

constexpr const char* kStringFields[] = {
    "service",      "description",  "environment", "protocol", "owner",   "status", "url",
    "service_type", "allocated_at", "updated_at",  "notes",    "process", "bind",   "released_at"};

// The typed fields of an Entry and their names in the file.
constexpr std::pair<std::string Entry::*, const char*> kEntryFields[] = {
    {&Entry::service, "service"},
    {&Entry::description, "description"},
    {&Entry::environment, "environment"},
    {&Entry::owner, "owner"},
    {&Entry::status, "status"},
    {&Entry::url, "url"},
    {&Entry::service_type, "service_type"},
    {&Entry::process, "process"},
    {&Entry::bind, "bind"},
    {&Entry::notes, "notes"},
    {&Entry::allocated_at, "allocated_at"},
    {&Entry::updated_at, "updated_at"}};

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

std::string field(const Json& obj, const char* name) {
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string dump(const Json& j, int indent = 2) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

// JSON paths as a reader writes them: allocations["3000"].status, archive[2].port. Keys of
// `allocations` are data, always in brackets; field names are dotted where they can be.
void append_path_key(std::string& path, std::string_view key, bool bracket) {
  bool plain = !bracket && !key.empty() &&
               (std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_');
  for (char c : key) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (plain) {
    if (!path.empty()) path += '.';
    path += key;
  } else {
    path += '[' + dump(Json(std::string(key)), -1) + ']';
  }
}

std::string path_key(std::string path, std::string_view key, bool bracket = false) {
  append_path_key(path, key, bracket);
  return path;
}

// A number as it can appear in one line of message.
std::string shorten(std::string_view token) {
  if (token.size() <= 24) return std::string(token);
  return std::string(token.substr(0, 20)) + "... (" + std::to_string(token.size()) + " characters)";
}

// 1-based line and column of the byte at `offset`.
std::pair<std::size_t, std::size_t> line_col(std::string_view text, std::size_t offset) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

// Where the first container deeper than `depth` opens, in text that is valid JSON up to there.
std::size_t offset_of_depth(std::string_view text, std::size_t depth) {
  std::size_t open = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++open > depth) return i;
    } else if (c == '}' || c == ']') {
      --open;
    }
  }
  return text.size();
}

// Builds the document from nlohmann's SAX events instead of its DOM parser: ordered_json inserts
// every key with a linear search (quadratic in the number of allocations); nesting must be capped
// before a deep document exists (copying, printing and the old parser recurse); and numbers that
// a double or an int64 cannot hold must be refused, not thrown or wrapped around.
class DomBuilder {
 public:
  explicit DomBuilder(std::string_view text) : text_(text) {}

  bool null() { return place(Json(nullptr)); }
  bool boolean(bool v) { return place(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return place(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) {
    if (v > static_cast<Json::number_unsigned_t>(kInt64Max)) return out_of_range(std::to_string(v));
    return place(Json(v));
  }
  bool number_float(Json::number_float_t v, const std::string& token) {
    // A whole number beyond int64 arrives as a double; it would be written back as 1e+20.
    if (token.find_first_of(".eE") == std::string::npos) return out_of_range(token);
    // 1e-400 reads as 0 and would be written back as 0.0: a value lost, so refused too.
    const std::string mantissa = token.substr(0, token.find_first_of("eE"));
    if (v == 0 && mantissa.find_first_of("123456789") != std::string::npos) {
      fatal = RegistryProblem{0, 0, path(),
                              "number " + shorten(token) +
                                  " is too small for a double (it would be written back as 0)"};
      return false;
    }
    return place(Json(v));
  }
  // Copied, not moved: the lexer keeps its buffer, and the copy is allocated at its size.
  bool string(std::string& s) { return place(Json(s)); }
  bool binary(Json::binary_t&) { return true; }  // never in JSON text
  bool start_object(std::size_t) { return open(true); }
  bool start_array(std::size_t) { return open(false); }
  bool key(std::string& k);
  bool end_object();
  bool end_array();
  bool parse_error(std::size_t position, const std::string& token, const Json::exception& e);

  Json root;
  std::optional<RegistryProblem> fatal;  // why the reading stopped
  std::vector<RegistryProblem> duplicates;

 private:
  struct Frame {
    bool object = true;
    // An object's members are collected here and moved into the ordered_map when it closes.
    std::vector<std::pair<std::string, Json>> members;
    std::size_t slot = 0;                                // members[slot] takes the next value
    std::unordered_map<std::string, std::size_t> index;  // key -> slot, for large objects only
    Json::array_t elements;
  };
  // Below this many keys a linear search is faster than hashing (every entry of the registry).
  static constexpr std::size_t kIndexFrom = 16;

  bool place(Json v) {
    if (depth_ == 0) {
      root = std::move(v);
    } else if (Frame& f = frames_[depth_ - 1]; f.object) {
      f.members[f.slot].second = std::move(v);
    } else {
      f.elements.push_back(std::move(v));
    }
    return true;
  }

  bool open(bool object) {
    if (depth_ >= static_cast<std::size_t>(kMaxNestingDepth)) {
      auto [line, col] = line_col(text_, offset_of_depth(text_, depth_));
      fatal = RegistryProblem{line,
                              col,
                              {},
                              "nested deeper than " + std::to_string(kMaxNestingDepth) +
                                  " levels; a registry needs 3 and portman reads at most " +
                                  std::to_string(kMaxNestingDepth)};
      return false;
    }
    if (depth_ == frames_.size()) frames_.emplace_back();  // frames are reused, with their buffers
    Frame& f = frames_[depth_++];
    f.object = object;
    return true;
  }

  bool out_of_range(const std::string& token) {
    fatal = RegistryProblem{0, 0, path(),
                            "whole number " + shorten(token) +
                                " is out of range; whole numbers must be from "
                                "-9223372036854775808 to 9223372036854775807"};
    return false;
  }

  // The JSON path of the value being read.
  std::string path() const {
    std::string out;
    for (std::size_t d = 0; d < depth_; ++d) {
      const Frame& f = frames_[d];
      if (f.object) {
        bool in_allocations = d == 1 && frames_[0].object &&
                              frames_[0].members[frames_[0].slot].first == "allocations";
        append_path_key(out, f.members[f.slot].first, in_allocations);
      } else {
        out += '[' + std::to_string(f.elements.size()) + ']';
      }
    }
    return out;
  }

  std::string_view text_;
  std::vector<Frame> frames_;
  std::size_t depth_ = 0;  // frames_[0, depth_) are open
};

bool DomBuilder::key(std::string& k) {
  Frame& f = frames_[depth_ - 1];
  const std::size_t n = f.members.size();
  std::optional<std::size_t> seen;
  if (n >= kIndexFrom && f.index.empty())
    for (std::size_t i = 0; i < n; ++i) f.index.emplace(f.members[i].first, i);
  if (!f.index.empty()) {
    auto [it, added] = f.index.try_emplace(k, n);
    if (!added) seen = it->second;
  } else {
    for (std::size_t i = 0; i < n && !seen; ++i)
      if (f.members[i].first == k) seen = i;
  }
  if (seen) {
    // JSON's rule (and nlohmann's): the last value wins, at the place of the first.
    f.slot = *seen;
    f.members[f.slot].second = Json();
    duplicates.push_back({0, 0, path(),
                          "key written twice; only the last one is read, and portman will not "
                          "rewrite the file until one is removed"});
  } else {
    f.slot = n;
    f.members.emplace_back(k, Json());
  }
  return true;
}

bool DomBuilder::end_object() {
  Frame& f = frames_[--depth_];
  Json obj(Json::value_t::object);
  auto& items = static_cast<Json::object_t::Container&>(obj.get_ref<Json::object_t&>());
  items.reserve(f.members.size());  // no reallocation: that would copy every member
  for (auto& [k, v] : f.members) items.emplace_back(std::move(k), std::move(v));
  f.members.clear();
  f.index.clear();
  return place(std::move(obj));
}

bool DomBuilder::end_array() {
  Frame& f = frames_[--depth_];
  Json arr(Json::value_t::array);
  arr.get_ref<Json::array_t&>() = std::move(f.elements);
  f.elements.clear();
  return place(std::move(arr));
}

bool DomBuilder::parse_error(std::size_t position, const std::string& token,
                             const Json::exception& e) {
  RegistryProblem p;
  std::size_t offset = position > 0 ? position - 1 : 0;
  if (e.id == 406) {  // a number too large for a double, e.g. 1e400 or 400 digits
    offset = position >= token.size() ? position - token.size() : 0;
    p.path = path();
    p.message = "number " + shorten(token) + " is out of range; numbers must be finite doubles";
  } else {
    // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
    p.message = e.what();
    if (auto colon = p.message.find(": ", p.message.find("column")); colon != std::string::npos)
      p.message = p.message.substr(colon + 2);
  }
  std::tie(p.line, p.column) = line_col(text_, offset);
  fatal = std::move(p);
  return false;
}

bool key_less(const Entry& a, const Entry& b) {
  if (a.key != b.key) return a.key < b.key;
  return a.raw_key < b.raw_key;
}

// Appends `text` (a value dumped at indent 0) as if it had been dumped `indent` deeper: the only
// raw newlines of dump() are between its lines, since strings escape theirs.
void append_indented(std::string& out, const std::string& text, std::string_view indent) {
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.append(text, start, nl + 1 - start);
    out += indent;
  }
  out.append(text, start, std::string::npos);
}

// Local time to time_t, as mktime() would, but without its stat of the zone file on every call
// (one per archive entry): find t with t + offset(t) == the local time read as UTC.
std::time_t local_to_time(std::tm tm) {
  const std::time_t as_utc = timegm(&tm);
  std::tm local{};
  std::time_t t = as_utc;
  for (int i = 0; i < 2; ++i) {  // the second pass settles an offset that changed (DST)
    localtime_r(&t, &local);
    t = as_utc - local.tm_gmtoff;
  }
  return t;
}

Entry make_entry(PortKey key, const std::string& raw_key, Json value) {
  Entry e;
  e.key = key;
  e.raw_key = raw_key;
  for (auto [member, name] : kEntryFields) e.*member = field(value, name);
  e.json = std::move(value);
  return e;
}

}  // namespace

std::string RegistryProblem::where(std::string_view source) const {
  std::string out(source);
  if (line == 0) return out + ": " + (path.empty() ? std::string("top level") : path);
  out += ":" + std::to_string(line) + ":" + std::to_string(column);
  return path.empty() ? out : out + ": " + path;
}

std::string RegistryProblem::describe(std::string_view source) const {
  return where(source) + ": " + message;
}

Registry::Registry() {
  doc_ = Json::object();
  doc_["version"] = "1.0.0";
  doc_["allocations"] = Json::object();
  doc_["archive"] = Json::array();
}

Result<Registry> Registry::parse(std::string_view text, std::string_view source) {
  RegistryCheck c = check(text);
  if (!c.problems.empty())
    return make_error(ErrorKind::invalid_data, c.problems.front().describe(source));
  return std::move(*c.registry);
}

RegistryCheck Registry::check(std::string_view text) {
  RegistryCheck out;
  DomBuilder builder(text);
  if (!Json::sax_parse(text.data(), text.data() + text.size(), &builder)) {
    out.problems.push_back(builder.fatal ? *builder.fatal
                                         : RegistryProblem{1, 1, {}, "cannot be read as JSON"});
    return out;
  }
  auto problem = [&](std::string path, std::string message) {
    out.problems.push_back({0, 0, std::move(path), std::move(message)});
  };
  auto expected = [](const char* what, const Json& got) {
    return std::string("expected ") + what + ", got " + got.type_name();
  };
  Registry r;
  r.text_size_ = text.size();
  r.doc_ = std::move(builder.root);
  r.duplicates_ = std::move(builder.duplicates);
  if (!r.doc_.is_object()) {
    problem("top level", expected("an object", r.doc_));
    return out;
  }
  // Each entry's fields that portman reads must have the types it expects; others are free-form.
  auto check_fields = [&](const Json& obj, const std::string& path) {
    if (!obj.is_object()) return problem(path, expected("an object", obj));
    for (const char* name : kStringFields) {
      auto it = obj.find(name);
      if (it != obj.end() && !it->is_string() && !it->is_null())
        problem(path_key(path, name), expected("a string", *it));
    }
  };
  if (!r.doc_.contains("allocations")) r.doc_["allocations"] = Json::object();
  const Json& allocs = r.doc_["allocations"];
  if (!allocs.is_object()) {
    problem("allocations", expected("an object", allocs));
  } else {
    for (const auto& [key, value] : allocs.items()) {
      std::string path = path_key("allocations", key, true);
      if (auto pk = parse_registry_key(key); !pk) problem(path, pk.error().message);
      check_fields(value, path);
    }
  }
  if (auto it = r.doc_.find("generation"); it != r.doc_.end()) {
    // Below the maximum of int64, so that one more save never wraps it to a negative number.
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
        it->get<std::int64_t>() > kMaxGeneration)
      problem("generation", "expected a whole number from 0 to " + std::to_string(kMaxGeneration));
  }
  if (auto it = r.doc_.find("archive"); it != r.doc_.end()) {
    if (!it->is_array()) {
      problem("archive", expected("a list", *it));
    } else {
      for (std::size_t i = 0; i < it->size(); ++i) {
        const Json& a = (*it)[i];
        std::string path = "archive[" + std::to_string(i) + "]";
        check_fields(a, path);
        auto port = a.is_object() ? a.find("port") : a.end();
        if (port == a.end()) continue;
        bool ok = port->is_string() ? parse_registry_key(port->get<std::string>()).ok()
                  : port->is_number_integer()
                      ? port->get<std::int64_t>() >= 1 && port->get<std::int64_t>() <= 65535
                      : false;
        if (!ok)
          problem(path + ".port", "expected a port number 1-65535 or a key such as \"53/udp\"");
      }
    }
  }
  r.take_entries();
  // Two spellings of one port ("80" and "80/tcp") are two entries for it, like a key written twice.
  for (std::size_t i = 1; i < r.entries_.size(); ++i)
    if (r.entries_[i].key == r.entries_[i - 1].key)
      r.duplicates_.push_back({0, 0, path_key("allocations", r.entries_[i].raw_key, true),
                               "names the same port as \"" + r.entries_[i - 1].raw_key +
                                   "\"; portman will not rewrite the file until one is removed"});
  out.registry = std::move(r);
  return out;
}

std::vector<std::string> Registry::duplicate_keys() const {
  std::vector<std::string> out;
  for (const auto& d : duplicates_) out.push_back(d.path);
  return out;
}

// The entries own their JSON (a copy would double the registry in memory); the document keeps an
// empty `allocations` where the key was, so that a save writes it at the same place.
void Registry::take_entries() {
  entries_.clear();
  Json& allocs = doc_["allocations"];
  if (!allocs.is_object()) return;
  entries_.reserve(allocs.size());
  for (auto& [key, value] : allocs.items()) {
    auto pk = parse_registry_key(key);
    if (!pk || !value.is_object()) continue;  // a problem check() reports; parse() refuses
    entries_.push_back(make_entry(*pk, key, std::move(value)));
  }
  allocs = Json::object();
  std::sort(entries_.begin(), entries_.end(), key_less);
}

std::vector<Entry>::iterator Registry::position(PortKey key, const std::string& raw_key) {
  return std::lower_bound(entries_.begin(), entries_.end(), key, [&](const Entry& e, PortKey k) {
    return std::tie(e.key, e.raw_key) < std::tie(k, raw_key);
  });
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
    std::string key = port->is_string()           ? port->get<std::string>()
                      : port->is_number_integer() ? std::to_string(port->get<std::int64_t>())
                                                  : std::string();
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
  const std::string raw = registry_key(key);
  auto it = position(key, raw);
  if (it != entries_.end() && it->raw_key == raw)
    *it = make_entry(key, raw, std::move(fields));
  else
    entries_.insert(it, make_entry(key, raw, std::move(fields)));
}

void Registry::set_status(PortKey key, std::string_view status, std::optional<std::string> note,
                          const std::string& timestamp) {
  const Entry* e = find(key);
  if (!e) return;
  auto it = entries_.begin() + (e - entries_.data());
  Json obj = std::move(it->json);
  obj["status"] = std::string(status);
  if (note) obj["notes"] = *note;
  obj["updated_at"] = timestamp;
  *it = make_entry(key, it->raw_key, std::move(obj));
}

void Registry::update_fields(PortKey key, const Json& fields, const std::string& timestamp) {
  const Entry* e = find(key);
  if (!e || !fields.is_object()) return;
  auto it = entries_.begin() + (e - entries_.data());
  Json obj = std::move(it->json);
  for (auto& [k, v] : fields.items()) obj[k] = v;
  obj["updated_at"] = timestamp;
  *it = make_entry(key, it->raw_key, std::move(obj));
}
void Registry::release(PortKey key, const std::string& timestamp) {
  const Entry* e = find(key);
  if (!e) return;
  auto it = entries_.begin() + (e - entries_.data());
  Json record = Json::object();
  record["port"] = key.port;
  record["protocol"] = std::string(to_string(key.protocol));
  for (auto& [k, v] : it->json.items())
    if (k != "port") record[k] = std::move(v);  // every field of the allocation goes along
  record["released_at"] = timestamp;
  if (!doc_.contains("archive") || !doc_["archive"].is_array()) doc_["archive"] = Json::array();
  doc_["archive"].push_back(std::move(record));
  entries_.erase(it);
}

// Written member by member rather than by copying the document into a new one: the same bytes as
// dump(2) of that copy, without the copy and without ordered_json's linear search per key.
std::string Registry::serialize_next(std::chrono::system_clock::time_point now) const {
  std::string out;
  out.reserve(text_size_ + text_size_ / 16 + 4096);
  out += "{";
  const char* sep = "\n";
  auto member = [&](const std::string& key, const std::string& value_text) {
    out += sep;
    out += "  " + dump(Json(key)) + ": ";
    append_indented(out, value_text, "  ");
    sep = ",\n";
  };
  // Ports in numeric order (entries_ is sorted), so that diffs stay small.
  auto write_allocations = [&](const std::string& key) {
    if (entries_.empty()) return member(key, "{}");
    out += sep;
    out += "  " + dump(Json(key)) + ": {";
    const char* inner = "\n";
    for (const Entry& e : entries_) {
      out += inner;
      out += "    " + dump(Json(e.raw_key)) + ": ";
      append_indented(out, dump(e.json), "    ");
      inner = ",\n";
    }
    out += "\n  }";
    sep = ",\n";
  };
  const std::string generation_text = std::to_string(generation() + 1);
  const std::string date_text = dump(Json(local_timestamp(now).substr(0, 10)));
  bool has_generation = false, has_date = false;
  for (const auto& [k, v] : doc_.items()) {
    if (k == "allocations") {
      write_allocations(k);
    } else if (k == "generation") {
      member(k, generation_text);
      has_generation = true;
    } else if (k == "last_updated") {
      member(k, date_text);
      has_date = true;
    } else {
      member(k, dump(v));
    }
  }
  if (!has_generation) member("generation", generation_text);
  if (!has_date) member("last_updated", date_text);
  out += *sep == '\n' ? "}\n" : "\n}\n";
  return out;
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
    t = local_to_time(tm);
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
  // system_clock counts nanoseconds in 64 bits (the years 1678 to 2262): a time outside would
  // overflow (undefined behaviour). Such a timestamp is no time we know.
  constexpr std::time_t kLimit =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::duration::max())
          .count() -
      1;
  if (t < -kLimit || t > kLimit) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

}  // namespace portman
