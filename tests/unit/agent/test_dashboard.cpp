// dashboards/portman.json, checked without a Grafana server: the structure Grafana needs to import
// it on any instance (ids, grid, the datasource variable, variables, metric names), each check run
// on the shipped dashboard and on a small broken one, so that it is shown to fail. Its shape
// against Grafana's types is dashboards/typecheck.sh; its queries run through a real Prometheus in
// the end-to-end test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "unit/agent/dashboard_checks.hpp"

using namespace portman::test::dashboard;

namespace {

const json& shipped() {
  static const json kDashboard = [] {
    std::ifstream in(PORTMAN_DASHBOARD_FILE);
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
  }();
  return kDashboard;
}

std::string joined(const Problems& problems) {
  std::string out;
  for (const std::string& p : problems) out += p + "\n";
  return out;
}

bool mentions(const Problems& problems, std::string_view text) {
  return std::any_of(problems.begin(), problems.end(),
                     [&](const std::string& p) { return p.find(text) != std::string::npos; });
}

const json kDatasource = {{"type", "prometheus"}, {"uid", "${datasource}"}};

json stat(int id, int x, int y, int w, int h, std::string expr) {
  return {
      {"id", id},
      {"type", "stat"},
      {"title", "stat " + std::to_string(id)},
      {"datasource", kDatasource},
      {"gridPos", {{"x", x}, {"y", y}, {"w", w}, {"h", h}}},
      {"targets", json::array({{{"refId", "A"}, {"datasource", kDatasource}, {"expr", expr}}})}};
}

json row(int id, int y, bool collapsed, json panels = json::array()) {
  return {{"id", id},
          {"type", "row"},
          {"title", "row " + std::to_string(id)},
          {"collapsed", collapsed},
          {"gridPos", {{"x", 0}, {"y", y}, {"w", 24}, {"h", 1}}},
          {"panels", panels}};
}

// A small dashboard that passes every check; each test below breaks one thing in a copy.
json good() {
  const std::string q = R"(portman_port_up{job=~"$job", instance=~"$instance"})";
  json d = {{"uid", "t"},
            {"schemaVersion", 39},
            {"templating",
             {{"list",
               json::array(
                   {{{"name", "datasource"}, {"type", "datasource"}, {"query", "prometheus"}},
                    {{"name", "job"},
                     {"type", "query"},
                     {"datasource", kDatasource},
                     {"query", "label_values(portman_build_info, job)"}},
                    {{"name", "instance"},
                     {"type", "query"},
                     {"datasource", kDatasource},
                     {"query", R"(label_values(portman_build_info{job=~"$job"}, instance))"}}})}}},
            {"panels",
             json::array(
                 {row(1, 0, false), stat(2, 0, 1, 12, 4, q),
                  stat(3, 12, 1, 12, 4, "rate(" + q + "[$__rate_interval])"),
                  row(4, 5, true, json::array({stat(5, 0, 6, 12, 4, q), stat(6, 12, 6, 12, 4, q)})),
                  row(7, 6, false), stat(8, 0, 7, 24, 4, q)})}};
  return d;
}

json& panel(json& d, int id) {
  for (json& p : d["panels"]) {
    if (p["id"] == id) return p;
    for (json& inner : p["panels"])
      if (inner["id"] == id) return inner;
  }
  FAIL("no panel " << id);
  throw;
}

}  // namespace

// --- The shipped dashboard ---

TEST_CASE("Dashboard panel ids are unique across rows and their panels") {
  CHECK(all_panels(shipped()).size() > 10);
  CHECK(joined(panel_id_problems(shipped())) == "");
}

TEST_CASE("Dashboard panels lie inside the 24 columns without overlapping") {
  CHECK(joined(grid_problems(shipped())) == "");
}

TEST_CASE("Dashboard panels and targets all use the datasource variable") {
  CHECK(joined(datasource_problems(shipped())) == "");
}

TEST_CASE("Dashboard queries use only defined variables") {
  CHECK(joined(variable_problems(shipped())) == "");
}

TEST_CASE("Dashboard queries name only metrics the agent exposes") {
  CHECK(joined(metric_problems(shipped(), known_metrics())) == "");
}

TEST_CASE("Dashboard selectors all filter on the job and instance variables") {
  CHECK(joined(selector_problems(shipped())) == "");
}

TEST_CASE("Dashboard has a stable uid and title and no instance-specific id") {
  const json& d = shipped();
  CHECK(d.value("uid", std::string()) == "portman");
  CHECK(d.value("title", std::string()) == "portman");
  CHECK((!d.contains("id") || d["id"].is_null()));
  CHECK(d.value("schemaVersion", 0) >= 39);
  CHECK(!d.contains("__inputs"));  // imports without a data source prompt: the variable picks it
}

