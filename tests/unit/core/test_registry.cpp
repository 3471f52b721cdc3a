// The registry document: the seed's format read and written back without losing anything.
#include <catch2/catch.hpp>

#include "unit/support.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "libportman/limits.hpp"
#include "libportman/registry.hpp"

using namespace portman;
using std::chrono::system_clock;

namespace {

const std::string kFixtures = PORTMAN_FIXTURES_DIR;
const std::string kSeedPath = kFixtures + "/registry/seed_example.json";

using test::seconds;
using test::slurp;

Registry parse_ok(const std::string& text) {
  auto r = Registry::parse(text, "reg.json");
  if (!r) FAIL(r.error().message);
  return std::move(r).value();
}

std::string parse_error(const std::string& text) {
  auto r = Registry::parse(text, "reg.json");
  INFO(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::invalid_data);
  return r.error().message;
}

// A fixed instant, so that last_updated is known: 2026-03-04 12:00 UTC is the 4th everywhere
// within +-11h of UTC.
system_clock::time_point fixed_now() {
  return system_clock::from_time_t(1772625600);  // 2026-03-04T12:00:00Z
}

// Sets TZ for one scope (mktime and localtime follow it), restoring the old zone after.
class TimeZone {
 public:
  explicit TimeZone(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~TimeZone() {
    if (old_)
      ::setenv("TZ", old_->c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }
  TimeZone(const TimeZone&) = delete;
  TimeZone& operator=(const TimeZone&) = delete;

 private:
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("the seed's example registry parses into typed entries in port order", "[registry]") {
  Registry r = parse_ok(slurp(kSeedPath));
  const auto& e = r.entries();
  REQUIRE(e.size() == 5);
  CHECK(e[0].raw_key == "53");
  CHECK(e[1].raw_key == "53/udp");
  CHECK(e[2].raw_key == "3000");
  CHECK(e[3].raw_key == "8090");
  CHECK(e[4].raw_key == "10000");
  CHECK(e[1].key == PortKey{53, Protocol::udp});

  const Entry* web = r.find({3000, Protocol::tcp});
  REQUIRE(web);
  CHECK(web->service == "FibreFlow Production");
  CHECK(web->description == "FibreFlow Production service");
  CHECK(web->environment == "production");
  CHECK(web->owner == "velo");
  CHECK(web->status == "active");
  CHECK(web->url == "https://app.example.com");
  CHECK(web->service_type == "web");
  CHECK(web->allocated_at == "2025-10-01T09:12:44.120391");
  CHECK(web->updated_at == "2025-10-05T17:00:03.551002");
  CHECK(web->notes == "Session destroyed");
  CHECK(web->json["replicas"] == 3);
  CHECK(web->json["contact"] == "Zoë Müller — 運用チーム 🚀");
  CHECK(r.find({3000, Protocol::udp}) == nullptr);
  CHECK(r.find({3001, Protocol::tcp}) == nullptr);
  CHECK(r.generation() == 0);  // absent counts as 0
  CHECK(r.duplicate_keys().empty());

  auto archive = r.archive();
  REQUIRE(archive.size() == 1);
  CHECK(archive[0].key == PortKey{8091, Protocol::tcp});
  CHECK(archive[0].service == "old-api");
  CHECK(archive[0].released_at.has_value());
}

TEST_CASE("an empty registry has no entries, an empty archive and generation 0", "[registry]") {
  Registry r;
  CHECK(r.entries().empty());
  CHECK(r.archive().empty());
  CHECK(r.generation() == 0);
  auto out = nlohmann::json::parse(r.serialize_next(fixed_now()));
  CHECK(out["allocations"] == nlohmann::json::object());
  CHECK(out["archive"] == nlohmann::json::array());
  CHECK(out["generation"] == 1);
}

TEST_CASE("serialize_next keeps every unknown field and the archive equal in value", "[registry]") {
  const std::string text = slurp(kSeedPath);
  Registry r = parse_ok(text);
  auto before = nlohmann::json::parse(text);
  auto after = nlohmann::json::parse(r.serialize_next(fixed_now()));
  // Only generation and last_updated may differ.
  CHECK(after["generation"] == 1);
  CHECK(after["last_updated"] == "2026-03-04");
  after.erase("generation");
  after.erase("last_updated");
  before.erase("last_updated");
  CHECK(after == before);
  // Spot checks, so that a failure says which part went missing.
  CHECK(after["maintainer"]["pager"][1] == "+1-555-0101");
  CHECK(after["allocations"]["3000"]["health_check"]["tags"][1]["tier"] == 1);
  CHECK(after["allocations"]["3000"]["public"] == true);
  CHECK(after["allocations"]["10000"]["ports_extra"].is_null());
  CHECK(after["archive"][0]["custom"]["history"] == nlohmann::json({1, 2, 3}));
  CHECK(after["reserved_ranges"]["10000+"] == "Dynamic/Temporary Services");
}

TEST_CASE("serialize_next writes ports in numeric order with a 2-space indent", "[registry]") {
  Registry r = parse_ok(slurp(kSeedPath));
  const std::string out = r.serialize_next(fixed_now());
  auto pos = [&](const std::string& key) {
    auto p = out.find("\n    \"" + key + "\": {");
    INFO(key);
    REQUIRE(p != std::string::npos);  // 4 spaces: a key of allocations, two levels deep
    return p;
  };
  CHECK(pos("53") < pos("53/udp"));
  CHECK(pos("53/udp") < pos("3000"));
  CHECK(pos("3000") < pos("8090"));
  CHECK(pos("8090") < pos("10000"));
  CHECK(out.find("\n  \"version\": \"1.0.0\"") != std::string::npos);
  CHECK(out.find("\t") == std::string::npos);
  CHECK(out.back() == '\n');
  // Unicode is written as UTF-8, not escaped, so that the file stays readable.
  CHECK(out.find("Zoë Müller — 運用チーム 🚀") != std::string::npos);
  // Stable: the same registry serializes to the same text.
  CHECK(out == r.serialize_next(fixed_now()));
}

TEST_CASE("serialize_next increments generation from the file's value", "[registry]") {
  Registry absent = parse_ok(R"({"allocations": {}})");
  CHECK(nlohmann::json::parse(absent.serialize_next(fixed_now()))["generation"] == 1);
  Registry present = parse_ok(R"({"generation": 41, "allocations": {}})");
  CHECK(present.generation() == 41);
  auto next = parse_ok(present.serialize_next(fixed_now()));
  CHECK(next.generation() == 42);
  CHECK(nlohmann::json::parse(next.serialize_next(fixed_now()))["generation"] == 43);
}

TEST_CASE("serialize_next sets last_updated to today's local date", "[registry]") {
  TimeZone tz("UTC0");
  Registry r = parse_ok(R"({"last_updated": "2020-01-01", "allocations": {}})");
  auto out = nlohmann::json::parse(r.serialize_next(system_clock::from_time_t(1772668800 - 1)));
  CHECK(out["last_updated"] == "2026-03-04");  // one second before midnight UTC
  TimeZone east("XYZ-3");                      // UTC+3: already the 5th there
  out = nlohmann::json::parse(r.serialize_next(system_clock::from_time_t(1772668800 - 1)));
  CHECK(out["last_updated"] == "2026-03-05");
}

TEST_CASE("registry values of the wrong type are refused with their JSON path", "[registry]") {
  SECTION("status as a number") {
    auto msg = parse_error(R"({"allocations": {"3000": {"service": "x", "status": 1}}})");
    CHECK_THAT(msg, Catch::StartsWith("reg.json: "));
    CHECK_THAT(msg, Catch::Contains("allocations[\"3000\"].status"));
    CHECK_THAT(msg, Catch::Contains("expected a string, got number"));
  }
  SECTION("allocations not an object") {
    auto msg = parse_error(R"({"allocations": [1, 2]})");
    CHECK_THAT(msg, Catch::Contains("allocations: expected an object, got array"));
  }
  SECTION("an entry not an object") {
    auto msg = parse_error(R"({"allocations": {"3000": "web"}})");
    CHECK_THAT(msg, Catch::Contains("allocations[\"3000\"]: expected an object, got string"));
  }
  SECTION("generation not a number") {
    auto msg = parse_error(R"({"generation": "x", "allocations": {}})");
    CHECK_THAT(msg, Catch::Contains("generation: expected a whole number"));
  }
  SECTION("generation negative or fractional") {
    CHECK_THAT(parse_error(R"({"generation": -1})"), Catch::Contains("generation"));
    CHECK_THAT(parse_error(R"({"generation": 1.5})"), Catch::Contains("generation"));
  }
  SECTION("archive not a list") {
    auto msg = parse_error(R"({"allocations": {}, "archive": {"8090": {}}})");
    CHECK_THAT(msg, Catch::Contains("archive: expected a list, got object"));
  }
  SECTION("archive item with a bad field") {
    auto msg = parse_error(R"({"archive": [{"port": 1, "service": "a"}, {"service": 5}]})");
    CHECK_THAT(msg, Catch::Contains("archive[1].service"));
    msg = parse_error(R"({"archive": [{"port": [1]}]})");
    CHECK_THAT(msg, Catch::Contains("archive[0].port"));
  }
  SECTION("a key that is not a port") {
    auto msg = parse_error(R"({"allocations": {"abc": {"service": "x"}}})");
    CHECK_THAT(msg, Catch::Contains("allocations[\"abc\"]"));
    CHECK_THAT(msg, Catch::Contains("PORT/udp"));
  }
  SECTION("a key with another protocol") {
    auto msg = parse_error(R"({"allocations": {"3000/sctp": {}}})");
    CHECK_THAT(msg, Catch::Contains("allocations[\"3000/sctp\"]"));
    CHECK_THAT(msg, Catch::Contains("tcp or udp"));
  }
  SECTION("top level not an object") {
    CHECK_THAT(parse_error("[]"), Catch::Contains("top level: expected an object, got array"));
  }
}

TEST_CASE("null optional fields and missing allocations are accepted", "[registry]") {
  Registry r = parse_ok(R"({"version": "1.0.0", "allocations": {"80": {"notes": null}}})");
  REQUIRE(r.entries().size() == 1);
  CHECK(r.entries()[0].notes.empty());
  CHECK(r.entries()[0].service.empty());
  CHECK(parse_ok(R"({"version": "1.0.0"})").entries().empty());
}

TEST_CASE("a JSON syntax error names file, line and column", "[registry]") {
  auto msg = parse_error("{\n  \"allocations\": {\n    \"3000\": ]\n  }\n}\n");
  CHECK_THAT(msg, Catch::StartsWith("reg.json:3:13: "));
  msg = parse_error("{\"allocations\": {}");
  CHECK_THAT(msg, Catch::Matches("reg\\.json:1:[0-9]+: .+"));
  msg = parse_error("");
  CHECK_THAT(msg, Catch::StartsWith("reg.json:1:"));
}

TEST_CASE("keys written twice are reported by their path", "[registry]") {
  Registry r = parse_ok(R"({
  "allocations": {
    "3000": {"service": "first"},
    "3001": {"service": "other", "status": "active", "status": "inactive"},
    "3000": {"service": "second"}
  },
  "archive": [{"port": 1, "service": "a"}, {"port": 1, "service": "a"}]
})");
  CHECK(r.duplicate_keys() ==
        std::vector<std::string>{"allocations[\"3001\"].status", "allocations[\"3000\"]"});
  // The last value is read, at the place of the first.
  CHECK(r.find({3000, Protocol::tcp})->service == "second");
  CHECK(r.find({3001, Protocol::tcp})->status == "inactive");
  // In other objects, the place of the first is kept.
  Registry nested = parse_ok(R"({"x": {"a": 1, "b": 2, "a": 3}})");
  CHECK(nested.duplicate_keys() == std::vector<std::string>{"x.a"});
  CHECK(nested.document()["x"].dump() == R"({"a":3,"b":2})");
  // The same key in sibling objects is not a duplicate.
  Registry clean = parse_ok(slurp(kSeedPath));
  CHECK(clean.duplicate_keys().empty());
}

TEST_CASE("release moves the entry with all its fields plus released_at into the archive",
          "[registry]") {
  Registry r = parse_ok(slurp(kSeedPath));
  const Json original = r.find({3000, Protocol::tcp})->json;
  r.release({3000, Protocol::tcp}, "2026-03-04T10:00:00.000000");
  CHECK(r.find({3000, Protocol::tcp}) == nullptr);
  CHECK(r.entries().size() == 4);
  CHECK_THAT(r.serialize_next(fixed_now()), !Catch::Contains("\"3000\": {"));
  const Json& archive = r.document()["archive"];
  REQUIRE(archive.size() == 2);
  CHECK(archive[0]["service"] == "old-api");  // the old archive stays first
  const Json& rec = archive[1];
  CHECK(rec["port"] == 3000);
  CHECK(rec["protocol"] == "tcp");
  CHECK(rec["released_at"] == "2026-03-04T10:00:00.000000");
  for (const auto& [k, v] : original.items()) {
    INFO(k);
    CHECK(rec[k] == v);
  }
  CHECK(rec.size() == original.size() + 2);  // port and released_at added; protocol was there

  auto parsed = r.archive();
  REQUIRE(parsed.size() == 2);
  CHECK(parsed[1].key == PortKey{3000, Protocol::tcp});
  CHECK(parsed[1].service == "FibreFlow Production");
  REQUIRE(parsed[1].released_at.has_value());
  CHECK(*parsed[1].released_at == *parse_timestamp("2026-03-04T10:00:00"));

  // And the result survives a write and a read.
  Registry again = parse_ok(r.serialize_next(fixed_now()));
  CHECK(again.document()["archive"] == r.document()["archive"]);
}

TEST_CASE("releasing a udp entry archives it as udp and an unknown port changes nothing",
          "[registry]") {
  Registry r = parse_ok(slurp(kSeedPath));
  r.release({53, Protocol::udp}, "2026-03-04T10:00:00");
  CHECK(r.find({53, Protocol::udp}) == nullptr);
  CHECK(r.find({53, Protocol::tcp}) != nullptr);
  auto archive = r.archive();
  REQUIRE(archive.size() == 2);
  CHECK(archive[1].key == PortKey{53, Protocol::udp});

  const std::string before = r.serialize_next(fixed_now());
  r.release({4444, Protocol::tcp}, "2026-03-04T10:00:00");
  CHECK(r.serialize_next(fixed_now()) == before);
}

TEST_CASE("set_status sets status, notes and updated_at and keeps the other fields", "[registry]") {
  Registry r = parse_ok(slurp(kSeedPath));
  r.set_status({3000, Protocol::tcp}, "maintenance", std::string("db migration"),
               "2026-03-04T11:00:00.000001");
  const Entry* e = r.find({3000, Protocol::tcp});
  REQUIRE(e);
  CHECK(e->status == "maintenance");
  CHECK(e->notes == "db migration");
  CHECK(e->updated_at == "2026-03-04T11:00:00.000001");
  CHECK(e->json["health_check"]["path"] == "/healthz");
  CHECK(e->allocated_at == "2025-10-01T09:12:44.120391");

  // Without a note, the old note stays.
  r.set_status({3000, Protocol::tcp}, "active", std::nullopt, "2026-03-04T12:00:00");
  e = r.find({3000, Protocol::tcp});
  CHECK(e->status == "active");
  CHECK(e->notes == "db migration");
  CHECK(e->updated_at == "2026-03-04T12:00:00");
}

TEST_CASE("update_fields sets the given fields and keeps the others and the key spelling",
          "[registry]") {
  Registry r = parse_ok(R"({"allocations": {"3000/tcp": {"service": "a", "owner": "ops",
    "extra": {"x": 1}}}})");
  r.update_fields({3000, Protocol::tcp}, Json{{"service", "b"}, {"dokploy", Json{{"id", "app1"}}}},
                  "2026-03-04T12:00:00");
  const Entry* e = r.find({3000, Protocol::tcp});
  REQUIRE(e);
  CHECK(e->raw_key == "3000/tcp");
  CHECK(e->service == "b");
  CHECK(e->owner == "ops");
  CHECK(e->updated_at == "2026-03-04T12:00:00");
  CHECK(e->json["extra"]["x"] == 1);
  CHECK(e->json["dokploy"]["id"] == "app1");
  CHECK(r.entries().size() == 1);
  CHECK(r.duplicate_keys().empty());
  // An unknown port changes nothing.
  r.update_fields({4444, Protocol::tcp}, Json{{"service", "c"}}, "2026-03-04T12:00:00");
  CHECK(r.entries().size() == 1);
}

