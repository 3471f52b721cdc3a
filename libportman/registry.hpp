// The port registry (port_registry.json), in the seed's format. The JSON document is kept as
// read, so that unknown fields and the archive survive every change; each Entry is a typed view
// that owns its allocation's JSON object.
#pragma once

#include <chrono>
#include <cstddef>
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
  Json json;  // the whole object, unknown fields included; what a save writes
};

// A released port, from `archive`; quarantine keeps it from being handed out again soon.
struct ArchivedPort {
  PortKey key;
  std::string service;
  std::optional<std::chrono::system_clock::time_point> released_at;
};

// One thing wrong with a registry file. JSON syntax (and numbers the reader cannot hold) are
// located by line and column; content by its JSON path, e.g. allocations["abc"] or archive[2].port.
struct RegistryProblem {
  std::size_t line = 0, column = 0;  // 0 when located by path only
  std::string path;                  // empty for a syntax error
  std::string message;               // what is wrong and what would be valid
  // "SOURCE:3:14" (with ": PATH" when known) or "SOURCE: PATH".
  std::string where(std::string_view source) const;
  // One line: where(source) + ": " + message.
  std::string describe(std::string_view source) const;
};

struct RegistryCheck;

class Registry {
 public:
  // An empty registry, as a missing file reads.
  Registry();
  // `source` names the file in error messages. Every error is ErrorKind::invalid_data, naming the
  // first problem that check() finds.
  static Result<Registry> parse(std::string_view text, std::string_view source);
  // Every problem of the text, in file order (a syntax error ends the reading, so it comes alone),
  // plus the entries that have none: what `validate` needs to report everything at once.
  static RegistryCheck check(std::string_view text);

  const std::vector<Entry>& entries() const { return entries_; }  // by port, then protocol
  const Entry* find(PortKey key) const;
  std::vector<ArchivedPort> archive() const;
  std::int64_t generation() const;
  // The largest generation a file may hold. A registry already there can be read but not saved
  // again: the next generation would be one that no portman reads.
  static constexpr std::int64_t kMaxGeneration = INT64_MAX - 1;
  // JSON paths of entries that repeat a port: a key written twice (the parser keeps only the last
  // one) or two spellings of one port ("80" and "80/tcp"). Readers see both; writes are refused
  // while there are any, since a rewrite would lose one or change the wrong one.
  std::vector<std::string> duplicate_keys() const;
  // The same, each with its message.
  const std::vector<RegistryProblem>& duplicates() const { return duplicates_; }
  // The document as read, except `allocations`: entries() hold them (an empty object keeps the
  // key's place).
  const Json& document() const { return doc_; }

  // Changes. `now` is the caller's clock, so that tests are repeatable.
  void add(PortKey key, Json fields);
  void set_status(PortKey key, std::string_view status, std::optional<std::string> note,
                  const std::string& timestamp);
  void release(PortKey key, const std::string& timestamp);  // moves the entry into the archive
  // Sets each field of `fields` (an object) on the entry, keeps the others and the key's
  // spelling, and sets updated_at; `sync` uses it to follow a Dokploy service.
  void update_fields(PortKey key, const Json& fields, const std::string& timestamp);

  // Text for the file: generation + 1, last_updated set, ports in numeric order, 2-space indent.
  std::string serialize_next(std::chrono::system_clock::time_point now) const;

 private:
  void take_entries();
  std::vector<Entry>::iterator position(PortKey key, const std::string& raw_key);
  Json doc_;
  std::vector<Entry> entries_;
  std::vector<RegistryProblem> duplicates_;
  std::size_t text_size_ = 0;  // of the file read, to size the text of the next save
};

struct RegistryCheck {
  std::vector<RegistryProblem> problems;
  // Absent after a syntax error; otherwise the entries without problems (used only to report).
  std::optional<Registry> registry;
};

// Local time without zone, as the seed wrote it (Python's datetime.now().isoformat()).
std::string local_timestamp(std::chrono::system_clock::time_point t);
// Reads the seed's timestamps (local, optional fraction) and RFC 3339 ones (Z or +hh:mm).
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text);

}  // namespace portman
