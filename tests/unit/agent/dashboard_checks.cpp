#include "unit/agent/dashboard_checks.hpp"

#include <cctype>
#include <map>
#include <regex>

#include "agent/metric_catalog.hpp"

namespace portman::test::dashboard {
namespace {

constexpr int kColumns = 24;
constexpr std::string_view kDatasourceVariable = "datasource";

bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool ident_char(char c) {
  return ident_start(c) || std::isdigit(static_cast<unsigned char>(c));
}

// Index just past the string literal that starts at s[i] (", ' or `), escapes included.
std::size_t skip_string(std::string_view s, std::size_t i) {
  const char quote = s[i++];
  while (i < s.size() && s[i] != quote) i += (s[i] == '\\' && quote != '`') ? 2 : 1;
  return std::min(i + 1, s.size());
}

// Index just past the bracket that closes the one at s[i], strings skipped.
std::size_t skip_balanced(std::string_view s, std::size_t i) {
  const char open = s[i];
  const char close = open == '(' ? ')' : open == '{' ? '}' : ']';
  int depth = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"' || c == '\'' || c == '`') {
      i = skip_string(s, i);
      continue;
    }
    if (c == open) ++depth;
    if (c == close && --depth == 0) return i + 1;
    ++i;
  }
  return i;
}

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// Keywords followed by a list of label names, not metrics.
const std::set<std::string_view> kLabelListKeywords = {"by",       "without",    "on",
                                                       "ignoring", "group_left", "group_right"};
// Aggregation operators, which may take `by (...)` before their parenthesis.
const std::set<std::string_view> kAggregations = {
    "sum",   "min",          "max",     "avg",  "group",    "stddev", "stdvar",
    "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"};
const std::set<std::string_view> kKeywords = {"and",   "or",  "unless", "bool", "offset",
                                              "atan2", "inf", "nan",    "Inf",  "NaN"};

std::string panel_name(const json& panel) {
  std::string name = "panel " + (panel.contains("id") ? panel["id"].dump() : std::string("?"));
  if (panel.contains("title") && panel["title"].is_string())
    name += " \"" + panel["title"].get<std::string>() + "\"";
  return name;
}

const json& list_or_empty(const json& object, std::string_view key) {
  static const json kEmpty = json::array();
  if (!object.is_object()) return kEmpty;
  auto it = object.find(std::string(key));
  return it != object.end() && it->is_array() ? *it : kEmpty;
}

const json& variables(const json& dashboard) {
  if (!dashboard.contains("templating")) return list_or_empty(json::object(), "list");
  return list_or_empty(dashboard["templating"], "list");
}

// A variable's query text: a string, or the `query` field of the object newer Grafana saves.
std::string variable_query(const json& variable) {
  if (!variable.contains("query")) return {};
  const json& q = variable["query"];
  if (q.is_string()) return q.get<std::string>();
  if (q.is_object() && q.contains("query") && q["query"].is_string())
    return q["query"].get<std::string>();
  return {};
}

struct Query {
  std::string where;  // "panel 3 \"Ports\" target A"
  std::string promql;
};

std::vector<Query> panel_queries(const json& dashboard) {
  std::vector<Query> out;
  for (const json* panel : all_panels(dashboard)) {
    for (const json& target : list_or_empty(*panel, "targets")) {
      if (!target.contains("expr") || !target["expr"].is_string()) continue;
      std::string where = panel_name(*panel) + " target " + target.value("refId", std::string("?"));
      out.push_back({std::move(where), target["expr"].get<std::string>()});
    }
  }
  return out;
}

std::vector<Query> variable_queries(const json& dashboard) {
  std::vector<Query> out;
  for (const json& v : variables(dashboard)) {
    if (v.value("type", std::string()) != "query") continue;
    out.push_back({"variable " + v.value("name", std::string("?")), variable_query(v)});
  }
  return out;
}

bool is_datasource_reference(const json& ds) {
  const auto is_variable = [](const json& s) {
    return s.is_string() && (s == "${datasource}" || s == "$datasource");
  };
  if (is_variable(ds)) return true;
  return ds.is_object() && ds.contains("uid") && is_variable(ds["uid"]) &&
         (!ds.contains("type") || ds["type"] == "prometheus");
}

