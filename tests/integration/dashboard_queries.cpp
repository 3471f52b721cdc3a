#include "dashboard_queries.hpp"

#include <cctype>
#include <set>

namespace itest {
namespace {

using nlohmann::json;

std::string text_of(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

void walk_panels(const json& panels, std::vector<PanelQuery>& out) {
  if (!panels.is_array()) return;
  for (const auto& p : panels) {
    std::string title = text_of(p, "title");
    if (p.contains("targets") && p["targets"].is_array())
      for (const auto& t : p["targets"]) {
        std::string expr = text_of(t, "expr");
        if (expr.empty()) continue;
        std::string id = p.contains("id") ? p["id"].dump() : "?";
        out.push_back(
            {title, "panel " + id + " \"" + title + "\" target " + text_of(t, "refId"), expr});
      }
    if (p.contains("panels")) walk_panels(p["panels"], out);  // a collapsed row's panels
  }
}

std::vector<std::string> strings(const json& j) {
  std::vector<std::string> out;
  if (j.is_string()) out.push_back(j.get<std::string>());
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// The text between the parentheses of `name(...)` at the start of `q`, or nothing.
bool call_of(const std::string& q, const std::string& name, std::string& inside) {
  if (q.rfind(name + "(", 0) != 0 || q.back() != ')') return false;
  inside = q.substr(name.size() + 1, q.size() - name.size() - 2);
  return true;
}

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

}  // namespace

DashboardQueries dashboard_queries(const json& dashboard) {
  DashboardQueries out;
  walk_panels(dashboard.value("panels", json::array()), out.panels);
  if (dashboard.contains("rows"))
    for (const auto& row : dashboard["rows"])
      walk_panels(row.value("panels", json::array()), out.panels);
  if (dashboard.contains("templating") && dashboard["templating"].contains("list"))
    for (const auto& v : dashboard["templating"]["list"]) {
      TemplateVariable t;
      t.name = text_of(v, "name");
      t.type = text_of(v, "type");
      if (v.contains("query")) {
        const json& q = v["query"];
        t.query = q.is_object() ? text_of(q, "query") : q.is_string() ? q.get<std::string>() : "";
      }
      if (t.query.empty()) t.query = text_of(v, "definition");
      t.regex = text_of(v, "regex");
      t.all_value = v.contains("allValue") && v["allValue"].is_string()
                        ? v["allValue"].get<std::string>()
                        : "";
      t.multi = v.value("multi", false);
      t.include_all = v.value("includeAll", false);
      if (v.contains("current") && v["current"].is_object() && v["current"].contains("value"))
        t.current = strings(v["current"]["value"]);
      out.variables.push_back(t);
    }
  return out;
}

VariableRequest variable_request(const std::string& query) {
  std::string q = trim(query), inside;
  VariableRequest r;
  if (call_of(q, "label_values", inside)) {
    r.kind = VariableRequest::kLabelValues;
    // The label is after the last comma outside braces and quotes; the selector before it.
    int depth = 0;
    bool quoted = false;
    std::size_t comma = std::string::npos;
    for (std::size_t i = 0; i < inside.size(); ++i) {
      char c = inside[i];
      if (c == '"' && (i == 0 || inside[i - 1] != '\\')) quoted = !quoted;
      if (quoted) continue;
      if (c == '{' || c == '(') ++depth;
      if (c == '}' || c == ')') --depth;
      if (c == ',' && depth == 0) comma = i;
    }
    if (comma == std::string::npos) {
      r.label = trim(inside);
    } else {
      r.match = trim(inside.substr(0, comma));
      r.label = trim(inside.substr(comma + 1));
    }
  } else if (call_of(q, "metrics", inside)) {
    r.kind = VariableRequest::kMetrics;
    r.match = trim(inside);
  } else if (call_of(q, "query_result", inside)) {
    r.expr = trim(inside);
  } else {
    r.expr = q;
  }
  return r;
}

std::string substitute(const std::string& text, const std::map<std::string, std::string>& values,
                       std::vector<std::string>& unknown) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::string name;
    std::size_t end = i;
    if (text.compare(i, 2, "${") == 0) {
      end = text.find('}', i);
      if (end == std::string::npos) break;
      name = text.substr(i + 2, end - i - 2);
      name = name.substr(0, name.find(':'));  // ${name:format}
      ++end;
    } else if (text.compare(i, 2, "[[") == 0 && text.find("]]", i) != std::string::npos) {
      end = text.find("]]", i);
      name = text.substr(i + 2, end - i - 2);
      name = name.substr(0, name.find(':'));
      end += 2;
    } else if (text[i] == '$') {
      end = i + 1;
      while (end < text.size() && name_char(text[end])) ++end;
      name = text.substr(i + 1, end - i - 1);
    }
    if (name.empty()) {
      out += text[i++];
      continue;
    }
    auto it = values.find(name);
    if (it == values.end()) {
      unknown.push_back(name);
      out += text.substr(i, end - i);
    } else {
      out += it->second;
    }
    i = end;
  }
  return out;
}

std::string variable_value(const TemplateVariable& v, const std::vector<std::string>& selected,
                           bool all) {
  if (!v.multi && !v.include_all) return selected.empty() ? std::string() : selected.front();
  if (all && !v.all_value.empty()) return v.all_value;
  // Regex-escaped, as Grafana's Prometheus data source does for these variables, and written
  // into a PromQL string, so the escaping backslash is doubled: 127\\.0\\.0\\.1.
  std::string out;
  for (const auto& s : selected) {
    if (!out.empty()) out += '|';
    for (char c : s) {
      if (c == '\\')
        out += R"(\\\\)";  // a backslash of the value: escaped for the regex, then for PromQL
      else if (std::string_view("$^*{}[]'+?.()|").find(c) != std::string_view::npos)
        out += R"(\\)" + std::string(1, c);
      else
        out += c;
    }
  }
  return selected.size() == 1 ? out : "(" + out + ")";
}

std::vector<std::string> metric_names(const std::string& expr) {
  std::set<std::string> names;
  bool quoted = false;
  for (std::size_t i = 0; i < expr.size();) {
    char c = expr[i];
    if (c == '"' && (i == 0 || expr[i - 1] != '\\')) quoted = !quoted;
    if (quoted || !name_char(c) || (i > 0 && name_char(expr[i - 1]))) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < expr.size() && (name_char(expr[end]) || expr[end] == ':')) ++end;
    std::string word = expr.substr(i, end - i);
    bool label = end < expr.size() && (expr[end] == '=' || expr[end] == '!');
    if (!label && word.back() != '_' &&
        (word.rfind("portman_", 0) == 0 || word.rfind("process_", 0) == 0 || word == "up"))
      names.insert(word);
    i = end;
  }
  return {names.begin(), names.end()};
}

}  // namespace itest
