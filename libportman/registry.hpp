// The port registry (port_registry.json), in the seed's format. The JSON document is kept as
// read, so that unknown fields and the archive survive every change; Entry is a typed view.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "libportman/port.hpp"
#include "libportman/result.hpp"

namespace portman {

using Json = nlohmann::ordered_json;

// One allocation. Every field is optional in the file; absent reads as empty.
struct Entry {
  PortKey key;
  std::string raw_key;  // as written in the file: "3000", "3000/tcp", "53/udp"
  std::string service, description, environment, owner, status, url, service_type;
  std::string process;  // expected process name, for the owner check
  std::string bind;     // expected listen address, for the exposure check
  std::string notes, allocated_at, updated_at;
  Json json;  // the whole object, unknown fields included
};

// A released port, from `archive`; quarantine keeps it from being handed out again soon.
struct ArchivedPort {
  PortKey key;
  std::string service;
  std::optional<std::chrono::system_clock::time_point> released_at;
};

class Registry {
 public:
  // An empty registry, as a missing file reads.
  Registry();
  // `source` names the file in error messages. Errors are ErrorKind::invalid_data.
  static Result<Registry> parse(std::string_view text, std::string_view source);

  const std::vector<Entry>& entries() const { return entries_; }  // by port, then protocol
  const Entry* find(PortKey key) const;
  std::vector<ArchivedPort> archive() const;
  std::int64_t generation() const;
  // JSON paths of keys written twice in the file (the parser keeps only the last one, so a
  // rewrite would lose the others: writes are refused while there are any).
  const std::vector<std::string>& duplicate_keys() const { return duplicate_keys_; }
  const Json& document() const { return doc_; }

  // Changes. `now` is the caller's clock, so that tests are repeatable.
  void add(PortKey key, Json fields);
  void set_status(PortKey key, std::string_view status, std::optional<std::string> note,
                  const std::string& timestamp);
  void release(PortKey key, const std::string& timestamp);  // moves the entry into the archive

  // Text for the file: generation + 1, last_updated set, ports in numeric order, 2-space indent.
  std::string serialize_next(std::chrono::system_clock::time_point now) const;

 private:
  void reindex();
  Json doc_;
  std::vector<Entry> entries_;
  std::vector<std::string> duplicate_keys_;
};

// Local time without zone, as the seed wrote it (Python's datetime.now().isoformat()).
std::string local_timestamp(std::chrono::system_clock::time_point t);
// Reads the seed's timestamps (local, optional fraction) and RFC 3339 ones (Z or +hh:mm).
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text);

}  // namespace portman