TEST_CASE("add registers a new entry under its key and keeps port order", "[registry]") {
  Registry r = parse_ok(slurp(kSeedPath));
  r.add({5432, Protocol::tcp}, Json{{"service", "postgres"}, {"status", "allocated"}});
  r.add({5353, Protocol::udp}, Json{{"service", "mdns"}});
  REQUIRE(r.entries().size() == 7);
  CHECK(r.entries()[3].raw_key == "5353/udp");
  CHECK(r.entries()[4].raw_key == "5432");
  CHECK(r.find({5432, Protocol::tcp})->service == "postgres");
  auto out = nlohmann::json::parse(r.serialize_next(fixed_now()));
  CHECK(out["allocations"]["5353/udp"]["service"] == "mdns");
}

TEST_CASE("parse_timestamp reads the seed's local timestamps", "[registry]") {
  TimeZone tz("XYZ-3");  // UTC+3, no daylight saving
  auto t = parse_timestamp("2025-10-01T09:12:44.120391");
  REQUIRE(t.has_value());
  CHECK(system_clock::to_time_t(*t) == 1759309964 - 3 * 3600);
  auto plain = parse_timestamp("2025-10-01T09:12:44");
  REQUIRE(plain.has_value());
  CHECK(system_clock::to_time_t(*plain) == 1759309964 - 3 * 3600);
  // local_timestamp writes the same form back.
  CHECK(local_timestamp(*plain) == "2025-10-01T09:12:44.000000");
  CHECK(local_timestamp(system_clock::from_time_t(1759309964) + std::chrono::microseconds(42)) ==
        "2025-10-01T12:12:44.000042");
}

