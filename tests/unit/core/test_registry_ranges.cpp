// The registry file's own reserved_ranges: read as the old scripts wrote them, and compared with
// the configured types.
#include <catch2/catch.hpp>

#include "libportman/registry_ranges.hpp"
#include "unit/support.hpp"

using namespace portman;

namespace {

Registry with_ranges(const std::string& ranges_json) {
  auto r =
      Registry::parse(R"({"allocations": {}, "reserved_ranges": )" + ranges_json + "}", "reg.json");
  REQUIRE(r);
  return *r;
}

}  // namespace

TEST_CASE("reserved_ranges are read in file order, with FIRST-LAST, FIRST+ and PORT") {
  auto fr =
      file_ranges(with_ranges(R"({"4000-4099": "Frontends", "10000+": "Dynamic", "22": "ssh"})"));
  CHECK(fr.problems.empty());
  REQUIRE(fr.ranges.size() == 3);
  CHECK(fr.ranges[0].key == "4000-4099");
  CHECK(fr.ranges[0].name == "Frontends");
  CHECK((fr.ranges[0].range.first == 4000 && fr.ranges[0].range.last == 4099));
  CHECK((fr.ranges[1].range.first == 10000 && fr.ranges[1].range.last == 65535));
  CHECK((fr.ranges[2].range.first == 22 && fr.ranges[2].range.last == 22));
}

TEST_CASE("bad reserved_ranges are reported one by one, the good ones kept") {
  auto fr = file_ranges(with_ranges(
      R"({"4000-4099": "Frontends", "abc": "x", "5000-4000": "y", "6000": 7, "70000+": "z"})"));
  REQUIRE(fr.ranges.size() == 1);
  REQUIRE(fr.problems.size() == 4);
  CHECK_THAT(fr.problems[0], Catch::StartsWith("reserved_ranges[\"abc\"]"));
  CHECK_THAT(fr.problems[2], Catch::Contains("expected a name, got number"));
  CHECK_THAT(file_ranges(with_ranges("[1]")).problems.at(0), Catch::Contains("expected an object"));
  CHECK(file_ranges(with_ranges("null")).ranges.empty());
}

TEST_CASE("where the file's ranges and the configured types disagree") {
  Config config = default_config();
  auto fr = file_ranges(with_ranges(R"({"3000-3099": "Web Applications",
      "5000-5999": "Databases", "10000+": "Dynamic/Temporary Services",
      "4000-4099": "Frontends"})"));
  auto d = range_disagreements(fr.ranges, config);
  // Web matches by name and bounds; 5000-5999 matches database's bounds under another name.
  REQUIRE(d.size() == 2);
  CHECK_THAT(d[0], Catch::Contains("reserved_ranges[\"10000+\"] (Dynamic/Temporary Services) is "
                                   "10000-65535 in the registry, but type dynamic is "
                                   "10000-10999 in the config"));
  CHECK_THAT(d[1], Catch::Contains("reserved_ranges[\"4000-4099\"] (Frontends) is no configured "
                                   "type's range"));
}