TEST_CASE("Dashboard job and instance variables are label_values of a portman metric") {
  std::map<std::string, std::string> queries;
  for (const json& v : shipped()["templating"]["list"]) {
    if (v["type"] != "query") continue;
    const json& q = v["query"];
    queries[v["name"]] = q.is_string() ? q.get<std::string>() : q["query"].get<std::string>();
  }
  REQUIRE(queries.count("job"));
  REQUIRE(queries.count("instance"));
  CHECK(queries["job"].rfind("label_values(portman_", 0) == 0);
  CHECK(queries["instance"].rfind("label_values(portman_", 0) == 0);
  CHECK(queries["instance"].find(R"(job=~"$job")") != std::string::npos);
}

TEST_CASE("Dashboard rate queries use the rate interval variable") {
  int rates = 0;
  for (const json* p : all_panels(shipped())) {
    for (const json& t : p->value("targets", json::array())) {
      const std::string expr = t.value("expr", std::string());
      for (std::string fn : {"rate(", "irate(", "increase("}) {
        if (expr.find(fn) == std::string::npos) continue;
        ++rates;
        CHECK(expr.find("[$__rate_interval]") != std::string::npos);
      }
    }
  }
  CHECK(rates > 0);
}

// --- Each check fails on a dashboard that is wrong in its way ---

TEST_CASE("Dashboard checks pass a small good dashboard") {
  const json d = good();
  CHECK(joined(panel_id_problems(d)) == "");
  CHECK(joined(grid_problems(d)) == "");
  CHECK(joined(datasource_problems(d)) == "");
  CHECK(joined(variable_problems(d)) == "");
  CHECK(joined(metric_problems(d, known_metrics())) == "");
  CHECK(joined(selector_problems(d)) == "");
}

TEST_CASE("Dashboard checks catch a duplicate panel id inside a row") {
  json d = good();
  panel(d, 6)["id"] = 3;
  CHECK(mentions(panel_id_problems(d), "id 3 is also panel 3"));
  d = good();
  panel(d, 2).erase("id");
  CHECK(mentions(panel_id_problems(d), "needs an \"id\""));
}

TEST_CASE("Dashboard checks catch overlapping panels") {
  json d = good();
  panel(d, 3)["gridPos"]["x"] = 11;  // one column over panel 2
  CHECK(mentions(grid_problems(d), "panel 3 \"stat 3\" overlaps panel 2"));
  d = good();
  panel(d, 6)["gridPos"]["x"] = 6;  // inside the collapsed row
  CHECK(mentions(grid_problems(d), "(in collapsed panel 4 \"row 4\") overlaps panel 5"));
  d = good();
  panel(d, 8)["gridPos"]["y"] = 5;  // over the collapsed row's header
  CHECK(mentions(grid_problems(d), "panel 8 \"stat 8\" overlaps panel 4"));
  d = good();
  panel(d, 8)["gridPos"]["y"] = 7;  // where the collapsed row's hidden panels would be: fine
  CHECK(joined(grid_problems(d)) == "");
}

TEST_CASE("Dashboard checks catch a panel outside the 24 columns") {
  json d = good();
  panel(d, 3)["gridPos"]["w"] = 13;
  CHECK(mentions(grid_problems(d), "outside the grid"));
  d = good();
  panel(d, 5)["gridPos"]["x"] = -1;
  CHECK(mentions(grid_problems(d), "outside the grid"));
  d = good();
  panel(d, 2)["gridPos"]["w"] = 0;
  CHECK(mentions(grid_problems(d), "outside the grid"));
  d = good();
  panel(d, 2).erase("gridPos");
  CHECK(mentions(grid_problems(d), "gridPos needs whole numbers"));
  d = good();
  panel(d, 1)["panels"].push_back(stat(9, 0, 30, 6, 4, "up"));
  CHECK(mentions(grid_problems(d), "an expanded row holds no panels"));
}

TEST_CASE("Dashboard checks catch a hard-coded datasource uid") {
  json d = good();
  panel(d, 2)["datasource"] = {{"type", "prometheus"}, {"uid", "P1809F7CD0C75ACF3"}};
  CHECK(mentions(datasource_problems(d), "panel 2 \"stat 2\": datasource"));
  d = good();
  panel(d, 5)["targets"][0]["datasource"] = {{"type", "prometheus"}, {"uid", "abc"}};
  CHECK(mentions(datasource_problems(d), "panel 5 \"stat 5\" target A: datasource"));
  d = good();
  panel(d, 2).erase("datasource");
  CHECK(mentions(datasource_problems(d), "no datasource"));
  d = good();
  d["templating"]["list"][1]["datasource"] = "Prometheus";
  CHECK(mentions(datasource_problems(d), "variable job: datasource"));
  d = good();
  d["templating"]["list"].erase(0);
  CHECK(mentions(datasource_problems(d), "no \"datasource\" variable"));
  d = good();
  d["annotations"] = {
      {"list", json::array({{{"name", "deploys"}, {"datasource", {{"uid", "x"}}}}})}};
  CHECK(mentions(datasource_problems(d), "annotation deploys"));
  d["annotations"]["list"][0]["datasource"] = {{"type", "grafana"}, {"uid", "-- Grafana --"}};
  CHECK(joined(datasource_problems(d)) == "");
}

