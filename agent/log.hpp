// The agent's log: one line per event on stderr, logfmt or JSON, thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libportman/result.hpp"

namespace portman::agent {

enum class LogLevel { debug, info, warn, error };
enum class LogFormat { logfmt, json };

Result<LogLevel> parse_log_level(std::string_view text);    // debug|info|warn|error
Result<LogFormat> parse_log_format(std::string_view text);  // logfmt|json

using LogFields = std::vector<std::pair<std::string, std::string>>;

class Logger {
 public:
  Logger(LogLevel level, LogFormat format) : level_(level), format_(format) {}
  void log(LogLevel level, std::string_view msg, const LogFields& fields = {});
  void debug(std::string_view msg, const LogFields& f = {}) { log(LogLevel::debug, msg, f); }
  void info(std::string_view msg, const LogFields& f = {}) { log(LogLevel::info, msg, f); }
  void warn(std::string_view msg, const LogFields& f = {}) { log(LogLevel::warn, msg, f); }
  void error(std::string_view msg, const LogFields& f = {}) { log(LogLevel::error, msg, f); }
  bool enabled(LogLevel level) const { return level >= level_; }

  // The line that log() writes, without the newline; for tests.
  std::string format(LogLevel level, std::string_view msg, const LogFields& fields,
                     std::string_view timestamp) const;

 private:
  LogLevel level_;
  LogFormat format_;
  std::mutex mu_;
};

}  // namespace portman::agent
