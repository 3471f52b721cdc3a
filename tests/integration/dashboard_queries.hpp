// The PromQL of a Grafana dashboard (dashboards/portman.json): every panel target, in rows too,
// and every template variable, with Grafana's variables filled in the way Grafana fills them, so
// that a test can run each one through a real Prometheus.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace itest {

struct PanelQuery {
  std::string panel;  // the panel's title
  std::string where;  // "panel 7 \"Ports\" target A", for messages
  std::string expr;
};

// A template variable. For a query variable `query` is its PromQL or Grafana function
// (label_values(...), query_result(...), metrics(...)); for a custom one the comma list.
struct TemplateVariable {
  std::string name, type, query, regex, all_value;
  bool multi = false, include_all = false;
  std::vector<std::string> current;  // current.value, as saved in the dashboard
};

struct DashboardQueries {
  std::vector<TemplateVariable> variables;  // in the dashboard's order
  std::vector<PanelQuery> panels;
};

// Every panel target with an `expr` (hidden ones too: Grafana still runs them for transforms),
// walking `panels`, rows' nested `panels` and the old `rows`; and every templating variable.
DashboardQueries dashboard_queries(const nlohmann::json& dashboard);

// What a variable query asks Prometheus: label_values(label), label_values(metric, label),
// metrics(regex), query_result(expr) or a plain expression.
struct VariableRequest {
  enum Kind { kLabelValues, kMetrics, kQueryResult } kind = kQueryResult;
  std::string match;  // the series selector of label_values, the regex of metrics
  std::string label;
  std::string expr;  // of query_result or a plain expression
};
VariableRequest variable_request(const std::string& query);

// `text` with $name, ${name}, ${name:format} and [[name]] replaced from `values`; names not in
// `values` are added to `unknown`.
std::string substitute(const std::string& text, const std::map<std::string, std::string>& values,
                       std::vector<std::string>& unknown);

// The value Grafana gives a variable whose selected values are `selected`: a multi-value or
// include-all variable becomes a regex alternation of the escaped values (or its allValue when
// all are selected); a single value stays as it is.
std::string variable_value(const TemplateVariable& v, const std::vector<std::string>& selected,
                           bool all);

// The metric names of the agent (portman_*, process_*) and `up` that `expr` names.
std::vector<std::string> metric_names(const std::string& expr);

}  // namespace itest