TEST_CASE("Dashboard checks catch a variable that is not defined") {
  json d = good();
  panel(d, 5)["targets"][0]["expr"] = R"(portman_port_up{job=~"$job", instance=~"${host}"})";
  CHECK(mentions(variable_problems(d), "panel 5 \"stat 5\" target A: $host"));
  d = good();
  panel(d, 2)["targets"][0]["expr"] = R"(rate(up{job=~"[[jobs]]"}[$__rate_interval]))";
  CHECK(mentions(variable_problems(d), "$jobs"));
  d = good();
  std::swap(d["templating"]["list"][1], d["templating"]["list"][2]);  // instance before job
  CHECK(mentions(variable_problems(d),
                 "variable instance: $job is not a templating variable (it "
                 "is defined after this one)"));
  d = good();
  panel(d, 2)["repeat"] = "node";
  CHECK(mentions(variable_problems(d), "repeat names $node"));
}

TEST_CASE("Dashboard checks catch a metric the agent does not expose") {
  json d = good();
  panel(d, 6)["targets"][0]["expr"] =
      R"(sum by (port) (portman_conflicts{job=~"$job", instance=~"$instance"}))";
  CHECK(mentions(metric_problems(d, known_metrics()), "portman_conflicts is not a metric"));
  d = good();
  panel(d, 2)["targets"][0]["expr"] =
      R"(node_load1{job=~"$job", instance=~"$instance"} and on (instance) up)";
  const Problems p = metric_problems(d, known_metrics());
  CHECK(mentions(p, "node_load1 is not a metric"));
  CHECK(!mentions(p, "instance is not"));  // a label list, not a metric
  d = good();
  d["templating"]["list"][1]["query"] = "label_values(portman_agent_info, job)";
  CHECK(mentions(metric_problems(d, known_metrics()), "variable job: portman_agent_info"));
  d = good();
  panel(d, 2)["targets"][0]["expr"] = R"(count({__name__="portman_old_metric"}))";
  CHECK(mentions(metric_problems(d, known_metrics()), "portman_old_metric"));
}

TEST_CASE("Dashboard checks catch a selector without the job and instance filters") {
  json d = good();
  panel(d, 3)["targets"][0]["expr"] =
      R"(portman_port_up{job=~"$job", instance=~"$instance"} * on (port) portman_registered_port_info)";
  CHECK(mentions(selector_problems(d), "portman_registered_port_info{} must filter"));
  d = good();
  panel(d, 3)["targets"][0]["expr"] = R"(portman_port_up{job=~"$job"})";
  CHECK(mentions(selector_problems(d), "must filter"));
}

TEST_CASE("Dashboard checks tell PromQL metric selectors from functions and labels") {
  const auto names = [](std::string_view promql) {
    std::vector<std::string> out;
    for (const Selector& s : metric_selectors(promql)) out.push_back(s.metric);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(names(R"(sum by (job, instance) (rate(a_total{x="y"}[$__rate_interval])) or vector(0))") ==
        V{"a_total"});
  CHECK(names(R"(a == 0 and on (port) b{s="active"} unless ignoring (x) c offset 5m)") ==
        V{"a", "b", "c"});
  CHECK(names(R"(a * on (p) group_left (service_name) topk by (p) (1, b))") == V{"a", "b"});
  CHECK(names(R"(sum(a) without (state) / 1e3 > bool 0.5)") == V{"a"});
  CHECK(names(R"(max(time() - x{l=~"$v|{b}"}) # a comment naming nothing
)") == V{"x"});
  CHECK(names(R"({__name__="m"})") == V{""});
  CHECK(metric_selectors(R"(m{job=~"$job", a="}"})")[0].matchers == R"(job=~"$job", a="}")");
  CHECK(variable_query_promql(R"(label_values(m{job=~"$job", a=","}, instance))") ==
        R"(m{job=~"$job", a=","})");
  CHECK(variable_query_promql("label_values(job)") == "");
  CHECK(variable_query_promql("query_result(up == 1)") == "up == 1");
  CHECK(variable_query_promql("metrics(portman_.*)") == "");
}
