// `/`: a server-rendered page with the live table of ports and the current findings. No external
// assets; every value is HTML-escaped.
#pragma once

#include <string>
#include <string_view>

#include "agent/metrics.hpp"
#include "agent/snapshot.hpp"

namespace portman::agent {

std::string html_escape(std::string_view text);
std::string render_landing_page(const Snapshot& snap, const BuildInfo& build,
                                std::string_view telemetry_path);

}  // namespace portman::agent