// The variables a text refers to: $name, ${name}, ${name:format}, [[name]], [[name:format]].
std::vector<std::string> referenced_variables(const std::string& text) {
  static const std::regex kRef(
      R"(\$\{([A-Za-z0-9_]+)(?:[:.][^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\])");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kRef); it != std::sregex_iterator();
       ++it) {
    for (int group = 1; group <= 3; ++group)
      if ((*it)[group].matched) out.push_back((*it)[group].str());
  }
  return out;
}

const std::set<std::string> kBuiltinVariables = {
    "__rate_interval", "__interval",   "__interval_ms", "__range",     "__range_s",
    "__range_ms",      "__from",       "__to",          "__dashboard", "__org",
    "__user",          "__timeFilter", "__name",        "timeFilter"};

struct Rect {
  long x, y, w, h;
};

bool overlap(const Rect& a, const Rect& b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

// Bounds of each panel, then overlaps between any two of `panels`.
void check_grid(const std::vector<const json*>& panels, const std::string& where, Problems& out) {
  std::vector<std::pair<const json*, Rect>> placed;
  for (const json* panel : panels) {
    const json* pos = panel->contains("gridPos") ? &(*panel)["gridPos"] : nullptr;
    const auto field = [&](const char* key) -> const json* {
      return pos && pos->contains(key) && (*pos)[key].is_number_integer() ? &(*pos)[key] : nullptr;
    };
    if (!field("x") || !field("y") || !field("w") || !field("h")) {
      out.push_back(panel_name(*panel) + where + ": gridPos needs whole numbers x, y, w and h");
      continue;
    }
    const Rect r{(*pos)["x"].get<long>(), (*pos)["y"].get<long>(), (*pos)["w"].get<long>(),
                 (*pos)["h"].get<long>()};
    if (r.x < 0 || r.y < 0 || r.w <= 0 || r.h <= 0 || r.x + r.w > kColumns) {
      out.push_back(panel_name(*panel) + where + ": gridPos " + pos->dump() +
                    " is outside the grid (x >= 0, y >= 0, w > 0, h > 0, x + w <= 24)");
      continue;
    }
    for (const auto& [other, o] : placed) {
      if (overlap(r, o))
        out.push_back(panel_name(*panel) + where + " overlaps " + panel_name(*other) + ": " +
                      pos->dump() + " and " + (*other)["gridPos"].dump());
    }
    placed.emplace_back(panel, r);
  }
}

}  // namespace

std::vector<Selector> metric_selectors(std::string_view s) {
  std::vector<Selector> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"' || c == '\'' || c == '`') {
      i = skip_string(s, i);
    } else if (c == '#') {  // a comment, to the end of the line
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '[') {  // a range or subquery: durations and variables
      i = skip_balanced(s, i);
    } else if (c == '{') {  // a selector without a metric name
      const std::size_t end = skip_balanced(s, i);
      out.push_back({"", std::string(s.substr(i + 1, end - i - 2))});
      i = end;
    } else if (c == '$') {  // a Grafana variable: $name or ${name}
      ++i;
      if (i < s.size() && s[i] == '{') {
        i = skip_balanced(s, i);
      } else {
        while (i < s.size() && ident_char(s[i])) ++i;
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      while (i < s.size() && (ident_char(s[i]) || s[i] == '.')) ++i;  // 0.5, 1e3, 5m
    } else if (ident_start(c)) {
      const std::size_t start = i;
      while (i < s.size() && ident_char(s[i])) ++i;
      const std::string_view word = s.substr(start, i - start);
      const std::size_t next = skip_space(s, i);
      const bool paren = next < s.size() && s[next] == '(';
      if (kLabelListKeywords.count(word)) {
        if (paren) i = skip_balanced(s, next);
      } else if (kKeywords.count(word) || kAggregations.count(word) || paren) {
        // an operator, or a function or aggregation whose arguments are read next
      } else if (next < s.size() && s[next] == '{') {
        const std::size_t end = skip_balanced(s, next);
        out.push_back({std::string(word), std::string(s.substr(next + 1, end - next - 2))});
        i = end;
      } else {
        out.push_back({std::string(word), ""});
      }
    } else {
      ++i;
    }
  }
  return out;
}

