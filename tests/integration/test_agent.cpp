// portman agent against real listeners in a fresh network namespace, scraped with curl.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <sstream>
#include <thread>

#include "harness.hpp"

using itest::Agent;
using itest::Listener;
using itest::metric;
using itest::TempDir;
using nlohmann::json;

namespace {

std::string scrape(const Agent& agent, const std::string& path = "/metrics") {
  auto r = itest::curl({agent.url(path)});
  REQUIRE(r.code == 0);
  return r.out;
}

const std::vector<std::string> kFast = {"--scan.min-interval", "0s"};

std::vector<std::string> args(const TempDir& dir, std::vector<std::string> extra = kFast) {
  extra.insert(extra.end(), {"--registry", (dir / "reg.json").string()});
  return extra;
}

void write_registry(const TempDir& dir, const std::string& allocations) {
  itest::write_file(dir / "reg.json", "{\"allocations\": " + allocations + "}\n");
}

// Polls until `pred` holds on a fresh scrape, for at most ~5 s (file events are asynchronous).
template <class Pred>
std::string scrape_until(const Agent& agent, Pred pred) {
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text = scrape(agent);
    if (pred(text)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return text;
}

}  // namespace

TEST_CASE("agent: an unregistered listener appears as a finding on the next scan") {
  TempDir dir;
  Agent agent(args(dir));
  std::string before = scrape(agent);
  CHECK(metric(before, "portman_finding", {"kind=\"unregistered\"", "port=\"18300\""}) ==
        std::nullopt);
  CHECK(metric(before, "portman_findings", {"kind=\"unregistered\""}) == 0);
  Listener l({"tcp:0.0.0.0:18300"});
  std::string after = scrape(agent);
  CHECK(metric(after, "portman_finding",
               {"kind=\"unregistered\"", "port=\"18300\"", "process=\"test_listener\""}) == 1);
  CHECK(metric(after, "portman_findings", {"kind=\"unregistered\""}) == 1);
  CHECK(metric(after, "portman_listening_port_info",
               {"port=\"18300\"", "user=\"root\"", "address=\"0.0.0.0\""}) == 1);
  CHECK(metric(after, "portman_listener_changes_total").value_or(0) >= 1);
}

TEST_CASE("agent: portman_listener_changes_total counts each socket that came or went") {
  TempDir dir;
  Agent agent(args(dir));
  const auto changes = [&] {
    return metric(scrape(agent), "portman_listener_changes_total").value_or(-1);
  };
  const double start = changes();
  REQUIRE(start >= 0);
  CHECK(changes() == start);  // nothing changed between two scans
  auto two = std::make_unique<Listener>(
      std::vector<std::string>{"tcp:127.0.0.1:18310", "udp:127.0.0.1:18310"});
  Listener one({"tcp:[::1]:18311"});
  CHECK(changes() == start + 3);
  two.reset();
  CHECK(changes() == start + 5);
  CHECK(changes() == start + 5);
}

TEST_CASE("agent: stopping a registered service flips portman_port_up to 0") {
  TempDir dir;
  write_registry(
      dir, R"({"18301": {"service": "shop", "status": "active", "environment": "production"}})");
  auto l = std::make_unique<Listener>(std::vector<std::string>{"tcp:127.0.0.1:18301"});
  Agent agent(args(dir));
  std::string up = scrape(agent);
  // port_up is identified by port and protocol only; the service is on the info metric.
  CHECK(up.find("portman_port_up{port=\"18301\",protocol=\"tcp\"} 1\n") != std::string::npos);
  CHECK(metric(up, "portman_registered_port_info",
               {"port=\"18301\"", "service_name=\"shop\"", "service_env=\"production\""}) == 1);
  l.reset();
  std::string down = scrape(agent);
  CHECK(down.find("portman_port_up{port=\"18301\",protocol=\"tcp\"} 0\n") != std::string::npos);
  CHECK(metric(down, "portman_finding", {"kind=\"registered_down\"", "port=\"18301\""}) == 1);
}

TEST_CASE(
    "agent: an invalid registry written while running sets portman_registry_valid 0 and keeps the "
    "old series") {
  TempDir dir;
  write_registry(dir, R"({"18302": {"service": "kept", "status": "allocated"}})");
  Agent agent(args(dir));
  std::string good = scrape(agent);
  CHECK(metric(good, "portman_registry_valid") == 1);
  REQUIRE(metric(good, "portman_registered_port_info", {"service_name=\"kept\""}) == 1);
  double loaded =
      metric(good, "portman_registry_last_reload_success_timestamp_seconds").value_or(0);
  CHECK(loaded > 1.7e9);
  itest::write_file(dir / "reg.json", "{\"allocations\": {\"18302\": ");  // truncated
  std::string bad = scrape_until(
      agent, [](const std::string& t) { return metric(t, "portman_registry_valid") == 0; });
  CHECK(metric(bad, "portman_registry_valid") == 0);
  CHECK(metric(bad, "portman_registered_port_info", {"service_name=\"kept\""}) == 1);
  CHECK(metric(bad, "portman_registry_last_reload_success_timestamp_seconds") == loaded);
  CHECK(agent.log().find("registry invalid, keeping the last good one") != std::string::npos);
  // A good file again, saved the way portman saves (rename over it), is picked up.
  write_registry(dir, R"({"18303": {"service": "fresh", "status": "allocated"}})");
  std::string fixed = scrape_until(
      agent, [](const std::string& t) { return metric(t, "portman_registry_valid") == 1; });
  CHECK(metric(fixed, "portman_registered_port_info", {"service_name=\"fresh\""}) == 1);
  CHECK(metric(fixed, "portman_registered_port_info", {"service_name=\"kept\""}) == std::nullopt);
}

TEST_CASE("agent: a port allocated with the CLI while the agent runs shows up registered") {
  TempDir dir;
  Listener l({"tcp:127.0.0.1:18304"});
  Agent agent(args(dir));
  CHECK(metric(scrape(agent), "portman_findings", {"kind=\"unregistered\""}) == 1);
  REQUIRE(
      itest::portman({"allocate", "late", "-p", "18304", "--registry", (dir / "reg.json").string()})
          .code == 0);
  std::string text = scrape_until(agent, [](const std::string& t) {
    return metric(t, "portman_registered_port_info", {"service_name=\"late\""}).has_value();
  });
  CHECK(metric(text, "portman_findings", {"kind=\"unregistered\""}) == 0);
  CHECK(metric(text, "portman_listening_port_info", {"port=\"18304\"", "service_name=\"late\""}) ==
        1);
}

TEST_CASE("agent: with a symlinked registry in another folder it sees saves through the link") {
  TempDir dir, elsewhere;
  itest::write_file(elsewhere / "m.json", "{\"allocations\": {}}\n");
  std::filesystem::create_symlink(elsewhere / "m.json", dir / "reg.json");
  Listener l({"tcp:127.0.0.1:18316"});
  Agent agent(args(dir));
  CHECK(metric(scrape(agent), "portman_findings", {"kind=\"unregistered\""}) == 1);
  REQUIRE(itest::portman(
              {"allocate", "linked", "-p", "18316", "--registry", (dir / "reg.json").string()})
              .code == 0);
  REQUIRE(std::filesystem::is_symlink(dir / "reg.json"));
  std::string text = scrape_until(agent, [](const std::string& t) {
    return metric(t, "portman_registered_port_info", {"service_name=\"linked\""}).has_value();
  });
  CHECK(metric(text, "portman_findings", {"kind=\"unregistered\""}) == 0);
  CHECK(agent.log().find("registry_from=--registry") != std::string::npos);
}

TEST_CASE("agent: its own listening port is portman-agent's, with no entry and no finding") {
  TempDir dir;
  write_registry(dir, R"({"18315": {"service": "other", "status": "allocated"}})");
  Agent agent(args(dir));
  std::string text = scrape(agent);
  std::string port = "port=\"" + std::to_string(agent.port()) + "\"";
  CHECK(metric(text, "portman_listening_port_info",
               {port, "process=\"portman\"", "service_name=\"portman-agent\""}) == 1);
  CHECK(metric(text, "portman_finding", {port}) == std::nullopt);
  CHECK(metric(text, "portman_findings", {"kind=\"unregistered\""}) == 0);
  // Nothing is added to the registry: only the file's entry is there.
  CHECK(metric(text, "portman_registered_port_info", {port}) == std::nullopt);
  CHECK(metric(text, "portman_port_up", {port}) == std::nullopt);
  // check agrees: no finding, and the verdict is ok.
  auto check = itest::portman(
      {"check", std::to_string(agent.port()), "--json", "--registry", (dir / "reg.json").string()});
  CHECK(check.code == 0);
  CHECK(check.json()["verdict"] == "ok");
  CHECK(check.json()["findings"].empty());
}

TEST_CASE("agent: the renamed metrics pass promtool check metrics") {
  TempDir dir;
  write_registry(dir, R"({"18305": {"service": "a \"quoted\" \\ name", "status": "active"},
                         "18306": {"service": "down", "status": "active"}})");
  Listener l({"tcp:127.0.0.1:18305", "udp:[::1]:18307", "tcp:[::]:18308"});
  Agent agent(args(dir));
  std::string text = scrape(agent);
  // The families the alert rules use are all in what promtool reads, with series.
  CHECK(metric(text, "portman_finding", {"kind=\"registered_down\"", "port=\"18306\""}) == 1);
  CHECK(metric(text, "portman_finding", {"kind=\"unregistered\"", "port=\"18307\""}) == 1);
  CHECK(metric(text, "portman_findings", {"kind=\"unregistered\""}) == 2);
  CHECK(metric(text, "portman_port_up", {"port=\"18306\""}) == 0);
  CHECK(metric(text, "portman_registry_present") == 1);
  CHECK(metric(text, "portman_sockets_owner_unknown") == 0);
  CHECK(text.find("portman_conflict") == std::string::npos);
  itest::write_file(dir / "metrics.txt", text);
  auto r = itest::run({"sh", "-c", "promtool check metrics < " + (dir / "metrics.txt").string()});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
}

