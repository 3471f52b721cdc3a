// The agent's log lines: one per event, logfmt or JSON, values quoted or escaped as needed.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "agent/log.hpp"

using namespace portman::agent;

TEST_CASE("logfmt lines quote values with spaces, quotes or newlines and leave plain ones bare") {
  Logger log(LogLevel::info, LogFormat::logfmt);
  std::string line = log.format(LogLevel::warn, "registry invalid",
                                {{"path", "/var/lib/x.json"}, {"err", "line 3: \"x\"\nnext"}},
                                "2026-01-01T00:00:00.000Z");
  CHECK(line ==
        "time=2026-01-01T00:00:00.000Z level=warn msg=\"registry invalid\" path=/var/lib/x.json "
        "err=\"line 3: \\\"x\\\"\\nnext\"");
  CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("JSON lines are one object per line with time, level, msg and the fields") {
  Logger log(LogLevel::debug, LogFormat::json);
  std::string line = log.format(LogLevel::error, "bad \"thing\"", {{"err", "a\tb\x01"}},
                                "2026-01-01T00:00:00.000Z");
  CHECK(line.find('\n') == std::string::npos);
  auto j = nlohmann::json::parse(line);
  CHECK(j["level"] == "error");
  CHECK(j["msg"] == "bad \"thing\"");
  CHECK(j["err"] == "a\tb\x01");
  CHECK(j["time"] == "2026-01-01T00:00:00.000Z");
}

TEST_CASE("log levels and formats parse from their names and refuse others") {
  CHECK(*parse_log_level("debug") == LogLevel::debug);
  CHECK(*parse_log_level("error") == LogLevel::error);
  CHECK_FALSE(parse_log_level("verbose").ok());
  CHECK(*parse_log_format("json") == LogFormat::json);
  CHECK_FALSE(parse_log_format("text").ok());
  Logger quiet(LogLevel::warn, LogFormat::logfmt);
  CHECK_FALSE(quiet.enabled(LogLevel::info));
  CHECK(quiet.enabled(LogLevel::error));
}
