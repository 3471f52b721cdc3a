#include "libportman/json_writer.hpp"

#include "libportman/word_scan.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace portman {
namespace {

// Length of the well-formed UTF-8 sequence at the start of `s`, 0 when there is none.
size_t well_formed_utf8(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](size_t i, unsigned lo = 0x80, unsigned hi = 0xbf) {
    return i < s.size() && b(i) >= lo && b(i) <= hi;
  };
  unsigned c = b(0);
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// Printable ASCII other than '"' and '\\': copied as it is. Almost every byte of a report is.
constexpr bool plain_ascii(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

// The end of the run of plain bytes that starts at s[i]. Eight bytes at a time while none of
// them can be other than plain (each test below is "some byte is..."; a false alarm only sends
// the word to the byte loop): a report is megabytes of plain text, and the byte loop alone was a
// fifth of a cold `scan --json`'s instructions.
size_t plain_run_end(std::string_view s, size_t i) {
  using namespace word_scan;
  auto all_plain = [](std::uint64_t w) {
    return !has_control_or_high(w) && !has_byte(w, '"') && !has_byte(w, '\\');
  };
  for (; i + 8 <= s.size(); i += 8)
    if (!all_plain(load(s, i))) break;
  // The last few bytes (all of a short key) as one word, padded with plain ones.
  if (i < s.size() && s.size() - i < 8) {
    std::uint64_t w = kOnes * 'a';
    std::memcpy(&w, s.data() + i, s.size() - i);
    if (all_plain(w)) return s.size();
  }
  while (i < s.size() && plain_ascii(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

}  // namespace

void JsonWriter::newline() {
  // The newline and the indent in one append (a fill-append costs a memset call per line).
  static constexpr std::string_view kIndent =
      "\n                                                                ";
  std::size_t width = 2 * empty_.size();
  if (width < kIndent.size()) {
    out_.append(kIndent.data(), width + 1);
  } else {
    out_ += '\n';
    out_.append(width, ' ');
  }
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (empty_.empty()) return;  // the top-level value
  if (!empty_.back()) out_ += ',';
  empty_.back() = false;
  newline();
}

JsonWriter& JsonWriter::open(char c) {
  before_value();
  out_ += c;
  empty_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::close(char c) {
  bool was_empty = empty_.back();
  empty_.pop_back();
  if (!was_empty) newline();
  out_ += c;
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  before_value();
  // A key is a short plain word: quoted, with its colon, in one append.
  char buf[64];
  if (k.size() + 4 <= sizeof buf && plain_run_end(k, 0) == k.size()) {
    buf[0] = '"';
    if (!k.empty()) std::memcpy(buf + 1, k.data(), k.size());
    std::memcpy(buf + 1 + k.size(), "\": ", 3);
    out_.append(buf, k.size() + 4);
  } else {
    string(k);
    out_ += ": ";
  }
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  before_value();
  string(s);
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t n) {
  before_value();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, end);
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t n) {
  before_value();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, end);
  return *this;
}

JsonWriter& JsonWriter::value(double d) {
  before_value();
  if (!std::isfinite(d)) {
    out_ += "null";
    return *this;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip, no locale
  out_.append(buf, end);
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  before_value();
  // Re-indent a multi-line value to the current depth.
  std::string pad(2 * empty_.size(), ' ');
  for (char c : json) {
    out_ += c;
    if (c == '\n') out_ += pad;
  }
  return *this;
}

void append_json_string(std::string& out_, std::string_view s) {
  size_t i = plain_run_end(s, 0);
  if (i == s.size()) {  // nothing to escape, as nearly always: quotes and text in one go
    const size_t at = out_.size();
    out_.resize(at + s.size() + 2);
    out_[at] = '"';
    if (!s.empty()) std::memcpy(out_.data() + at + 1, s.data(), s.size());  // data() may be null
    out_[at + 1 + s.size()] = '"';
    return;
  }
  out_ += '"';
  out_.append(s.data(), i);
  while (i < s.size()) {
    // Runs of plain bytes go in with one append; only the rest is looked at byte by byte.
    size_t run = plain_run_end(s, i);
    if (run > i) {
      out_.append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        case '\b':
          out_ += "\\b";
          break;
        case '\f':
          out_ += "\\f";
          break;
        default: {  // the other control characters
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out_ += buf;
        }
      }
      ++i;
      continue;
    }
    // A UTF-8 sequence: copied when well-formed (RFC 3629: no overlongs, no surrogates, nothing
    // above U+10FFFF), else one U+FFFD for the bad byte.
    size_t len = well_formed_utf8(s.substr(i));
    if (len > 0) {
      out_.append(s.substr(i, len));
      i += len;
    } else {
      out_ += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out_ += '"';
}

void JsonWriter::string(std::string_view s) {
  append_json_string(out_, s);
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t extra;  // continuation bytes after the lead byte
    if (c < 0x80)
      extra = 0;
    else if ((c >> 5) == 0x6)
      extra = 1;
    else if ((c >> 4) == 0xe)
      extra = 2;
    else if ((c >> 3) == 0x1e)
      extra = 3;
    else
      return false;
    if (i + extra >= s.size()) return false;
    for (size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace portman
