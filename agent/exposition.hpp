// The Prometheus text exposition format (0.0.4), written straight into one string: a family's
// HELP and TYPE lines, then its series. What the agent renders on every fresh scrape, so it
// builds no intermediate model and formats numbers without streams.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace portman::agent {

// A sample value as prometheus-cpp's serializer writes it ("%.16g", "Nan", "+Inf", "-Inf"), so
// that the text does not change with the writer; integers (nearly every value here) take a
// shorter path.
void append_sample_value(std::string& out, double value);

// A label value between its quotes: backslash, double quote and line feed escaped.
void append_label_value(std::string& out, std::string_view value);

// "# HELP name help\n# TYPE name type\n", the help text escaped as the format asks.
void append_family_header(std::string& out, std::string_view name, std::string_view help,
                          std::string_view type);

// `{a="x",b="y"}` for the names and values in order; nothing for no labels.
void append_label_block(std::string& out, std::span<const std::string_view> names,
                        std::span<const std::string_view> values);

}  // namespace portman::agent
