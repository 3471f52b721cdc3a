// portman.yml: the YAML loader and everything parse_config checks.
#include "fuzz/fuzz_input.hpp"
#include "libportman/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = portman::fuzz::as_text(data, size);
  (void)portman::parse_config(text, "fuzz.yml");
  // The same text as a port range and an address pattern: both come from the config's values.
  (void)portman::parse_port_range(text);
  (void)portman::parse_address_pattern(text);
  return 0;
}
