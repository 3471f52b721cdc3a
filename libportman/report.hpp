// The JSON shapes that scripts rely on (`scan --json`, `check --json`, `list --json`), built in
// one place so that the CLI and the agent's /api/scan can never drift apart.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libportman/findings.hpp"
#include "libportman/live_state.hpp"
#include "libportman/registry.hpp"

namespace portman {

Json entry_json(const Entry& e);  // the registry object plus port and protocol
Json owner_json(const Owner& o);  // pid, process, user, cmdline, container, unit
Json socket_json(const ListeningSocket& s, const Registry& registry);
Json finding_json(const Finding& f);
// The scan report as text, streamed (fast at thousands of sockets), ending with a newline.
std::string scan_report_text(const Registry& registry, const LiveState& live,
                             std::span<const Finding> findings);
// The same, handed to `sink` in pieces as it is written (`scan --json` on stdout).
void stream_scan_report(const Registry& registry, const LiveState& live,
                        std::span<const Finding> findings,
                        const std::function<void(std::string_view)>& sink);
// The same, parsed: for callers that want to inspect it.
Json scan_report(const Registry& registry, const LiveState& live,
                 std::span<const Finding> findings);

}  // namespace portman