// Found by fuzz/fuzz_registry: an archive entry released in the year 1012 overflowed
// system_clock's nanoseconds (undefined behaviour) when the archive was read.
TEST_CASE("parse_timestamp refuses a time system_clock cannot hold", "[registry]") {
  CHECK_FALSE(parse_timestamp("1012-01-01T12:00:00").has_value());
  CHECK_FALSE(parse_timestamp("1677-01-01T00:00:00Z").has_value());
  CHECK_FALSE(parse_timestamp("2263-01-01T00:00:00Z").has_value());
  CHECK_FALSE(parse_timestamp("9999-12-31T23:59:59+14:00").has_value());
  CHECK(parse_timestamp("1900-01-01T00:00:00Z").has_value());
  CHECK(parse_timestamp("2200-01-01T00:00:00Z").has_value());

  auto r = Registry::parse(R"({"allocations": {}, "archive": [
    {"port": 10005, "service": "old-job", "released_at": "2025-11-01T12:00:00"},
    {"port": 10006, "service": "older-job", "released_at": "1012-01-01T12:00:00"}]})",
                           "registry.json");
  REQUIRE(r);
  auto archive = r->archive();
  REQUIRE(archive.size() == 2);
  CHECK(archive[0].released_at.has_value());
  CHECK_FALSE(archive[1].released_at.has_value());
}

