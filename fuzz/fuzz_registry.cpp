// The registry file (JSON): parse, check, and a registry that parses must serialise to a text
// that parses again with the same entries.
#include <chrono>
#include <cstdlib>

#include "fuzz/fuzz_input.hpp"
#include "libportman/registry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = portman::fuzz::as_text(data, size);
  (void)portman::Registry::check(text);
  auto r = portman::Registry::parse(text, "fuzz.json");
  if (!r) return 0;
  for (const auto& p : r->duplicates()) (void)p.describe("fuzz.json");
  (void)r->archive();
  if (r->generation() >= portman::Registry::kMaxGeneration || !r->duplicate_keys().empty())
    return 0;  // refused for writing, by design
  std::string next = r->serialize_next(std::chrono::system_clock::time_point{});
  auto again = portman::Registry::parse(next, "fuzz-next.json");
  if (!again || again->entries().size() != r->entries().size()) std::abort();
  return 0;
}
