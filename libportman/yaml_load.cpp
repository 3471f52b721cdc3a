#include "libportman/yaml_load.hpp"

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include "libportman/limits.hpp"

namespace portman {
namespace {

struct OverLimit {
  YAML::Mark mark;
  std::string what;
};

// Counts the nodes of the document as a walk would see them (an alias counts as the whole node
// it names) and its nesting, from the parser's events: nothing is built, nothing expanded.
class LimitCheck : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    // An anchor still open is an alias to a node that contains it: endless to a walk.
    if (anchor >= sizes_.size() || sizes_[anchor] == 0)
      throw OverLimit{mark, "an alias inside the node it names makes an endless document"};
    add(mark, sizes_[anchor]);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    std::uint64_t total_before;  // nodes counted before this one opened
  };

  void add(const YAML::Mark& mark, std::uint64_t nodes) {
    total_ += nodes;
    if (total_ > kMaxYamlNodes)
      throw OverLimit{mark, "the document expands through its aliases to more than " +
                                std::to_string(kMaxYamlNodes) +
                                " nodes, the most portman reads (nested aliases?)"};
  }
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(mark, 1);
    name(anchor, 1);
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (open_.size() >= static_cast<std::size_t>(kMaxNestingDepth))
      throw OverLimit{mark, "nested deeper than " + std::to_string(kMaxNestingDepth) +
                                " levels, the most portman reads"};
    if (anchor != YAML::NullAnchor) name(anchor, 0);  // open: an alias to it now is a loop
    open_.push_back({anchor, total_});
    add(mark, 1);
  }
  void close() {
    Open o = open_.back();
    open_.pop_back();
    name(o.anchor, total_ - o.total_before);
  }
  void name(YAML::anchor_t anchor, std::uint64_t size) {
    if (anchor == YAML::NullAnchor) return;
    if (anchor >= sizes_.size()) sizes_.resize(anchor + 1, 0);
    sizes_[anchor] = size;
  }

  std::vector<Open> open_;
  std::vector<std::uint64_t> sizes_;  // by anchor: nodes it stands for; 0 while open
  std::uint64_t total_ = 0;
};

Error at(std::string_view source, const YAML::Mark& mark, const std::string& what) {
  std::string where(source);
  if (!mark.is_null())
    where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  return make_error(ErrorKind::invalid_data, where + ": " + what);
}

}  // namespace

Result<YAML::Node> load_yaml(std::string_view text, std::string_view source) {
  if (text.size() > kConfigMaxBytes)
    return make_error(ErrorKind::invalid_data, std::string(source) + ": larger than " +
                                                   std::to_string(kConfigMaxBytes) +
                                                   " bytes, the most portman reads of a YAML file");
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    LimitCheck check;
    parser.HandleNextDocument(check);
    return YAML::Load(std::string(text));
  } catch (const OverLimit& e) {
    return at(source, e.mark, e.what);
  } catch (const YAML::Exception& e) {
    return at(source, e.mark, "YAML syntax error: " + e.msg);
  }
}

}  // namespace portman
