#include "agent/http_gzip.hpp"

#include <algorithm>
#include <charconv>
#include <climits>

#include "agent/agent_libraries.hpp"

namespace portman::agent {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The q of "coding;q=0.5;x=y" (1 when absent; 0 when unparsable, to be safe).
double quality(std::string_view params) {
  while (!params.empty()) {
    auto semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    auto eq = p.find('=');
    if (eq == std::string_view::npos || lower(trim(p.substr(0, eq))) != "q") continue;
    std::string_view v = trim(p.substr(eq + 1));
    double q = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), q);  // not locale-dependent
    if (ec != std::errc{} || end != v.data() + v.size() || q < 0 || q > 1) return 0;
    return q;
  }
  return 1;
}

// Owns a z_stream set up for gzip; deflateEnd on every path.
class Deflater {
 public:
  explicit Deflater(const ZlibApi& zlib) : zlib_(zlib) {
    // 15 + 16: gzip wrapper. Level 1: scrapes are latency-bound and the text format compresses
    // well even at the fastest level. (What zlib's deflateInit2 macro expands to.)
    ok_ = zlib_.deflate_init2(&zs_, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                              ZLIB_VERSION, static_cast<int>(sizeof(z_stream))) == Z_OK;
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  ~Deflater() {
    if (ok_) zlib_.deflate_end(&zs_);
  }
  bool ok() const { return ok_; }
  z_stream* get() { return &zs_; }

 private:
  const ZlibApi& zlib_;
  z_stream zs_{};
  bool ok_ = false;
};

}  // namespace

bool accepts_gzip(std::string_view header) {
  std::optional<double> gzip_q, star_q;
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    auto semi = item.find(';');
    std::string coding = lower(trim(item.substr(0, semi)));
    double q = semi == std::string_view::npos ? 1.0 : quality(item.substr(semi + 1));
    if (coding == "gzip" || coding == "x-gzip")
      gzip_q = std::max(gzip_q.value_or(0), q);
    else if (coding == "*")
      star_q = q;
  }
  if (gzip_q) return *gzip_q > 0;
  return star_q && *star_q > 0;
}

std::optional<std::string> gzip_compress(std::string_view data) {
  if (data.size() > UINT_MAX / 2) return std::nullopt;  // zlib counts in uInt
  auto libraries = agent_libraries();
  if (!libraries) return std::nullopt;
  const ZlibApi& zlib = (*libraries)->zlib;
  Deflater d(zlib);
  if (!d.ok()) return std::nullopt;
  z_stream* zs = d.get();
  // The text format compresses 20:1 and more: a buffer of deflateBound's size (the whole body)
  // was mostly never written, only zeroed. This one grows when it must.
  std::string out(data.size() / 8 + 4096, '\0');
  zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));  // zlib only reads it
  zs->avail_in = static_cast<uInt>(data.size());
  for (;;) {
    zs->next_out = reinterpret_cast<Bytef*>(out.data() + zs->total_out);
    zs->avail_out = static_cast<uInt>(out.size() - zs->total_out);
    const int rc = zlib.deflate_run(zs, Z_FINISH);
    if (rc == Z_STREAM_END) break;
    // Z_OK or Z_BUF_ERROR with no room left: more room, and finish again.
    if ((rc != Z_OK && rc != Z_BUF_ERROR) || zs->avail_out > 0) return std::nullopt;
    out.resize(out.size() * 2);
  }
  out.resize(zs->total_out);
  return out;
}

}  // namespace portman::agent