std::string variable_query_promql(std::string_view query) {
  static const std::regex kCall(
      R"(^\s*(label_values|label_names|query_result|metrics)\s*\(([\s\S]*)\)\s*$)");
  const std::string q(query);
  std::smatch m;
  if (!std::regex_match(q, m, kCall)) return q;
  const std::string function = m[1].str();
  std::string args = m[2].str();
  if (function == "metrics") return {};
  if (function == "label_values") {
    // label_values(SELECTOR, label) or label_values(label): the selector is before the last
    // comma outside braces and strings.
    std::size_t last_comma = std::string::npos;
    for (std::size_t i = 0; i < args.size();) {
      const char c = args[i];
      if (c == '"' || c == '\'' || c == '`') {
        i = skip_string(args, i);
      } else if (c == '{' || c == '(' || c == '[') {
        i = skip_balanced(args, i);
      } else {
        if (c == ',') last_comma = i;
        ++i;
      }
    }
    return last_comma == std::string::npos ? std::string() : args.substr(0, last_comma);
  }
  return args;  // label_names(SELECTOR), query_result(PROMQL)
}

std::vector<const json*> all_panels(const json& dashboard) {
  std::vector<const json*> out;
  for (const json& panel : list_or_empty(dashboard, "panels")) {
    out.push_back(&panel);
    for (const json& inner : list_or_empty(panel, "panels")) out.push_back(&inner);
  }
  return out;
}

Problems panel_id_problems(const json& dashboard) {
  Problems out;
  std::map<long, std::string> seen;
  for (const json* panel : all_panels(dashboard)) {
    if (!panel->contains("id") || !(*panel)["id"].is_number_integer() ||
        (*panel)["id"].get<long>() <= 0) {
      out.push_back(panel_name(*panel) + ": needs an \"id\" that is a whole number above 0");
      continue;
    }
    const long id = (*panel)["id"].get<long>();
    auto [it, inserted] = seen.emplace(id, panel_name(*panel));
    if (!inserted)
      out.push_back(panel_name(*panel) + ": id " + std::to_string(id) + " is also " + it->second +
                    "'s");
  }
  return out;
}

Problems grid_problems(const json& dashboard) {
  Problems out;
  std::vector<const json*> top;
  for (const json& panel : list_or_empty(dashboard, "panels")) {
    top.push_back(&panel);
    if (panel.value("type", std::string()) != "row") continue;
    const json& inner = list_or_empty(panel, "panels");
    if (!panel.value("collapsed", false)) {
      if (!inner.empty())
        out.push_back(panel_name(panel) +
                      ": an expanded row holds no panels (they follow it at the top level)");
      continue;
    }
    std::vector<const json*> nested;
    for (const json& p : inner) nested.push_back(&p);
    check_grid(nested, " (in collapsed " + panel_name(panel) + ")", out);
  }
  check_grid(top, "", out);
  return out;
}

Problems datasource_problems(const json& dashboard) {
  Problems out;
  bool variable_ok = false;
  for (const json& v : variables(dashboard)) {
    if (v.value("name", std::string()) != kDatasourceVariable) continue;
    if (v.value("type", std::string()) == "datasource" && v.value("query", json()) == "prometheus")
      variable_ok = true;
    else
      out.push_back(
          "variable datasource: must be {\"type\": \"datasource\", \"query\": \"prometheus\"}");
  }
  if (!variable_ok && out.empty())
    out.push_back("templating: no \"datasource\" variable (type datasource, query prometheus)");

  const std::string expected = R"(must be {"type": "prometheus", "uid": "${datasource}"})";
  for (const json* panel : all_panels(dashboard)) {
    const json& targets = list_or_empty(*panel, "targets");
    const bool is_row = panel->value("type", std::string()) == "row";
    if (panel->contains("datasource") && !(*panel)["datasource"].is_null()) {
      if (!is_datasource_reference((*panel)["datasource"]))
        out.push_back(panel_name(*panel) + ": datasource " + (*panel)["datasource"].dump() + " " +
                      expected);
    } else if (!is_row && !targets.empty()) {
      out.push_back(panel_name(*panel) + ": no datasource; " + expected);
    }
    for (const json& target : targets) {
      if (target.contains("datasource") && !is_datasource_reference(target["datasource"]))
        out.push_back(panel_name(*panel) + " target " + target.value("refId", std::string("?")) +
                      ": datasource " + target["datasource"].dump() + " " + expected);
    }
  }
  for (const json& v : variables(dashboard)) {
    if (v.value("type", std::string()) != "query") continue;
    if (!v.contains("datasource") || !is_datasource_reference(v["datasource"]))
      out.push_back("variable " + v.value("name", std::string("?")) + ": datasource " +
                    v.value("datasource", json()).dump() + " " + expected);
  }
  if (dashboard.contains("annotations")) {
    for (const json& a : list_or_empty(dashboard["annotations"], "list")) {
      const json ds = a.value("datasource", json());
      const bool builtin = ds.is_object() && ds.value("uid", std::string()) == "-- Grafana --";
      if (!builtin && !is_datasource_reference(ds))
        out.push_back("annotation " + a.value("name", std::string("?")) + ": datasource " +
                      ds.dump() + " " + expected);
    }
  }
  return out;
}

