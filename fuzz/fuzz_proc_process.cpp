// What the owner walk reads from /proc/PID: cgroup (container and systemd unit), stat, status,
// task/*/children, cmdline (and docker-proxy's arguments in it), fd link targets, PID names.
#include "collectors/docker_attribution.hpp"
#include "collectors/proc_process.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = portman::fuzz::as_text(data, size);
  (void)portman::parse_cgroup(text);
  (void)portman::parse_stat_ppid(text);
  (void)portman::parse_status_euid(text);
  std::vector<pid_t> children;
  portman::parse_children(text, children);
  (void)portman::join_cmdline(text);
  (void)portman::parse_docker_proxy_cmdline(text);
  (void)portman::parse_socket_link(text);
  (void)portman::parse_pid(text);
  return 0;
}
