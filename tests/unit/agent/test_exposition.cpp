// The agent's text-format writer (agent/exposition.hpp) against prometheus-cpp's TextSerializer,
// the reference it replaced: numbers, label values and headers must come out byte for byte the
// same, so that the text Prometheus reads did not change with the writer.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "agent/exposition.hpp"

using namespace portman::agent;

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string reference(const std::string& name, const std::string& help, prometheus::MetricType type,
                      const std::vector<Labels>& series, const std::vector<double>& values) {
  prometheus::MetricFamily family{name, help, type, {}};
  for (std::size_t i = 0; i < series.size(); ++i) {
    prometheus::ClientMetric m;
    for (const auto& [k, v] : series[i]) m.label.push_back({k, v});
    if (type == prometheus::MetricType::Counter)
      m.counter.value = values[i];
    else
      m.gauge.value = values[i];
    family.metric.push_back(std::move(m));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, {family});
  return out.str();
}

std::string ours(const std::string& name, const std::string& help, std::string_view type,
                 const std::vector<Labels>& series, const std::vector<double>& values) {
  std::string out;
  append_family_header(out, name, help, type);
  for (std::size_t i = 0; i < series.size(); ++i) {
    std::vector<std::string_view> names, label_values;
    for (const auto& [k, v] : series[i]) {
      names.push_back(k);
      label_values.push_back(v);
    }
    out += name;
    append_label_block(out, names, label_values);
    out += ' ';
    append_sample_value(out, values[i]);
    out += '\n';
  }
  return out;
}

std::string value_text(double v) {
  std::string out;
  append_sample_value(out, v);
  return out;
}

// The value part of the reference's line for one unlabelled sample.
std::string reference_value(double v) {
  std::string text = reference("x", "h", prometheus::MetricType::Gauge, {{}}, {v});
  std::string_view line = std::string_view(text).substr(text.rfind("\nx ") + 3);
  line.remove_suffix(1);  // '\n'
  return std::string(line);
}

}  // namespace

TEST_CASE("exposition: values are written as prometheus-cpp writes them", "[exposition]") {
  const double max = std::numeric_limits<double>::max();
  std::vector<double> values = {0.0,
                                -0.0,
                                1,
                                -1,
                                0.5,
                                1e-7,
                                0.001234,
                                1.0 / 3,
                                12345678.9,
                                1764547200.123,
                                999999999999999.0,
                                1e15 - 1,
                                1e15,
                                -1e15,
                                1e15 + 1,
                                9007199254740992.0,  // 2^53
                                1e16,
                                1.8446744073709552e19,  // an unlimited rlimit, as a double
                                max,
                                -max,
                                std::numeric_limits<double>::min(),
                                std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::epsilon(),
                                std::nan(""),
                                -std::nan(""),
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity()};
  std::mt19937_64 rng(20261130);
  for (int i = 0; i < 20000; ++i) {
    switch (i % 4) {
      case 0:  // counts and ports
        values.push_back(static_cast<double>(rng() % 100000));
        break;
      case 1:  // large integers around the fast path's bound
        values.push_back(static_cast<double>(static_cast<std::int64_t>(rng() >> (rng() % 20))) *
                         (rng() % 2 ? 1 : -1));
        break;
      case 2:  // durations and other fractions of any size
        values.push_back(
            std::ldexp(static_cast<double>(rng() % 1000000), -static_cast<int>(rng() % 60)));
        break;
      default: {  // any bit pattern
        std::uint64_t bits = rng();
        double d;
        static_assert(sizeof d == sizeof bits);
        std::memcpy(&d, &bits, sizeof d);
        values.push_back(d);
      }
    }
  }
  for (double v : values) {
    INFO(v);
    REQUIRE(value_text(v) == reference_value(v));
  }
}

TEST_CASE("exposition: label values are escaped as prometheus-cpp escapes them", "[exposition]") {
  const std::vector<std::string> hostile = {"",
                                            "plain",
                                            "\"",
                                            "\\",
                                            "\n",
                                            "\\n",
                                            "a\"b\\c\nd",
                                            "}\"} 1\nfake_metric 2",
                                            "tab\there",
                                            "carriage\rreturn",
                                            std::string("nul\0byte", 8),
                                            "ünïcødé ✓",
                                            "\xff\xfe invalid UTF-8",
                                            std::string(3000, '\\')};
  std::vector<Labels> series;
  std::vector<double> values;
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    series.push_back({{"process", hostile[i]}, {"port", std::to_string(i)}});
    values.push_back(static_cast<double>(i));
  }
  CHECK(ours("portman_x", "help", "gauge", series, values) ==
        reference("portman_x", "help", prometheus::MetricType::Gauge, series, values));
}

TEST_CASE("exposition: families, headers and label sets as prometheus-cpp writes them",
          "[exposition]") {
  SECTION("a family without series keeps its HELP and TYPE") {
    CHECK(ours("portman_empty", "Nothing yet.", "counter", {}, {}) ==
          reference("portman_empty", "Nothing yet.", prometheus::MetricType::Counter, {}, {}));
  }
  SECTION("one unlabelled series") {
    CHECK(ours("portman_up", "Up.", "gauge", {{}}, {1}) ==
          reference("portman_up", "Up.", prometheus::MetricType::Gauge, {{}}, {1}));
  }
  SECTION("random label sets") {
    std::mt19937 rng(7);
    const std::string alphabet = "abcXYZ019_-./:\"\\\n {}=,";
    std::vector<Labels> series;
    std::vector<double> values;
    for (int i = 0; i < 500; ++i) {
      Labels labels;
      for (int l = 0; l < static_cast<int>(rng() % 8); ++l) {
        std::string v;
        for (int c = 0; c < static_cast<int>(rng() % 12); ++c)
          v += alphabet[rng() % alphabet.size()];
        labels.push_back({"label_" + std::to_string(l), v});
      }
      series.push_back(std::move(labels));
      values.push_back(static_cast<double>(rng() % 1000) / 8);
    }
    CHECK(ours("portman_random", "Random series.", "gauge", series, values) ==
          reference("portman_random", "Random series.", prometheus::MetricType::Gauge, series,
                    values));
  }
}

TEST_CASE("exposition: HELP text is escaped, which prometheus-cpp does not do", "[exposition]") {
  std::string out;
  append_family_header(out, "portman_x", "a \\ b\nc", "gauge");
  CHECK(out == "# HELP portman_x a \\\\ b\\nc\n# TYPE portman_x gauge\n");
}

TEST_CASE("exposition: a character to escape is found in whichever lane of a word it sits",
          "[exposition]") {
  // Label values are scanned eight bytes at a time up to the first word that may need escaping.
  auto naive = [](const std::string& v) {
    std::string out;
    for (char c : v)
      out += c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : std::string(1, c);
    return out;
  };
  for (char c : {'\\', '"', '\n', '\r', '\0'}) {
    for (std::size_t length : {7, 8, 9, 16, 31}) {
      for (std::size_t at = 0; at < length; ++at) {
        std::string v(length, 'x');
        v[at] = c;
        std::string out;
        append_label_value(out, v);
        INFO("byte " << int(c) << " at " << at << " of " << length);
        REQUIRE(out == naive(v));
      }
    }
  }
}
