// The agent's --web.config.file (exporter-toolkit's format). Relative file names resolve under a
// folder that does not exist, so only the YAML and its checks are exercised.
#include "agent/http_server.hpp"
#include "agent/web_config.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)portman::agent::parse_web_config(portman::fuzz::as_text(data, size),
                                         "/nonexistent-portman-fuzz/web.yml");
  (void)portman::agent::parse_listen_address(portman::fuzz::as_text(data, size));
  return 0;
}