Problems variable_problems(const json& dashboard) {
  Problems out;
  std::set<std::string> defined;
  for (const json& v : variables(dashboard)) defined.insert(v.value("name", std::string()));

  const auto check = [&](const std::string& where, const std::string& text,
                         const std::set<std::string>& allowed) {
    for (const std::string& name : referenced_variables(text)) {
      if (allowed.count(name) || kBuiltinVariables.count(name)) continue;
      out.push_back(where + ": $" + name + " is not a templating variable (" +
                    (defined.count(name) ? "it is defined after this one" : "define it") + ")");
    }
  };
  for (const Query& q : panel_queries(dashboard)) check(q.where, q.promql, defined);
  for (const json* panel : all_panels(dashboard)) {
    if (panel->contains("repeat") && (*panel)["repeat"].is_string() &&
        !defined.count((*panel)["repeat"].get<std::string>()))
      out.push_back(panel_name(*panel) + ": repeat names $" +
                    (*panel)["repeat"].get<std::string>() + ", which is not a templating variable");
    if (panel->contains("datasource") && (*panel)["datasource"].is_object())
      check(panel_name(*panel) + " datasource", (*panel)["datasource"].value("uid", std::string()),
            defined);
  }
  std::set<std::string> before;
  for (const json& v : variables(dashboard)) {
    const std::string name = v.value("name", std::string("?"));
    check("variable " + name, variable_query(v), before);
    if (v.contains("datasource") && v["datasource"].is_object())
      check("variable " + name + " datasource", v["datasource"].value("uid", std::string()),
            before);
    before.insert(name);
  }
  return out;
}

Problems metric_problems(const json& dashboard, const std::set<std::string>& known) {
  static const std::regex kPortmanName("portman_[a-z0-9_]+");
  Problems out;
  std::vector<Query> queries = panel_queries(dashboard);
  for (Query& q : variable_queries(dashboard)) {
    q.promql = variable_query_promql(q.promql);
    queries.push_back(std::move(q));
  }
  for (const Query& q : queries) {
    std::set<std::string> names;
    for (const Selector& s : metric_selectors(q.promql))
      if (!s.metric.empty()) names.insert(s.metric);
    // Also inside strings ({__name__="portman_..."}): every portman_ name is one of ours.
    for (auto it = std::sregex_iterator(q.promql.begin(), q.promql.end(), kPortmanName);
         it != std::sregex_iterator(); ++it)
      names.insert(it->str());
    for (const std::string& name : names)
      if (!known.count(name))
        out.push_back(q.where + ": " + name +
                      " is not a metric the agent exposes (metric_catalog())");
  }
  return out;
}

Problems selector_problems(const json& dashboard) {
  static const std::regex kJob(R"((^|,)\s*job\s*=~\s*"\$job"\s*(,|$))");
  static const std::regex kInstance(R"((^|,)\s*instance\s*=~\s*"\$instance"\s*(,|$))");
  Problems out;
  for (const Query& q : panel_queries(dashboard)) {
    for (const Selector& s : metric_selectors(q.promql)) {
      if (std::regex_search(s.matchers, kJob) && std::regex_search(s.matchers, kInstance)) continue;
      out.push_back(q.where + ": " + (s.metric.empty() ? "a selector" : s.metric) + "{" +
                    s.matchers + "} must filter on job=~\"$job\" and instance=~\"$instance\"");
    }
  }
  return out;
}

std::set<std::string> known_metrics() {
  std::set<std::string> out = {"up"};
  for (const MetricSpec* spec : agent::metric_catalog()) out.insert(std::string(spec->name));
  return out;
}

}  // namespace portman::test::dashboard
