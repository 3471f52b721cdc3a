// The alert rules end to end with the real programs: the agent watching real listeners,
// Prometheus scraping it and evaluating rules/portman.rules.yml every second, Alertmanager
// routing to a webhook receiver run by this test. Each alert must reach the webhook with the
// port, protocol, service and process of what happened, and resolve when it is fixed.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "harness.hpp"
#include "monitoring_stack.hpp"
#include "unit/skip.hpp"
#include "webhook_receiver.hpp"

using itest::Agent;
using itest::Listener;
using itest::TempDir;
using itest::WebhookReceiver;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string str(int port) {
  return std::to_string(port);
}

bool contains(const json& j, const std::string& key, const std::string& needle) {
  return j.contains(key) && j[key].is_string() &&
         j[key].get<std::string>().find(needle) != std::string::npos;
}

// The real rules with every `for:` at 0s: an alert fires at the first evaluation that sees its
// condition, so the test measures the path from the agent to the webhook, not the waiting.
// Returns the number of rules.
std::size_t write_fast_rules(const TempDir& dir) {
  std::string real = itest::read_file(PORTMAN_RULES_FILE);
  REQUIRE(!real.empty());
  int rewritten = 0;
  itest::write_file(dir / "rules.yml", itest::rules_with_for(real, "0s", rewritten));
  // Every alert has its `for:`; a rule without one would not be shortened but still work.
  std::size_t alerts = 0;
  for (auto at = real.find("- alert:"); at != std::string::npos; at = real.find("- alert:", at + 1))
    ++alerts;
  REQUIRE(rewritten == static_cast<int>(alerts));
  auto check = itest::run({"promtool", "check", "rules", (dir / "rules.yml").string()});
  INFO(check.out << check.err);
  REQUIRE(check.code == 0);
  return alerts;
}

std::string alertmanager_config(const WebhookReceiver& webhook) {
  return "route:\n"
         "  receiver: test\n"
         "  group_by: [alertname, instance, port]\n"
         "  group_wait: 0s\n"
         "  group_interval: 1s\n"
         "  repeat_interval: 4h\n"
         "receivers:\n"
         "  - name: test\n"
         "    webhook_configs:\n"
         "      - url: " +
         webhook.url() +
         "\n"
         "        send_resolved: true\n";
}

std::string prometheus_config(int agent_port, int alertmanager_port) {
  return "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
         "rule_files: [rules.yml]\n"
         "alerting:\n"
         "  alertmanagers:\n"
         "    - static_configs: [{ targets: ['127.0.0.1:" +
         str(alertmanager_port) +
         "'] }]\n"
         "scrape_configs:\n"
         "  - job_name: portman\n"
         "    static_configs: [{ targets: ['127.0.0.1:" +
         str(agent_port) + "'] }]\n";
}

// An alert of the webhook with this name, status and every label of `labels`.
auto alert_is(const std::string& name, const std::string& status,
              const std::map<std::string, std::string>& labels) {
  return [=](const json& a) {
    if (a.value("status", "") != status || a["labels"].value("alertname", "") != name) return false;
    for (const auto& [k, v] : labels)
      if (a["labels"].value(k, "\x01") != v) return false;
    return true;
  };
}

