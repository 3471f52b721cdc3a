#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "collectors/proc_process.hpp"

using namespace portman;
using namespace std::string_view_literals;

namespace {
constexpr std::string_view kId = "4d1c8e9b2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e";
}

TEST_CASE("parse_socket_link reads the inode of socket:[N] and rejects anything else") {
  CHECK(parse_socket_link("socket:[12345]") == 12345u);
  CHECK(parse_socket_link("socket:[18446744073709551615]") == 18446744073709551615ull);
  CHECK_FALSE(parse_socket_link("socket:[]"));
  CHECK_FALSE(parse_socket_link("socket:[12a]"));
  CHECK_FALSE(parse_socket_link("socket:[-1]"));
  CHECK_FALSE(parse_socket_link("socket:[123"));
  CHECK_FALSE(parse_socket_link("socket:[123] "));
  CHECK_FALSE(parse_socket_link("socket:[18446744073709551616]"));
  CHECK_FALSE(parse_socket_link("pipe:[12345]"));
  CHECK_FALSE(parse_socket_link("anon_inode:[eventpoll]"));
  CHECK_FALSE(parse_socket_link("/dev/null"));
  CHECK_FALSE(parse_socket_link(""));
}

TEST_CASE("parse_pid accepts positive decimal names only") {
  CHECK(parse_pid("1") == 1);
  CHECK(parse_pid("4194304") == 4194304);
  CHECK_FALSE(parse_pid("0"));
  CHECK_FALSE(parse_pid("self"));
  CHECK_FALSE(parse_pid("thread-self"));
  CHECK_FALSE(parse_pid("12a"));
  CHECK_FALSE(parse_pid("-5"));
  CHECK_FALSE(parse_pid(""));
  CHECK_FALSE(parse_pid("99999999999"));
}

TEST_CASE("parse_children reads the space-separated pids of a children file") {
  std::vector<pid_t> pids;
  parse_children("610 611 \n", pids);
  CHECK(pids == std::vector<pid_t>{610, 611});
  parse_children("", pids);
  CHECK(pids.size() == 2);
  parse_children("700", pids);
  CHECK(pids == std::vector<pid_t>{610, 611, 700});
}

TEST_CASE("parse_status_euid returns the second field of the Uid line") {
  constexpr std::string_view status =
      "Name:\tsudo\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\nPPid:\t4200\n"
      "TracerPid:\t0\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\nFDSize:\t64\n";
  CHECK(parse_status_euid(status) == 0u);
  CHECK(parse_status_euid("Name:\tnginx\nUid:\t33\t33\t33\t33\nGid:\t33\t33\t33\t33\n") == 33u);
  CHECK(parse_status_euid("Uid:\t0\t65534\t65534\t65534") == 65534u);  // last line, no newline
  CHECK_FALSE(parse_status_euid("Name:\tx\nGid:\t0\t0\t0\t0\n"));
  CHECK_FALSE(parse_status_euid("Name:\tUid:\t5\t5\n"));  // not at the start of a line
  CHECK_FALSE(parse_status_euid("Uid:\t1000\n"));
  CHECK_FALSE(parse_status_euid(""));
}

TEST_CASE("join_cmdline joins argv with spaces") {
  CHECK(join_cmdline("/usr/sbin/nginx\0-g\0daemon off;\0"sv) == "/usr/sbin/nginx -g daemon off;");
  CHECK(join_cmdline("/usr/bin/python3\0-m\0http.server"sv) == "/usr/bin/python3 -m http.server");
  CHECK(join_cmdline("nginx: worker process\0\0\0\0\0\0"sv) == "nginx: worker process");
  CHECK(join_cmdline("a\0\0b\0"sv) == "a  b");  // an empty argument stays visible
  CHECK(join_cmdline("sleep"sv) == "sleep");
  CHECK(join_cmdline(""sv).empty());  // kernel thread
}

TEST_CASE("parse_cgroup: systemd service on cgroup v2") {
  CgroupInfo info = parse_cgroup("0::/system.slice/nginx.service\n");
  CHECK(info.unit == "nginx.service");
  CHECK(info.container.empty());
}

TEST_CASE("parse_cgroup: the deepest service of a user manager wins") {
  CgroupInfo info =
      parse_cgroup("0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n");
  CHECK(info.unit == "foo.service");
  CHECK(info.container.empty());
}

TEST_CASE("parse_cgroup: a login session is its scope") {
  CHECK(parse_cgroup("0::/user.slice/user-1000.slice/session-3.scope\n").unit == "session-3.scope");
  CHECK(parse_cgroup("0::/init.scope\n").unit == "init.scope");
}