TEST_CASE("parse_timestamp reads RFC 3339 timestamps with Z or an offset", "[registry]") {
  auto z = parse_timestamp("2025-10-01T09:12:44Z");
  REQUIRE(z.has_value());
  CHECK(system_clock::to_time_t(*z) == 1759309964);
  auto frac = parse_timestamp("2025-10-01T09:12:44.5Z");
  REQUIRE(frac.has_value());
  CHECK(system_clock::to_time_t(*frac) == 1759309964);
  auto plus = parse_timestamp("2025-10-01T11:12:44+02:00");
  REQUIRE(plus.has_value());
  CHECK(system_clock::to_time_t(*plus) == 1759309964);
  auto minus = parse_timestamp("2025-10-01T04:42:44-04:30");
  REQUIRE(minus.has_value());
  CHECK(system_clock::to_time_t(*minus) == 1759309964);
}

TEST_CASE("parse_timestamp refuses dates alone and malformed text", "[registry]") {
  for (const char* bad : {"", "2025-11-02", "yesterday", "2025-10-01T09:12:44+0200",
                          "2025-10-01T09:12:44 UTC", "2025-10-01 09:12"}) {
    INFO(bad);
    CHECK_FALSE(parse_timestamp(bad).has_value());
  }
}

namespace {

// `depth` nested arrays inside one free-form field of an entry: the document is 3 levels deep
// before the field, so the deepest array is at level depth + 3.
std::string nested(size_t depth) {
  return R"({"allocations": {"80": {"service": "x", "deep": )" + std::string(depth, '[') +
         std::string(depth, ']') + "}}}";
}

}  // namespace