TEST_CASE("agent: 50 concurrent scrapes all get complete answers") {
  TempDir dir;
  Listener l({"tcp:127.0.0.1:18309", "tcp:127.0.0.1:18310", "udp:127.0.0.1:18311"});
  Agent agent(args(dir, {"--scan.min-interval", "50ms"}));
  std::vector<pid_t> pids;
  for (int i = 0; i < 50; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto r = itest::curl({agent.url("/metrics")});
      bool complete = r.code == 0 && r.out.find("portman_build_info{") != std::string::npos &&
                      r.out.find("process_max_fds") != std::string::npos &&
                      r.out.find("port=\"18311\"") != std::string::npos && r.out.back() == '\n';
      ::_exit(complete ? 0 : 1);
    }
    pids.push_back(pid);
  }
  int complete = 0;
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    complete += WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  CHECK(complete == 50);
}

TEST_CASE("agent: a service named <script> shows escaped on the landing page") {
  TempDir dir;
  write_registry(dir, R"({"18312": {"service": "<script>alert(1)</script>", "status": "active"}})");
  Agent agent(args(dir));
  auto r = itest::curl({agent.url("/")});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("<script>alert(1)</script>") == std::string::npos);
  CHECK(r.out.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(r.out.find("href=\"/metrics\"") != std::string::npos);
}