TEST_CASE("parse_cgroup: no unit and no container") {
  CgroupInfo root = parse_cgroup("0::/\n");
  CHECK(root.unit.empty());
  CHECK(root.container.empty());
  CgroupInfo slice = parse_cgroup("0::/user.slice/user-1000.slice\n");
  CHECK(slice.unit.empty());
  CHECK(parse_cgroup("").unit.empty());
  CHECK(parse_cgroup("garbage without colons\n").unit.empty());
}

TEST_CASE("parse_cgroup: docker on cgroup v1 (cgroupfs driver)") {
  std::string text;
  for (std::string_view c : {"12:pids:", "11:memory:", "4:cpu,cpuacct:", "1:name=systemd:", "0::"})
    text += std::string(c) + "/docker/" + std::string(kId) + "\n";
  CgroupInfo info = parse_cgroup(text);
  CHECK(info.container == kId);
  CHECK(info.unit.empty());  // the systemd hierarchy names no unit inside the container
}

TEST_CASE("parse_cgroup: docker on cgroup v2 (systemd driver)") {
  CgroupInfo info = parse_cgroup("0::/system.slice/docker-" + std::string(kId) + ".scope\n");
  CHECK(info.container == kId);
  CHECK(info.unit.empty());  // the container's scope is not a unit of the host's services
}

TEST_CASE("parse_cgroup: a systemd service inside a docker container") {
  CgroupInfo info = parse_cgroup("0::/system.slice/docker-" + std::string(kId) +
                                 ".scope/system.slice/redis-server.service\n");
  CHECK(info.container == kId);
  CHECK(info.unit == "redis-server.service");
}

TEST_CASE("parse_cgroup: containerd under kubernetes, systemd and cgroupfs drivers") {
  CgroupInfo systemd = parse_cgroup(
      "0::/kubepods.slice/kubepods-burstable.slice/"
      "kubepods-burstable-pod0f5e6a3c_8a1b_4c2d_9e7f_0123456789ab.slice/cri-containerd-" +
      std::string(kId) + ".scope\n");
  CHECK(systemd.container == kId);
  CHECK(systemd.unit.empty());
  CgroupInfo cgroupfs =
      parse_cgroup("0::/kubepods/besteffort/pod0f5e6a3c-8a1b-4c2d-9e7f/" + std::string(kId) + "\n");
  CHECK(cgroupfs.container == kId);
}

TEST_CASE("parse_cgroup: cri-o and podman scopes, but not their conmon scopes") {
  CHECK(parse_cgroup("0::/kubepods.slice/crio-" + std::string(kId) + ".scope\n").container == kId);
  CgroupInfo podman =
      parse_cgroup("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" +
                   std::string(kId) + ".scope/container\n");
  CHECK(podman.container == kId);
  CHECK(podman.unit == "user@1000.service");
  CgroupInfo conmon =
      parse_cgroup("0::/machine.slice/libpod-conmon-" + std::string(kId) + ".scope\n");
  CHECK(conmon.container.empty());
}

TEST_CASE("parse_cgroup: lxc payloads and short ids are not container ids") {
  CHECK(parse_cgroup("0::/lxc.payload.web/system.slice/nginx.service\n").container.empty());
  CHECK(parse_cgroup("0::/lxc.payload.web/system.slice/nginx.service\n").unit == "nginx.service");
  CHECK(parse_cgroup("0::/docker/4d1c8e9b2f3a\n").container.empty());
  CHECK(parse_cgroup("0::/docker/" + std::string(kId.substr(0, 63)) + "G\n").container.empty());
}

TEST_CASE("parse_cgroup: hybrid hierarchy takes the unit from name=systemd") {
  CgroupInfo info = parse_cgroup(
      "12:cpuset:/\n"
      "4:cpu,cpuacct:/system.slice/other.service\n"
      "1:name=systemd:/system.slice/nginx.service\n"
      "0::/\n");
  CHECK(info.unit == "nginx.service");
  CHECK(parse_cgroup("4:cpu,cpuacct:/system.slice/cron.service\n").unit == "cron.service");
}

TEST_CASE("parse_stat_ppid reads the parent even when comm holds spaces and parentheses") {
  CHECK(parse_stat_ppid("20 (gunicorn) S 10 10 10 0 -1 4194560") == std::optional<pid_t>(10));
  CHECK(parse_stat_ppid("7 (a) b) (c) R 3 7 7 0") == std::optional<pid_t>(3));
  CHECK(parse_stat_ppid("1 (systemd) S 0 1 1 0") == std::optional<pid_t>(0));
  CHECK_FALSE(parse_stat_ppid("garbage").has_value());
  CHECK_FALSE(parse_stat_ppid("5 (x) S").has_value());
  CHECK_FALSE(parse_stat_ppid("5 (x) S -4 1").has_value());
}