TEST_CASE("numbers a double cannot hold are refused with line, column and path", "[registry]") {
  SECTION("1e400 in a free-form field") {
    auto msg = parse_error("{\"allocations\": {\n  \"80\": {\"replicas\": 1e400}}}");
    CHECK_THAT(msg, Catch::StartsWith("reg.json:2:22: allocations[\"80\"].replicas: number 1e400"));
    CHECK_THAT(msg, Catch::Contains("out of range"));
  }
  SECTION("-1e400 at the top level and in the archive") {
    CHECK_THAT(parse_error(R"({"server": -1e400})"), Catch::StartsWith("reg.json:1:12: server:"));
    CHECK_THAT(parse_error(R"({"archive": [{"port": 80}, {"port": 1E+999}]})"),
               Catch::Contains("archive[1].port: number 1E+999"));
  }
  SECTION("1e-400, which a double holds only as 0") {
    auto msg = parse_error(R"({"allocations": {"80": {"weight": 1e-400}}})");
    CHECK_THAT(msg, Catch::Contains("allocations[\"80\"].weight: number 1e-400 is too small"));
    // Zero written any way, and the smallest doubles, are kept.
    Registry r = parse_ok(R"({"allocations": {"80": {"a": 0.0, "b": 0e-400, "c": 5e-324}}})");
    CHECK(r.find({80, Protocol::tcp})->json["c"].get<double>() > 0);
  }
  SECTION("a whole number of 400 digits, as Python writes 10**400") {
    auto msg = parse_error(R"({"generation": 1)" + std::string(400, '0') + "}");
    CHECK_THAT(msg, Catch::StartsWith("reg.json:1:16: generation: number 10000000000000000000..."));
    CHECK(msg.size() < 200);  // one line, not the 400 digits
  }
}