double seconds_since(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

TEST_CASE(
    "alerting: an unregistered port and a stopped service reach Alertmanager's webhook and "
    "resolve") {
  if (!itest::installed("prometheus")) portman::test::skip_test("prometheus is not installed");
  if (!itest::installed("prometheus-alertmanager"))
    portman::test::skip_test("prometheus-alertmanager is not installed");
  if (!itest::installed("promtool")) portman::test::skip_test("promtool is not installed");

  TempDir dir;
  const std::size_t rules = write_fast_rules(dir);
  WebhookReceiver webhook;
  const int prometheus_port = itest::free_port();
  const int alertmanager_port = itest::free_port();
  const int shop_port = itest::free_port();   // production
  const int blog_port = itest::free_port();   // staging
  const int rogue_port = itest::free_port();  // opened later, unregistered
  REQUIRE(std::set<int>{prometheus_port, alertmanager_port, shop_port, blog_port, rogue_port,
                        webhook.port()}
              .size() == 6);

  // The monitoring stack's own ports are registered, so that the only findings are the test's.
  const std::string registry = (dir / "reg.json").string();
  json entries = {
      {str(shop_port),
       {{"service", "shop"},
        {"status", "active"},
        {"environment", "production"},
        {"owner", "team-shop"}}},
      {str(blog_port), {{"service", "blog"}, {"status", "active"}, {"environment", "staging"}}},
      {str(prometheus_port), {{"service", "prometheus"}, {"status", "active"}}},
      {str(alertmanager_port), {{"service", "alertmanager"}, {"status", "active"}}},
      {str(webhook.port()), {{"service", "webhook"}, {"status", "active"}}},
  };
  itest::write_file(registry, json{{"allocations", entries}}.dump(2) + "\n");
  auto shop =
      std::make_unique<Listener>(std::vector<std::string>{"tcp:127.0.0.1:" + str(shop_port)});
  auto blog = std::make_unique<Listener>(std::vector<std::string>{"tcp:0.0.0.0:" + str(blog_port)});
  Agent agent({"--scan.min-interval", "0s", "--no-collector.docker", "--registry", registry});

  auto start = Clock::now();
  itest::Alertmanager alertmanager(dir.path(), alertmanager_config(webhook), alertmanager_port);
  itest::Prometheus prometheus(dir.path(), prometheus_config(agent.port(), alertmanager_port),
                               prometheus_port);
  std::printf("alerting: Prometheus and Alertmanager ready after %.2f s\n",
              seconds_since(start, Clock::now()));
  const std::string instance = "127.0.0.1:" + str(agent.port());

  // Healthy first: scraped, rules evaluated, no finding at all.
  auto value = [&](const std::string& q) -> std::optional<double> {
    json j = prometheus.query(q);
    if (!j.is_object() || j["status"] != "success" || j["data"]["result"].empty())
      return std::nullopt;
    return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
  };
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline && value("sum(portman_findings)") != 0.0)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  INFO("agent log:\n" << agent.log());
  REQUIRE(value("up{job=\"portman\"}") == 1.0);
  REQUIRE(value("sum(portman_findings)") == 0.0);
  REQUIRE(value("portman_port_up{port=\"" + str(shop_port) + "\"}") == 1.0);
  // The rules are loaded and evaluated: Prometheus lists the group with every rule.
  json groups = prometheus.get("/api/v1/rules", {});
  REQUIRE(groups["status"] == "success");
  REQUIRE(groups["data"]["groups"].size() == 1);
  CHECK(groups["data"]["groups"][0]["rules"].size() == rules);

  // The incident: something unregistered starts listening, and both services stop.
  auto rogue_exe = itest::listener_named(dir, "rogue-cache");
  auto rogue = std::make_unique<Listener>(
      std::vector<std::string>{"tcp:0.0.0.0:" + str(rogue_port)}, rogue_exe.string());
  shop.reset();
  blog.reset();
  const auto incident = Clock::now();
  deadline = incident + std::chrono::seconds(20);

  auto unregistered = webhook.wait_for(alert_is("PortmanUnregisteredPort", "firing",
                                                {{"port", str(rogue_port)},
                                                 {"protocol", "tcp"},
                                                 {"process", "rogue-cache"},
                                                 {"kind", "unregistered"},
                                                 {"severity", "warning"},
                                                 {"instance", instance},
                                                 {"job", "portman"}}),
                                       deadline);
  auto shop_down = webhook.wait_for(alert_is("PortmanServiceDown", "firing",
                                             {{"port", str(shop_port)},
                                              {"protocol", "tcp"},
                                              {"service_name", "shop"},
                                              {"service_env", "production"},
                                              {"service_owner", "team-shop"},
                                              {"severity", "critical"},
                                              {"instance", instance}}),
                                    deadline);
  auto blog_down = webhook.wait_for(alert_is("PortmanServiceDown", "firing",
                                             {{"port", str(blog_port)},
                                              {"protocol", "tcp"},
                                              {"service_name", "blog"},
                                              {"service_env", "staging"},
                                              {"severity", "warning"},
                                              {"instance", instance}}),
                                    deadline);
  {
    std::string received;
    for (const auto& r : webhook.alerts()) received += r.alert.dump() + "\n";
    INFO("received:\n"
         << received << "prometheus log:\n"
         << prometheus.log() << "alertmanager log:\n"
         << alertmanager.log());
    REQUIRE(unregistered);
    REQUIRE(shop_down);
    REQUIRE(blog_down);
  }
  std::printf(
      "alerting: fired after %.2f s (PortmanUnregisteredPort), %.2f s (PortmanServiceDown "
      "critical), %.2f s (PortmanServiceDown warning)\n",
      seconds_since(incident, unregistered->at), seconds_since(incident, shop_down->at),
      seconds_since(incident, blog_down->at));

  // The annotations name what happened, as an operator reads them in the notification.
  const json& u = unregistered->alert["annotations"];
  CHECK(contains(u, "summary", str(rogue_port) + "/tcp"));
  CHECK(contains(u, "summary", instance));
  CHECK(contains(u, "description", "\"rogue-cache\""));
  CHECK(contains(u, "description", str(rogue_port) + "/tcp"));
  CHECK(contains(u, "runbook_url", "docs/runbook.md#portmanunregisteredport"));
  const json& s = shop_down->alert["annotations"];
  CHECK(contains(s, "summary", "shop"));
  CHECK(contains(s, "summary", str(shop_port) + "/tcp"));
  CHECK(contains(s, "description", "production"));
  CHECK(contains(s, "description", "team-shop"));
  CHECK(contains(s, "runbook_url", "docs/runbook.md#portmanservicedown"));
  CHECK(contains(blog_down->alert["annotations"], "summary", "blog"));
  // Exactly these: no other port fired PortmanUnregisteredPort or PortmanServiceDown.
  for (const auto& r : webhook.alerts()) {
    const json& l = r.alert["labels"];
    INFO(r.alert.dump());
    if (l["alertname"] == "PortmanUnregisteredPort") CHECK(l["port"] == str(rogue_port));
    if (l["alertname"] == "PortmanServiceDown")
      CHECK((l["port"] == str(shop_port) || l["port"] == str(blog_port)));
  }
  CHECK(webhook.errors().empty());

  // The fix: the listener registered with the CLI (the agent sees the file change), made
  // active, and both services started again.
  auto allocated = itest::portman({"allocate", "rogue-cache", "-p", str(rogue_port), "-e",
                                   "production", "--registry", registry});
  INFO(allocated.err);
  REQUIRE(allocated.code == 0);
  REQUIRE(itest::portman({"update", str(rogue_port), "active", "--registry", registry}).code == 0);
  shop = std::make_unique<Listener>(std::vector<std::string>{"tcp:127.0.0.1:" + str(shop_port)});
  blog = std::make_unique<Listener>(std::vector<std::string>{"tcp:0.0.0.0:" + str(blog_port)});
  const auto fixed = Clock::now();
  deadline = fixed + std::chrono::seconds(20);
  auto unregistered_resolved =
      webhook.wait_for(alert_is("PortmanUnregisteredPort", "resolved",
                                {{"port", str(rogue_port)}, {"process", "rogue-cache"}}),
                       deadline);
  auto shop_resolved = webhook.wait_for(
      alert_is("PortmanServiceDown", "resolved",
               {{"port", str(shop_port)}, {"service_name", "shop"}, {"severity", "critical"}}),
      deadline);
  auto blog_resolved = webhook.wait_for(
      alert_is("PortmanServiceDown", "resolved",
               {{"port", str(blog_port)}, {"service_name", "blog"}, {"severity", "warning"}}),
      deadline);
  REQUIRE(unregistered_resolved);
  REQUIRE(shop_resolved);
  REQUIRE(blog_resolved);
  std::printf(
      "alerting: resolved after %.2f s (PortmanUnregisteredPort), %.2f s "
      "(PortmanServiceDown critical), %.2f s (PortmanServiceDown warning)\n",
      seconds_since(fixed, unregistered_resolved->at), seconds_since(fixed, shop_resolved->at),
      seconds_since(fixed, blog_resolved->at));
  // A resolved notification says when it ended.
  CHECK(unregistered_resolved->alert.value("endsAt", "").rfind("0001-", 0) != 0);

  // Healthy again: the registered listener is no finding of any kind, and nothing fires (the
  // agent may see the update to `active` one scrape after the allocation).
  const std::string firing = "count(ALERTS{alertstate=\"firing\",alertname=~\"Portman.*\"})";
  deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline && value(firing))
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(value("sum(portman_findings)") == 0.0);
  CHECK(value(firing) == std::nullopt);
}
