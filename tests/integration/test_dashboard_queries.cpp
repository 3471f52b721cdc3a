// Every query of dashboards/portman.json through a real Prometheus scraping the agent: the
// template variables resolved as Grafana resolves them, then every panel target, with Grafana's
// variables filled in. A query Prometheus refuses fails, and so does an empty answer for a panel
// that has data in this setup (a registry with a production and a staging service, one of them
// down, an unregistered listener, a fake Dokploy).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "dashboard_queries.hpp"
#include "fake_dokploy.hpp"
#include "harness.hpp"
#include "monitoring_stack.hpp"
#include "unit/skip.hpp"

using itest::Agent;
using itest::Listener;
using itest::TempDir;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// Panels that may show nothing in this setup, each with why. Everything else must have data.
const std::map<std::string, std::string> kAllowedEmpty = {};

// Grafana's built-in variables, at a 1 s scrape interval ($__rate_interval is at least four
// scrape intervals) and a one-minute time range.
const std::map<std::string, std::string> kBuiltins = {
    {"__rate_interval", "4s"}, {"__interval", "1s"}, {"__interval_ms", "1000"},
    {"__range", "1m"},         {"__range_s", "60"},  {"__range_ms", "60000"},
};

std::string str(int port) {
  return std::to_string(port);
}

std::string error_of(const json& answer) {
  if (!answer.is_object()) return answer.dump();
  if (answer.value("status", "") == "success") return "";
  return answer.value("errorType", "") + ": " + answer.value("error", answer.dump());
}

// A variable's regex as Grafana writes it, /.../ with optional flags, without the slashes.
std::string bare_regex(std::string r) {
  if (r.size() >= 2 && r.front() == '/') r = r.substr(1, r.rfind('/') - 1);
  return r;
}

// What a variable offers: its query run against Prometheus, filtered by its regex.
std::vector<std::string> variable_values(const itest::Prometheus& prometheus,
                                         const itest::TemplateVariable& v, const std::string& query,
                                         std::string& error) {
  std::vector<std::string> values;
  auto request = itest::variable_request(query);
  json answer;
  switch (request.kind) {
    case itest::VariableRequest::kLabelValues: {
      std::vector<std::string> params;
      if (!request.match.empty()) params.push_back("match[]=" + request.match);
      answer = prometheus.get("/api/v1/label/" + request.label + "/values", params);
      if ((error = error_of(answer)).empty())
        for (const auto& x : answer["data"]) values.push_back(x.get<std::string>());
      break;
    }
    case itest::VariableRequest::kMetrics: {
      answer = prometheus.get("/api/v1/label/__name__/values", {});
      std::regex keep(request.match);
      if ((error = error_of(answer)).empty())
        for (const auto& x : answer["data"])
          if (std::regex_search(x.get<std::string>(), keep)) values.push_back(x.get<std::string>());
      break;
    }
    case itest::VariableRequest::kQueryResult: {
      answer = prometheus.query(request.expr);
      if ((error = error_of(answer)).empty())
        for (const auto& r : answer["data"]["result"]) {
          // Grafana's text for a series: name{label="value",...} value timestamp
          std::string text = r["metric"].value("__name__", "") + "{";
          bool first = true;
          for (const auto& [k, x] : r["metric"].items()) {
            if (k == "__name__") continue;
            text += (first ? "" : ",") + k + "=\"" + x.get<std::string>() + "\"";
            first = false;
          }
          values.push_back(text + "} " + r["value"][1].get<std::string>() + " " +
                           r["value"][0].dump());
        }
      break;
    }
  }
  if (v.regex.empty()) return values;
  std::regex filter(bare_regex(v.regex));
  std::vector<std::string> kept;
  std::smatch m;
  for (const auto& x : values)
    if (std::regex_search(x, m, filter)) kept.push_back(m.size() > 1 ? m[1].str() : x);
  return kept;
}

}  // namespace

