// The streaming writer behind `scan --json` and /api/scan.
#include <catch2/catch.hpp>

#include <limits>

#include <nlohmann/json.hpp>

#include "libportman/json_writer.hpp"

using portman::JsonWriter;

TEST_CASE("JsonWriter writes nested objects and arrays that parse back to the same values",
          "[json]") {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .field("n", std::int64_t{-5})
      .field("u", std::uint64_t{18446744073709551615ULL})
      .field("d", 0.25)
      .field("b", true)
      .field("s", "x");
  w.key("none").null();
  w.key("empty_a").begin_array().end_array();
  w.key("empty_o").begin_object().end_object();
  w.key("list")
      .begin_array()
      .value(1)
      .value("two")
      .begin_object()
      .field("k", false)
      .end_object()
      .end_array();
  w.end_object();
  auto j = nlohmann::json::parse(out);
  CHECK(j["n"] == -5);
  CHECK(j["u"] == 18446744073709551615ULL);
  CHECK(j["d"] == 0.25);
  CHECK(j["b"] == true);
  CHECK(j["none"].is_null());
  CHECK(j["empty_a"] == nlohmann::json::array());
  CHECK(j["empty_o"] == nlohmann::json::object());
  CHECK(j["list"][2]["k"] == false);
  // The same layout as nlohmann's dump(2), so that diffs of saved reports stay readable.
  CHECK(out == nlohmann::ordered_json::parse(out).dump(2));
}

TEST_CASE("JsonWriter escapes quotes, backslashes and control characters", "[json]") {
  std::string out;
  JsonWriter(out).value(
      std::string_view("a\"b\\c\nd\te\x01"
                       "f",
                       11));
  CHECK(out == R"("a\"b\\c\nd\te\u0001f")");
  CHECK(nlohmann::json::parse(out) == std::string("a\"b\\c\nd\te\x01"
                                                  "f"));
}

TEST_CASE("JsonWriter keeps valid UTF-8 and replaces each invalid byte with U+FFFD", "[json]") {
  std::string out;
  // é, then a lone continuation byte, an overlong '/', a UTF-16 surrogate and a cut sequence.
  JsonWriter(out).value(std::string_view("\xC3\xA9|\x80|\xC0\xAF|\xED\xA0\x80|\xE2\x82", 15));
  auto s = nlohmann::json::parse(out).get<std::string>();  // nlohmann refuses invalid UTF-8
  CHECK(s.rfind("\xC3\xA9|\xEF\xBF\xBD|", 0) == 0);
  CHECK(s.find("\xC0") == std::string::npos);
  CHECK(s.find("\xED\xA0") == std::string::npos);
}

TEST_CASE("JsonWriter writes non-finite numbers as null and numbers without the locale", "[json]") {
  std::string out;
  JsonWriter w(out);
  w.begin_array().value(1.5).value(std::numeric_limits<double>::infinity()).end_array();
  CHECK(nlohmann::json::parse(out) == nlohmann::json::parse("[1.5, null]"));
}

TEST_CASE("JsonWriter escapes every byte as nlohmann does, wherever it sits in a run", "[json]") {
  // Each ASCII byte alone, at the start, in the middle and at the end of plain text: the
  // writer copies runs of plain bytes whole and must not skip or misplace what breaks a run.
  for (int c = 0; c < 0x80; ++c) {
    const std::string byte(1, static_cast<char>(c));
    for (const std::string& s : {byte, byte + "tail", "head" + byte + "tail", "head" + byte}) {
      std::string out;
      JsonWriter(out).value(s);
      INFO("byte " << c << " in \"" << s << "\"");
      CHECK(out == nlohmann::json(s).dump());
    }
  }
}

TEST_CASE("JsonWriter finds every byte that breaks a run, in whichever lane of a word it sits",
          "[json]") {
  // Plain runs are scanned eight bytes at a time: each of the 256 byte values, at each of the
  // 24 offsets of a 32-byte string, must be escaped (ASCII) or replaced (a lone byte >= 0x80).
  const std::string plain(32, 'a');
  for (int c = 0; c < 0x100; ++c) {
    for (std::size_t at = 0; at < 24; ++at) {
      std::string s = plain;
      s[at] = static_cast<char>(c);
      std::string out;
      JsonWriter(out).value(s);
      std::string expected =
          c < 0x80 ? nlohmann::json(s).dump()
                   : "\"" + plain.substr(0, at) + "\xEF\xBF\xBD" + plain.substr(at + 1) + "\"";
      INFO("byte " << c << " at " << at);
      REQUIRE(out == expected);
    }
  }
}

TEST_CASE("JsonWriter finds every byte that breaks a run in a string's last, partial word",
          "[json]") {
  // Strings of 1 to 15 bytes end in a word of fewer than 8 bytes, tested padded.
  for (std::size_t length = 1; length < 16; ++length) {
    for (int c : {0x00, 0x1f, int{'"'}, int{'\\'}, 0x7f, 0x80, 0xff}) {
      for (std::size_t at = 0; at < length; ++at) {
        std::string s(length, 'k');
        s[at] = static_cast<char>(c);
        std::string out;
        JsonWriter(out).value(s);
        std::string expected = c < 0x80 ? nlohmann::json(s).dump()
                                        : "\"" + std::string(at, 'k') + "\xEF\xBF\xBD" +
                                              std::string(length - at - 1, 'k') + "\"";
        INFO("length " << length << ", byte " << c << " at " << at);
        REQUIRE(out == expected);
      }
    }
  }
}

TEST_CASE("JsonWriter indents deeper than its ready-made indent", "[json]") {
  std::string out;
  JsonWriter w(out);
  for (int i = 0; i < 40; ++i) w.begin_array();
  w.value(1);
  for (int i = 0; i < 40; ++i) w.end_array();
  nlohmann::json expected = 1;
  for (int i = 0; i < 40; ++i) expected = nlohmann::json::array({expected});
  CHECK(out == expected.dump(2));
}
