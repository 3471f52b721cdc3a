// A compose file's `ports:` as Dokploy deploys it: "YAML\n--8<--\n.env text", read as a Swarm
// stack when a third part follows. Interpolation is fuzzed on the YAML text too.
#include "fuzz/fuzz_input.hpp"
#include "inventory/compose_ports.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = portman::fuzz::split_parts(portman::fuzz::as_text(data, size));
  std::string_view yaml = parts[0];
  std::string_view env = parts.size() > 1 ? parts[1] : std::string_view{};
  bool stack = parts.size() > 2;
  (void)portman::dokploy::parse_compose_ports(yaml, env, stack, "fuzz-compose.yml");
  std::vector<std::string> unset;
  (void)portman::dokploy::interpolate(yaml, portman::dokploy::parse_env_text(env), &unset);
  return 0;
}