TEST_CASE("dashboard: every panel and variable query runs on a real Prometheus and has data") {
  if (!itest::installed("prometheus")) portman::test::skip_test("prometheus is not installed");
  REQUIRE(std::filesystem::exists(PORTMAN_DASHBOARD_FILE));
  json dashboard = json::parse(itest::read_file(PORTMAN_DASHBOARD_FILE), nullptr, false);
  REQUIRE(dashboard.is_object());
  auto queries = itest::dashboard_queries(dashboard);
  REQUIRE(!queries.panels.empty());

  TempDir dir;
  itest::FakeDokploy dokploy({"--layout", "v3"});
  const int prometheus_port = itest::free_port();
  const std::string registry = (dir / "reg.json").string();
  // shop and blog in the web range (3000-3099) of the default config, clear of the fixtures'
  // Dokploy ports; Prometheus and the fake Dokploy registered, so the numbers below are exact.
  json entries = {
      {"3010",
       {{"service", "shop"},
        {"status", "active"},
        {"environment", "production"},
        {"service_type", "web"}}},
      {"3011",
       {{"service", "blog"},
        {"status", "active"},
        {"environment", "staging"},
        {"service_type", "web"}}},
      {str(prometheus_port), {{"service", "prometheus"}, {"status", "active"}}},
      {str(dokploy.port()), {{"service", "dokploy"}, {"status", "active"}}},
  };
  itest::write_file(registry, json{{"allocations", entries}}.dump(2) + "\n");
  Listener shop({"tcp:127.0.0.1:3010"});
  Listener rogue({"tcp:0.0.0.0:18410", "udp:127.0.0.1:18411"},
                 itest::listener_named(dir, "rogue-cache").string());
  Agent agent({"--scan.min-interval", "0s", "--registry", registry, "--dokploy.interval", "1s"},
              {{{"DOKPLOY_API_URL", dokploy.url()}, {"DOKPLOY_API_KEY", "test-key"}}});
  // The real rules, so that ALERTS has series (pending) should a panel show alerts.
  std::filesystem::copy_file(PORTMAN_RULES_FILE, dir / "rules.yml");
  itest::Prometheus prometheus(dir.path(),
                               "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
                               "rule_files: [rules.yml]\n"
                               "scrape_configs:\n"
                               "  - job_name: portman\n"
                               "    static_configs: [{ targets: ['127.0.0.1:" +
                                   str(agent.port()) + "'] }]\n",
                               prometheus_port);
  auto value = [&](const std::string& q) -> std::optional<double> {
    json j = prometheus.query(q);
    if (!error_of(j).empty() || j["data"]["result"].empty()) return std::nullopt;
    return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
  };
  // Enough samples for rate() over $__rate_interval, and Dokploy fetched.
  const std::string ready =
      "count_over_time(up{job=\"portman\"}[10s]) >= 4 and on() portman_dokploy_up == 1";
  const auto start = Clock::now();
  auto deadline = start + std::chrono::seconds(30);
  while (Clock::now() < deadline && !value(ready))
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  INFO("agent log:\n" << agent.log());
  REQUIRE(value(ready));
  std::printf("dashboard: data ready %.1f s after Prometheus\n",
              std::chrono::duration<double>(Clock::now() - start).count());

  // The variables in order, each query with the earlier ones filled in. `saved`: the selection
  // saved in the dashboard (All); otherwise the first value each offers, as a user picks one.
  auto resolve = [&](bool saved) {
    std::map<std::string, std::string> values = kBuiltins;
    for (const auto& v : queries.variables) {
      INFO("variable $" << v.name << " (" << v.type << "): " << v.query);
      std::vector<std::string> unknown;
      std::string query = itest::substitute(v.query, values, unknown);
      CHECK(unknown.empty());
      std::vector<std::string> offered;
      if (v.type == "query") {
        std::string error;
        offered = variable_values(prometheus, v, query, error);
        CHECK(error == "");
        CHECK(!offered.empty());
      } else if (v.type == "custom" || v.type == "interval") {
        std::string item;
        for (std::istringstream in(query); std::getline(in, item, ',');)
          offered.push_back(std::regex_replace(item, std::regex("^\\s+|\\s+$"), ""));
      } else if (v.type == "constant" || v.type == "textbox") {
        offered = {query};
      } else if (v.type == "datasource") {
        offered = {"prometheus"};  // named in datasource fields, never in PromQL
      } else {
        continue;  // adhoc filters add nothing to the query text
      }
      bool all =
          saved && std::find(v.current.begin(), v.current.end(), "$__all") != v.current.end();
      std::vector<std::string> selected;
      if (saved)
        for (const auto& c : v.current)
          if (std::find(offered.begin(), offered.end(), c) != offered.end()) selected.push_back(c);
      if (all) selected = offered;
      if (selected.empty() && !offered.empty()) selected = {offered.front()};
      values[v.name] = itest::variable_value(v, selected, all);
      std::printf("dashboard: $%s = %s\n", v.name.c_str(), values[v.name].c_str());
    }
    return values;
  };

  // `or vector(0)` answers even for a misspelt metric: the names in it that have no series.
  auto missing_metrics = [&](const std::string& expr) {
    std::vector<std::string> missing;
    for (const auto& name : itest::metric_names(expr)) {
      json series = prometheus.get("/api/v1/series", {"match[]=" + name});
      if (!error_of(series).empty() || series["data"].empty()) missing.push_back(name);
    }
    return missing;
  };
  // The check itself catches a misspelling.
  CHECK(value("sum(portman_findingz) or vector(0)") == 0.0);
  CHECK(missing_metrics("sum(portman_findingz{job=~\".*\"}) or vector(0)") ==
        std::vector<std::string>{"portman_findingz"});

  // Every panel target; the overview stats' values as this setup makes them: this agent; shop,
  // blog, Prometheus and the fake Dokploy registered; shop, Prometheus, the fake Dokploy, the
  // agent and rogue-cache's TCP and UDP sockets listening; rogue-cache's two unregistered; blog
  // down.
  const std::map<std::string, double> kOverview = {
      {"Agents up", 1},    {"Listening ports", 6}, {"Registered ports", 4},
      {"Unregistered", 2}, {"Services down", 1},
  };
  std::set<std::string> titles;
  for (const auto& p : queries.panels) titles.insert(p.panel);
  for (const auto& [title, expected] : kOverview) {
    INFO("overview stat \"" << title << "\"");
    CHECK(titles.count(title) == 1);  // renamed? update kOverview with it
  }
  for (bool saved : {true, false}) {
    auto values = resolve(saved);
    int ran = 0, with_data = 0;
    for (const auto& p : queries.panels) {
      std::vector<std::string> unknown;
      std::string expr = itest::substitute(p.expr, values, unknown);
      INFO(p.where << ":\n  " << p.expr << "\nran as:\n  " << expr);
      CHECK(unknown.empty());
      json answer = prometheus.query(expr);
      ++ran;
      CHECK(error_of(answer) == "");
      if (!error_of(answer).empty()) continue;
      const json& result = answer["data"]["result"];
      with_data += !result.empty();
      if (result.empty() && !kAllowedEmpty.count(p.panel))
        FAIL_CHECK("no data for a panel that should have some");
      if (expr.find("vector(") != std::string::npos) CHECK(missing_metrics(expr).empty());
      auto expected = kOverview.find(p.panel);
      if (expected != kOverview.end() && result.size() == 1)
        CHECK(std::stod(result[0]["value"][1].get<std::string>()) == expected->second);
      else if (expected != kOverview.end())
        FAIL_CHECK("an overview stat with " << result.size() << " series");
    }
    std::printf("dashboard (%s): %zu variables, %d panel queries run, %d with data\n",
                saved ? "as saved" : "one instance", queries.variables.size(), ran, with_data);
  }
}