TEST_CASE("whole numbers outside int64 are refused instead of wrapped or rounded", "[registry]") {
  for (const char* n : {"9223372036854775808", "18446744073709551615", "18446744073709551616",
                        "99999999999999999999", "-9223372036854775809"}) {
    INFO(n);
    auto msg = parse_error(std::string(R"({"allocations": {"80": {"count": )") + n + "}}}");
    CHECK_THAT(msg, Catch::StartsWith("reg.json: allocations[\"80\"].count: whole number "));
    CHECK_THAT(msg, Catch::Contains("-9223372036854775808 to 9223372036854775807"));
  }
  // The limits themselves and large doubles are kept as written.
  Registry r = parse_ok(
      R"({"allocations": {"80": {"a": 9223372036854775807, "b": -9223372036854775808, "c": 1e300}}})");
  const std::string out = r.serialize_next(fixed_now());
  CHECK_THAT(out, Catch::Contains("\"a\": 9223372036854775807,"));
  CHECK_THAT(out, Catch::Contains("\"b\": -9223372036854775808,"));
  CHECK_THAT(out, Catch::Contains("\"c\": 1e+300"));
}

TEST_CASE("generation must leave room for the next one", "[registry]") {
  auto msg = parse_error(R"({"generation": 9223372036854775807})");
  CHECK_THAT(msg, Catch::Contains("generation: expected a whole number from 0 to "
                                  "9223372036854775806"));
  // The last one is readable (saving it again is refused: test_registry_file.cpp).
  Registry last = parse_ok(R"({"generation": 9223372036854775806})");
  CHECK(last.generation() == Registry::kMaxGeneration);
}