namespace {

// What one scan says, without what may differ between two scans of the same state: how long
// each collector took, and when the scan looked.
json comparable(json report) {
  for (auto& run : report["collectors"]) run.erase("duration_seconds");
  CHECK(report.at("sockets_seen_at_unix_ms").get<std::int64_t>() > 0);
  report.erase("sockets_seen_at_unix_ms");
  return report;
}

}  // namespace

TEST_CASE("agent: /api/scan equals portman scan --json on the same host, the agent's port too") {
  TempDir dir;
  write_registry(dir, R"({"18313": {"service": "api", "status": "active"},
                         "18316": {"service": "gone", "status": "active"}})");
  Listener registered({"tcp:127.0.0.1:18313"});
  Listener stray({"tcp:0.0.0.0:18317", "udp:127.0.0.1:18318"});
  Agent agent(args(dir));
  json api = json::parse(scrape(agent, "/api/scan"));
  auto r = itest::portman({"scan", "--json", "--registry", (dir / "reg.json").string()});
  REQUIRE(r.code == 0);
  json cli = r.json();
  CHECK(comparable(api) == comparable(cli));
  // Not equal by being empty: the state above is in both.
  CHECK(
      cli["summary"] ==
      json{{"listening", 4}, {"registered", 2}, {"unregistered", 2}, {"down", 1}, {"findings", 3}});
  bool agent_seen = false;
  for (const auto& s : cli["listening"])
    if (s["port"] == agent.port())
      agent_seen = s["service_name"] == "portman-agent" && s["pid"] == agent.pid();
  CHECK(agent_seen);
}

