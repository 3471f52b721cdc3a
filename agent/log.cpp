#include "agent/log.hpp"

#include "libportman/json_writer.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace portman::agent {
namespace {

std::string_view level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

// logfmt: bare when safe, else quoted with \" \\ \n escaped.
void append_logfmt_value(std::string& out, std::string_view v) {
  bool quote = v.empty() || v.find_first_of(" =\"\\\n\t") != std::string_view::npos;
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

Result<LogLevel> parse_log_level(std::string_view text) {
  for (LogLevel l : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error})
    if (level_name(l) == text) return l;
  return make_error(ErrorKind::bad_input, "invalid log level '" + std::string(text) +
                                              "'; valid: debug, info, warn, error");
}

Result<LogFormat> parse_log_format(std::string_view text) {
  if (text == "logfmt") return LogFormat::logfmt;
  if (text == "json") return LogFormat::json;
  return make_error(ErrorKind::bad_input,
                    "invalid log format '" + std::string(text) + "'; valid: logfmt, json");
}

std::string Logger::format(LogLevel level, std::string_view msg, const LogFields& fields,
                           std::string_view timestamp) const {
  std::string out;
  if (format_ == LogFormat::json) {
    out += "{\"time\":";
    append_json_string(out, timestamp);
    out += ",\"level\":";
    append_json_string(out, level_name(level));
    out += ",\"msg\":";
    append_json_string(out, msg);
    for (const auto& [k, v] : fields) {
      out += ',';
      append_json_string(out, k);
      out += ':';
      append_json_string(out, v);
    }
    out += '}';
    return out;
  }
  out += "time=";
  out += timestamp;
  out += " level=";
  out += level_name(level);
  out += " msg=";
  append_logfmt_value(out, msg);
  for (const auto& [k, v] : fields) {
    out += ' ';
    out += k;
    out += '=';
    append_logfmt_value(out, v);
  }
  return out;
}

void Logger::log(LogLevel level, std::string_view msg, const LogFields& fields) {
  if (!enabled(level)) return;
  std::string line = format(level, msg, fields, now_rfc3339());
  line += '\n';
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace portman::agent
