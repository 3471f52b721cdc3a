// gzip for HTTP responses: whether the client accepts it, and the compression itself (zlib).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portman::agent {

// True when an Accept-Encoding value allows gzip: "gzip" or "x-gzip" with q > 0, or "*" with
// q > 0 when gzip is not listed. "gzip;q=0" refuses it.
bool accepts_gzip(std::string_view accept_encoding);

// The gzip member for `data`, or nullopt when zlib fails (the caller sends it uncompressed).
std::optional<std::string> gzip_compress(std::string_view data);

}  // namespace portman::agent