TEST_CASE("nesting deeper than the cap is refused while reading, quickly", "[registry]") {
  // 61 arrays put the deepest at level 64: the cap itself is fine.
  Registry ok = parse_ok(nested(kMaxNestingDepth - 3));
  CHECK(ok.entries().size() == 1);
  CHECK_FALSE(ok.serialize_next(fixed_now()).empty());

  auto msg = parse_error(nested(kMaxNestingDepth - 2));
  CHECK_THAT(msg, Catch::Contains("nested deeper than 64 levels"));
  // The 65th bracket opens after {"allocations": {"80": {"service": "x", "deep": and 61 more.
  CHECK_THAT(msg, Catch::StartsWith("reg.json:1:" + std::to_string(48 + 61 + 1) + ": "));

  for (size_t depth : {20'000u, 150'000u}) {
    INFO(depth);
    const std::string text = nested(depth);
    std::string error;
    // Today's DOM parser overflows the stack at 150,000; 20,000 makes an 800 MB save.
    double took = seconds([&] { error = parse_error(text); });
    CHECK_THAT(error, Catch::Contains("nested deeper than 64 levels"));
    CHECK(took < 1.0);
  }
  // Objects count as well as arrays, and a string full of brackets does not.
  std::string objects = R"({"a":)";
  for (int i = 0; i < 100; ++i) objects += R"({"[[[": )";
  objects += "1" + std::string(101, '}');
  CHECK_THAT(parse_error(objects),
             Catch::StartsWith("reg.json:1:" + std::to_string(6 + 63 * 8) + ": nested deeper"));
}

TEST_CASE("registry keys have one spelling: 0080 and 80 cannot both name port 80", "[registry]") {
  for (const char* key : {"0080", "+80", " 80", "80 ", "080/udp", "-80"}) {
    INFO(key);
    auto msg = parse_error(std::string(R"({"allocations": {"80": {}, ")") + key + R"(": {}}})");
    CHECK_THAT(msg, Catch::Contains(std::string("allocations[\"") + key + "\"]"));
    CHECK_THAT(msg, Catch::Contains("without leading zeros"));
  }
}

TEST_CASE("80 and 80/tcp together are read but never rewritten", "[registry]") {
  Registry r = parse_ok(R"({"allocations": {"80/tcp": {"service": "b"}, "80": {"service": "a"}}})");
  REQUIRE(r.entries().size() == 2);
  CHECK(r.duplicate_keys() == std::vector<std::string>{"allocations[\"80/tcp\"]"});
  REQUIRE(r.duplicates().size() == 1);
  CHECK_THAT(r.duplicates()[0].message, Catch::Contains("same port as \"80\""));
  CHECK(parse_ok(R"({"allocations": {"80/udp": {}, "80": {}}})").duplicate_keys().empty());
}

TEST_CASE("check lists every content problem with its path, in file order", "[registry]") {
  RegistryCheck c = Registry::check(R"({
  "allocations": {
    "abc": {"service": "x"},
    "3000": {"service": "good"},
    "70000": {"service": "y", "status": 5},
    "3001": "web"
  },
  "generation": -1,
  "archive": [{"port": 0}]
})");
  std::vector<std::string> got;
  for (const auto& p : c.problems) got.push_back(p.describe("reg.json"));
  CHECK(got == std::vector<std::string>{
                   "reg.json: allocations[\"abc\"]: key 'abc' is not PORT, PORT/tcp or PORT/udp "
                   "with PORT 1-65535 written without leading zeros, sign or spaces",
                   "reg.json: allocations[\"70000\"]: key '70000' is not PORT, PORT/tcp or "
                   "PORT/udp with PORT 1-65535 written without leading zeros, sign or spaces",
                   "reg.json: allocations[\"70000\"].status: expected a string, got number",
                   "reg.json: allocations[\"3001\"]: expected an object, got string",
                   "reg.json: generation: expected a whole number from 0 to 9223372036854775806",
                   "reg.json: archive[0].port: expected a port number 1-65535 or a key such as "
                   "\"53/udp\""});
  // The entries without problems are there to report on.
  REQUIRE(c.registry);
  REQUIRE(c.registry->entries().size() == 1);
  CHECK(c.registry->entries()[0].service == "good");
  // parse() names the first.
  CHECK(parse_error(slurp(kSeedPath) + "x") != "");
  auto r = Registry::parse(R"({"allocations": {"abc": {}, "70000": {}}})", "reg.json");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::StartsWith("reg.json: allocations[\"abc\"]: "));
}

TEST_CASE("a syntax error ends the check with one problem and no registry", "[registry]") {
  RegistryCheck c = Registry::check("{\"allocations\": {\"abc\": {}},\n \"x\": ]}");
  REQUIRE(c.problems.size() == 1);
  CHECK(c.problems[0].line == 2);
  CHECK(c.problems[0].column == 7);
  CHECK_FALSE(c.registry);
}

TEST_CASE("serialize_next writes the bytes of nlohmann's dump(2) of the sorted document",
          "[registry]") {
  const std::string text = R"({
  "version": "1.0.0", "empty_obj": {}, "empty_list": [], "nested": [[], [{}], {"a": [1, 2.5]}],
  "allocations": {"9000": {"x": {"y": [{"z": null}]}, "s": "a\nb\t\u0001\"\\"},
                  "53/udp": {}, "53": {"list": []}, "10": {"ö": "ü"}},
  "generation": 7, "tail": true
})";
  Registry r = parse_ok(text);
  nlohmann::ordered_json expected = nlohmann::ordered_json::parse(text);
  nlohmann::ordered_json sorted = nlohmann::ordered_json::object();
  for (const char* k : {"10", "53", "53/udp", "9000"}) sorted[k] = expected["allocations"][k];
  expected["allocations"] = sorted;
  expected["generation"] = 8;
  expected["last_updated"] = "2026-03-04";
  TimeZone tz("UTC0");
  CHECK(r.serialize_next(fixed_now()) == expected.dump(2) + "\n");
  // An empty allocations object.
  Registry empty = parse_ok(R"({"allocations": {}, "generation": 1, "last_updated": "x"})");
  CHECK(empty.serialize_next(fixed_now()) ==
        "{\n  \"allocations\": {},\n  \"generation\": 2,\n  \"last_updated\": \"2026-03-04\"\n}\n");
}

TEST_CASE("a large registry parses and serializes in linear time", "[registry]") {
  // 60,000 entries: ordered_json's parser searched every key linearly (minutes here).
  std::string text = R"({"version": "1.0.0", "allocations": {)";
  for (int i = 0; i < 60'000; ++i) {
    int port = 1 + i % 65'000;
    text += (i ? ", \"" : "\"") + std::to_string(port) + (i >= 65'000 ? "/udp" : "") +
            R"(": {"service": "s)" + std::to_string(i) + R"(", "status": "active"})";
  }
  text += "}}";
  std::optional<Registry> r;
  std::string out;
  double took = seconds([&] {
    r = parse_ok(text);
    out = r->serialize_next(fixed_now());
  });
  REQUIRE(r->entries().size() == 60'000);
  CHECK(out.size() > text.size());
  CHECK(took < 5.0 * test::kTimeScale);
}