TEST_CASE("agent: health, unknown paths and wrong methods answer as a mature exporter does") {
  TempDir dir;
  Agent agent(args(dir));
  auto health = itest::curl({"-w", "%{http_code}", agent.url("/healthz")});
  CHECK(health.out == "ok\n200");
  CHECK(itest::curl({"-o", "/dev/null", "-w", "%{http_code}", agent.url("/nope")}).out == "404");
  CHECK(itest::curl({"-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", agent.url("/metrics")})
            .out == "405");
  auto head = itest::curl({"-I", agent.url("/metrics")});
  CHECK(head.out.find("200") != std::string::npos);
  auto gz = itest::curl(
      {"-D", "-", "-o", "/dev/null", "-H", "Accept-Encoding: gzip", agent.url("/metrics")});
  CHECK(gz.out.find("Content-Encoding: gzip") != std::string::npos);
}

TEST_CASE("agent: SIGTERM stops it cleanly within a second") {
  TempDir dir;
  Agent agent(args(dir));
  scrape(agent);
  auto [code, seconds] = agent.stop();
  CHECK(code == 0);
  CHECK(seconds < 1.0);
}

TEST_CASE("agent: SIGHUP reloads the config, and a bad new config keeps the running one") {
  TempDir dir;
  std::string cfg = (dir / "portman.yml").string();
  itest::write_file(cfg, "types:\n  web: { range: 3000-3009 }\n");
  itest::RunOptions env;
  env.env["PORTMAN_CONFIG"] = cfg;
  Agent agent(args(dir), env);
  std::vector<std::string> web_free = {"service_type=\"web\"", "state=\"free\""};
  CHECK(metric(scrape(agent), "portman_range_ports", web_free) == 9);  // 3000 is reserved
  itest::write_file(cfg, "types:\n  web: { range: 3000-3019 }\n");
  ::kill(agent.pid(), SIGHUP);
  std::string text = scrape_until(agent, [&](const std::string& t) {
    return metric(t, "portman_range_ports", web_free) == 19;
  });
  CHECK(metric(text, "portman_range_ports", web_free) == 19);
  itest::write_file(cfg, "types:\n  web: { range: nonsense }\n");
  ::kill(agent.pid(), SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(metric(scrape(agent), "portman_range_ports", web_free) == 19);
  CHECK(agent.log().find("config reload failed, keeping the running one") != std::string::npos);
}

TEST_CASE("agent: a bad flag or web config is refused at start with a clear message") {
  TempDir dir;
  auto level =
      itest::portman({"agent", "--log.level", "loud", "--registry", (dir / "reg.json").string()});
  CHECK(level.code == 2);
  CHECK(level.err.find("valid: debug, info, warn, error") != std::string::npos);
  itest::write_file(dir / "web.yml", "basic_auth_users:\n  admin: hunter2\n");
  auto plain = itest::portman({"agent", "--web.config.file", (dir / "web.yml").string(),
                               "--web.listen-address", "127.0.0.1:0", "--registry",
                               (dir / "reg.json").string()});
  CHECK(plain.code == 3);
  CHECK(plain.err.find("web.yml:2:") != std::string::npos);
}

TEST_CASE("agent: TLS works with curl --cacert and basic auth refuses a wrong password") {
  TempDir dir;
  const std::string web = std::string(PORTMAN_FIXTURES_DIR) + "/web/web-config.yml";
  const std::string ca = std::string(PORTMAN_FIXTURES_DIR) + "/web/ca.pem";
  Agent agent(args(dir, {"--web.config.file", web}));
  std::string url = "https://localhost:" + std::to_string(agent.port());
  auto ok = itest::curl({"--cacert", ca, "-u", "alice:s3cret", url + "/metrics"});
  CHECK(ok.code == 0);
  CHECK(ok.out.find("portman_build_info{") != std::string::npos);
  auto wrong = itest::curl({"--cacert", ca, "-u", "alice:wrong", "-o", "/dev/null", "-w",
                            "%{http_code}", url + "/metrics"});
  CHECK(wrong.out == "401");
  auto none =
      itest::curl({"--cacert", ca, "-o", "/dev/null", "-w", "%{http_code}", url + "/api/scan"});
  CHECK(none.out == "401");
  auto health = itest::curl({"--cacert", ca, url + "/healthz"});  // open without credentials
  CHECK(health.out == "ok\n");
  auto plain = itest::curl({"-o", "/dev/null", "-w", "%{http_code}", agent.url("/metrics")});
  CHECK(plain.out != "200");  // no plain HTTP on the TLS port
  CHECK(agent.log().find("tls=true") != std::string::npos);
}

TEST_CASE("agent: a collector that fails reports 0 and the rest of the scrape goes on") {
  TempDir dir;
  write_registry(dir, "{}");  // a registry that exists: only the collector fails
  // A procfs without net/ tables: the sockets collector fails, the owners one has nothing to do.
  std::filesystem::create_directories(dir / "fakeproc");
  Agent agent(
      args(dir, {"--scan.min-interval", "0s", "--path.procfs", (dir / "fakeproc").string()}));
  std::string text = scrape(agent);
  CHECK(metric(text, "portman_scrape_collector_success", {"collector=\"sockets\""}) == 0);
  CHECK(metric(text, "portman_scrape_collector_success", {"collector=\"owners\""}) == 1);
  CHECK(metric(text, "portman_build_info").has_value());
  CHECK(metric(text, "portman_registry_valid") == 1);
  CHECK(agent.log().find("collector failed") != std::string::npos);
}

TEST_CASE("agent: --no-collector.owners leaves sockets unattributed and drops that collector") {
  TempDir dir;
  Listener l({"tcp:127.0.0.1:18314"});
  Agent agent(args(dir, {"--scan.min-interval", "0s", "--no-collector.owners"}));
  std::string text = scrape(agent);
  CHECK(metric(text, "portman_scrape_collector_success", {"collector=\"owners\""}) == std::nullopt);
  CHECK(metric(text, "portman_listening_port_info", {"port=\"18314\"", "process=\"\""}) == 1);
}

TEST_CASE("agent: a real Prometheus scraping it gets the metrics with their values") {
  TempDir dir;
  write_registry(dir, R"({"18320": {"service": "api", "status": "active", "environment": "staging"},
                         "18321": {"service": "gone", "status": "active"}})");
  Listener api({"tcp:127.0.0.1:18320"});
  Listener stray({"tcp:0.0.0.0:18322"});
  Agent agent(args(dir, {"--scan.min-interval", "500ms"}));
  itest::write_file(dir / "prometheus.yml",
                    "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
                    "scrape_configs:\n"
                    "  - job_name: portman\n"
                    "    static_configs: [{ targets: ['127.0.0.1:" +
                        std::to_string(agent.port()) + "'] }]\n");
  pid_t prom = ::fork();
  if (prom == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl("/usr/bin/prometheus", "prometheus",
            ("--config.file=" + (dir / "prometheus.yml").string()).c_str(),
            ("--storage.tsdb.path=" + (dir / "tsdb").string()).c_str(),
            "--web.listen-address=127.0.0.1:19090", nullptr);
    ::_exit(127);
  }
  auto query = [](const std::string& q) {
    auto r = itest::curl(
        {"-G", "--data-urlencode", "query=" + q, "http://127.0.0.1:19090/api/v1/query"});
    return r.code == 0 && !r.out.empty() ? json::parse(r.out, nullptr, false) : json();
  };
  auto value_of = [&](const std::string& q) -> std::optional<double> {
    json j = query(q);
    if (!j.is_object() || j["status"] != "success" || j["data"]["result"].empty())
      return std::nullopt;
    return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
  };
  std::optional<double> up;
  for (int i = 0; i < 150 && !up; ++i) {  // Prometheus starts, then scrapes every second
    up = value_of("up{job=\"portman\"}");
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(up == 1);
  CHECK(value_of("portman_port_up{port=\"18320\",protocol=\"tcp\"}") == 1);
  CHECK(value_of("portman_port_up{port=\"18321\"}") == 0);
  // The join documented in docs/metrics.md: the service's metadata from the info metric.
  CHECK(value_of("portman_port_up * on(port, protocol) group_left(service_name, service_env) "
                 "portman_registered_port_info{service_name=\"api\",service_env=\"staging\"}") ==
        1);
  CHECK(value_of("portman_port_up == 0 and on(port, protocol) "
                 "portman_registered_port_info{service_name=\"gone\",status=\"active\"}") == 0);
  CHECK(
      value_of("portman_finding{kind=\"unregistered\",port=\"18322\",process=\"test_listener\"}") ==
      1);
  CHECK(value_of("portman_findings{kind=\"registered_down\"}") == 1);
  // Prometheus's own port is unregistered too: it listens in the same namespace.
  CHECK(value_of("portman_finding{kind=\"unregistered\",port=\"19090\",process=\"prometheus\"}") ==
        1);
  CHECK(value_of("portman_findings{kind=\"unregistered\"}") == 2);
  CHECK(value_of("sum(portman_range_ports{service_type=\"web\"})") == 100);
  CHECK(value_of("portman_registry_valid") == 1);
  // Labels that Prometheus setups use as target labels would come back as exported_*; none do.
  CHECK(value_of("count({__name__=~\"portman_.*\",exported_job!=\"\"})") == std::nullopt);
  ::kill(prom, SIGTERM);
  ::waitpid(prom, nullptr, 0);
}

TEST_CASE("agent: without inotify on the registry's folder it still sees the file change") {
  TempDir dir;
  // The agent runs as nobody; the folder lets it reach the file (x) but not list or watch it (r).
  std::filesystem::path folder = dir / "locked";
  std::filesystem::create_directories(folder);
  itest::write_file(folder / "reg.json", R"({"allocations": {"18330": {"service": "before"}}})");
  std::filesystem::permissions(folder, std::filesystem::perms::owner_all |
                                           std::filesystem::perms::group_exec |
                                           std::filesystem::perms::others_exec);
  Agent agent({"--scan.min-interval", "0s", "--registry", (folder / "reg.json").string()},
              itest::as_user(dir));
  CHECK(agent.log().find("checking the file every 2s instead") != std::string::npos);
  CHECK(metric(scrape(agent), "portman_registered_port_info", {"service_name=\"before\""}) == 1);
  itest::write_file(folder / "reg.tmp", R"({"allocations": {"18330": {"service": "after"}}})");
  std::filesystem::rename(folder / "reg.tmp", folder / "reg.json");
  std::string text;
  for (int i = 0; i < 50; ++i) {  // the check runs every 2 s
    text = scrape(agent);
    if (metric(text, "portman_registered_port_info", {"service_name=\"after\""})) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(metric(text, "portman_registered_port_info", {"service_name=\"after\""}) == 1);
}

namespace {

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Written beside, then renamed over: the way portman saves, so no reader sees half a file.
void replace_file(const std::filesystem::path& path, const std::string& text) {
  itest::write_file(path.string() + ".new", text);
  std::filesystem::rename(path.string() + ".new", path);
}

}  // namespace

TEST_CASE("agent: a missing registry is reported, said once, and loaded when the file appears") {
  TempDir dir;
  Listener l({"tcp:127.0.0.1:18319"});
  Agent agent(args(dir));  // reg.json does not exist
  std::string text = scrape(agent);
  CHECK(metric(text, "portman_registry_present") == 0);
  CHECK(metric(text, "portman_registry_valid") == 0);
  auto page = itest::curl({agent.url("/")});
  CHECK(page.out.find("No registry file at <code>" + (dir / "reg.json").string() + "</code>") !=
        std::string::npos);
  scrape(agent);
  scrape(agent);
  CHECK(count_of(agent.log(), "registry file does not exist") == 1);  // at start, not per scrape

  replace_file(dir / "reg.json", R"({"allocations": {"18319": {"service": "svc"}}})");
  text = scrape_until(agent, [](const std::string& t) {
    return metric(t, "portman_registered_port_info", {"service_name=\"svc\""}).has_value();
  });
  CHECK(metric(text, "portman_registry_present") == 1);
  CHECK(metric(text, "portman_registry_valid") == 1);
  CHECK(metric(text, "portman_findings", {"kind=\"unregistered\""}) == 0);
  CHECK(itest::curl({agent.url("/")}).out.find("No registry file") == std::string::npos);
  CHECK(agent.log().find("registry loaded") != std::string::npos);

  // Removed while running: said once more, and the last good registry stays in use.
  std::filesystem::remove(dir / "reg.json");
  text = scrape_until(
      agent, [](const std::string& t) { return metric(t, "portman_registry_present") == 0; });
  CHECK(metric(text, "portman_registry_present") == 0);
  CHECK(metric(text, "portman_registry_valid") == 0);
  CHECK(metric(text, "portman_registered_port_info", {"service_name=\"svc\""}) == 1);
  CHECK(count_of(agent.log(), "registry file does not exist, keeping the last good one") == 1);
}

TEST_CASE("agent: a registry in a folder that does not exist is not created, and seen later") {
  TempDir dir;
  std::filesystem::path folder = dir / "typo";
  Agent agent({"--scan.min-interval", "0s", "--registry", (folder / "reg.json").string()});
  CHECK(metric(scrape(agent), "portman_registry_present") == 0);
  CHECK_FALSE(std::filesystem::exists(folder));  // a typo makes no folder
  std::filesystem::create_directories(folder);
  replace_file(folder / "reg.json", R"({"allocations": {"18325": {"service": "late"}}})");
  std::string text;
  for (int i = 0; i < 50; ++i) {  // without a watch the file is checked every 2 s
    text = scrape(agent);
    if (metric(text, "portman_registry_present") == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(metric(text, "portman_registry_present") == 1);
  CHECK(metric(text, "portman_registered_port_info", {"service_name=\"late\""}) == 1);
}

TEST_CASE("agent: without privileges it reports sockets without a known owner, not processes") {
  TempDir dir;
  write_registry(dir, "{}");
  Listener own({"--uid", "65534", "tcp:127.0.0.1:18323"});
  Agent agent(args(dir), itest::as_user(dir));
  std::string text = scrape(agent);
  // This test's own process (root) cannot be read, but every socket has its owner.
  CHECK(metric(text, "portman_processes_unreadable").value_or(0) >= 1);
  CHECK(metric(text, "portman_sockets_owner_unknown") == 0);
  CHECK(metric(text, "portman_listening_port_info", {"port=\"18323\"", "user=\"nobody\""}) == 1);
  CHECK(itest::curl({agent.url("/")}).out.find("no known owner") == std::string::npos);

  Listener root_owned({"tcp:127.0.0.1:18324"});
  text = scrape(agent);
  CHECK(metric(text, "portman_sockets_owner_unknown") == 1);
  CHECK(metric(text, "portman_listening_port_info", {"port=\"18324\"", "process=\"\""}) == 1);
  CHECK(itest::curl({agent.url("/")}).out.find("1 socket has no known owner") != std::string::npos);
}