TEST_CASE("dashboard: the query runner fills Grafana's variables as Grafana does") {
  std::vector<std::string> unknown;
  const std::map<std::string, std::string> values = {{"job", "portman"}, {"__rate_interval", "4s"}};
  CHECK(itest::substitute("rate(x{job=~\"$job\"}[$__rate_interval]) + ${job:regex} + [[job]]",
                          values, unknown) == "rate(x{job=~\"portman\"}[4s]) + portman + portman");
  CHECK(unknown.empty());
  CHECK(itest::substitute("x{instance=~\"$instance\"} $ 1", values, unknown) ==
        "x{instance=~\"$instance\"} $ 1");
  CHECK(unknown == std::vector<std::string>{"instance"});

  auto r = itest::variable_request("label_values(portman_build_info{job=~\"a,b\"}, instance)");
  CHECK(r.kind == itest::VariableRequest::kLabelValues);
  CHECK(r.match == "portman_build_info{job=~\"a,b\"}");
  CHECK(r.label == "instance");
  CHECK(itest::variable_request("label_values(job)").label == "job");
  CHECK(itest::variable_request("query_result(up == 1)").expr == "up == 1");
  CHECK(itest::variable_request("metrics(portman_.*)").kind == itest::VariableRequest::kMetrics);

  itest::TemplateVariable multi;
  multi.multi = multi.include_all = true;
  CHECK(itest::variable_value(multi, {"127.0.0.1:9100"}, false) == R"(127\\.0\\.0\\.1:9100)");
  CHECK(itest::variable_value(multi, {"a", "b"}, true) == "(a|b)");
  multi.all_value = ".*";
  CHECK(itest::variable_value(multi, {"a", "b"}, true) == ".*");
  CHECK(itest::variable_value(itest::TemplateVariable{}, {"a.b"}, false) == "a.b");

  CHECK(itest::metric_names("sum(portman_findings{kind=\"portman_x\"}) or on() up or "
                            "vector(0) + count by (process) (process_open_fds)") ==
        std::vector<std::string>{"portman_findings", "process_open_fds", "up"});
}
