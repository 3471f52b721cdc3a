// Limits on what portman reads, so that a hostile or broken file is refused with a message instead
// of exhausting memory or the stack. Documented in config/portman.yml (limits are fixed, not keys).
#pragma once

#include <cstddef>
#include <cstdint>

namespace portman {

// A registry of 100,000 entries with 50,000 archived is about 60 MB (bench/make_registry.py).
inline constexpr std::size_t kRegistryMaxBytes = 256u * 1024 * 1024;
// portman.yml and web config files are a few KB.
inline constexpr std::size_t kConfigMaxBytes = 1024u * 1024;
// YAML nodes with aliases expanded: a 1 MiB file without aliases has at most about 520,000
// ("[1,1,1,...]"), so only nested aliases (a "billion laughs") come near.
inline constexpr std::uint64_t kMaxYamlNodes = 1'000'000;
// JSON/YAML nesting: the registry needs 3 levels (document, allocations, entry) plus free-form
// fields; 64 leaves room for any sane extra field and none for a stack-exhausting bomb.
inline constexpr int kMaxNestingDepth = 64;

}  // namespace portman
