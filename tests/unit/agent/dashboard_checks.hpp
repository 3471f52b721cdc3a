// Structural checks of a Grafana dashboard (dashboards/portman.json), without a Grafana server:
// each returns one line per problem (empty when the dashboard passes), naming the panel or
// variable and what would be valid. test_dashboard.cpp runs them on the shipped dashboard and on
// small broken ones, so that each check is shown to fail when it should.
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace portman::test::dashboard {

using nlohmann::json;
using Problems = std::vector<std::string>;

// A metric selector found in a PromQL expression: the metric's name ("" for a bare `{...}`) and
// the text between its braces ("" without braces).
struct Selector {
  std::string metric;
  std::string matchers;
};

// The metric selectors of a PromQL expression: identifiers that are neither functions,
// aggregations, keywords nor label lists (`by (...)`, `on (...)`, `group_left (...)`), outside
// strings, label matchers, ranges and Grafana variables.
std::vector<Selector> metric_selectors(std::string_view promql);

// The PromQL inside a Grafana Prometheus variable query: `X` of label_values(X, label),
// query_result(X) or label_names(X); "" for one that holds none (metrics(regex),
// label_values(label)); the query itself otherwise.
std::string variable_query_promql(std::string_view query);

// Every panel, rows and the panels inside rows included.
std::vector<const json*> all_panels(const json& dashboard);

// Panel ids: present, positive and unique across rows and the panels inside them.
Problems panel_id_problems(const json& dashboard);

// Grid positions: x >= 0, y >= 0, w > 0, h > 0, x + w <= 24, and no two panels overlapping.
// Top-level panels (rows included) share one grid; the panels of a collapsed row are laid out by
// their own gridPos among themselves (Grafana moves them back when the row opens); an expanded
// row holds no panels (its panels follow it at the top level).
Problems grid_problems(const json& dashboard);

// Every panel with queries, every target that names one, every query variable and every
// annotation (except Grafana's built-in one) uses the `datasource` variable, and that variable
// exists as a Prometheus data source variable.
Problems datasource_problems(const json& dashboard);

// Every $var, ${var}, ${var:format} and [[var]] in a query, a variable query, a panel's repeat or
// a data source uid is a templating variable or one of Grafana's built-ins ($__rate_interval...);
// a variable's query uses only variables defined before it.
Problems variable_problems(const json& dashboard);

// Every metric a query or variable query names is in `known`.
Problems metric_problems(const json& dashboard, const std::set<std::string>& known);

// Every selector of every panel query filters on job=~"$job" and instance=~"$instance".
Problems selector_problems(const json& dashboard);

// What the agent exposes (metric_catalog()) plus Prometheus' own `up`.
std::set<std::string> known_metrics();

}  // namespace portman::test::dashboard
