// owners.method: which owner source runs, what is refused, and how the choice is reported. No
// BPF needed here: what needs the kernel to load the program is in tests/unit/bpf.
#include <catch2/catch.hpp>

#include "unit/support.hpp"

#include <unistd.h>

#include <filesystem>
#include <string>

#include "collectors/owner_bpf.hpp"
#include "collectors/owners.hpp"
#include "libportman/source_settings.hpp"

using namespace portman;

namespace {

const std::filesystem::path kWalkTree =
    std::filesystem::path(PORTMAN_FIXTURES_DIR) / "procfs_owners" / "walk";

SourceSettings owners_settings(const std::string& method) {
  SourceSettings s{"owners", owners_options()};
  if (!method.empty()) s.set("method", method, "--owners.method");
  return s;
}

LiveState one_socket(std::uint64_t inode, std::uint16_t port) {
  LiveState state;
  ListeningSocket s;
  s.address = "0.0.0.0";
  s.port = port;
  s.inode = inode;
  s.netns = "net:[4026531840]";
  state.sockets.push_back(s);
  return state;
}

}  // namespace

TEST_CASE("owners.method: auto by default and anything but auto bpf procfs is refused") {
  CollectorOptions shared;
  SourceSettings dflt = owners_settings("");
  CHECK(dflt.text("method") == "auto");
  CHECK(make_owners_from_settings({shared, dflt}).ok());
  CHECK(make_owners_from_settings({shared, owners_settings("procfs")}).ok());

  auto bad = make_owners_from_settings({shared, owners_settings("ebpf")});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::bad_input);
  CHECK(bad.error().message ==
        "owners.method (from --owners.method): \"ebpf\" is not one of auto, bpf, procfs");
}

TEST_CASE("owners.method bpf is refused by a portman built without BPF and taken by one with it") {
  auto made = make_owners_from_settings({CollectorOptions{}, owners_settings("bpf")});
  if (bpf_owner_source_built()) {
    CHECK(made.ok());
  } else {
    REQUIRE_FALSE(made.ok());
    CHECK_THAT(made.error().message, Catch::Contains("built without BPF"));
    CHECK_THAT(made.error().message, Catch::Contains("valid here: auto, procfs"));
  }
}

TEST_CASE("owners.method auto on a procfs that is not /proc walks it and says so") {
  CollectorOptions options;
  options.procfs = kWalkTree;
  LiveState state = one_socket(1001, 22);
  REQUIRE(make_owners_collector(options, "auto")->collect({}, state).ok());
  CHECK(state.owner_source == "procfs");
  CHECK_THAT(state.owner_source_fallback, Catch::Contains("--path.procfs"));
  REQUIRE(state.sockets[0].owners.size() == 1);
  CHECK(state.sockets[0].owners[0].pid == 100);
  REQUIRE(state.samples.size() == 1);
  CHECK(state.samples[0].spec == &kOwnerSourceInfoMetric);
  CHECK(state.samples[0].labels == std::vector<std::string>{"procfs"});
  CHECK(state.samples[0].value == 1.0);
}

TEST_CASE("owners.method procfs walks even where BPF would load with no fallback to explain") {
  LiveState state = one_socket(1, 22);  // an inode nobody holds: the walk reads all of /proc
  REQUIRE(make_owners_collector(CollectorOptions{}, "procfs")->collect({}, state).ok());
  CHECK(state.owner_source == "procfs");
  CHECK(state.owner_source_fallback.empty());
  CHECK(state.sockets[0].owners.empty());
}

TEST_CASE("owners.method bpf on a procfs that is not /proc is a one-line error") {
  if (!bpf_owner_source_built()) portman::test::skip_test("built without BPF");
  CollectorOptions options;
  options.procfs = kWalkTree;
  LiveState state = one_socket(1001, 22);
  Status st = make_owners_collector(options, "bpf")->collect({}, state);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error().message, Catch::StartsWith("owners.method bpf: --path.procfs "));
  CHECK(st.error().message.find('\n') == std::string::npos);
  CHECK(state.owner_source.empty());
  CHECK(state.sockets[0].owners.empty());
}

TEST_CASE("an owner collector that is not asked for owners reports no source") {
  LiveState state = one_socket(1001, 22);
  ScanScope scope;
  scope.owners = false;
  REQUIRE(make_owners_collector(CollectorOptions{}, "auto")->collect(scope, state).ok());
  CHECK(state.owner_source.empty());
  CHECK(state.samples.empty());
}

TEST_CASE("netns_inode reads the inode of a net namespace link and nothing else") {
  CHECK(netns_inode("net:[4026531840]") == 4026531840u);
  CHECK(netns_inode("net:[1]") == 1u);
  CHECK_FALSE(netns_inode(""));
  CHECK_FALSE(netns_inode("net:[]"));
  CHECK_FALSE(netns_inode("net:[12x]"));
  CHECK_FALSE(netns_inode("pid:[4026531836]"));
  CHECK_FALSE(netns_inode("net:[99999999999]"));  // beyond 32 bits: not an inode number here
  CHECK_FALSE(netns_inode("net:[4026531840"));
}

TEST_CASE("a loaded BPF filter covers a narrower need and not a wider one") {
  BpfOwnerFilter any;
  BpfOwnerFilter host{.netns = 7};
  BpfOwnerFilter port{.netns = 7, .port = 80};
  BpfOwnerFilter first{.netns = 7, .port = 80, .first_only = true};
  CHECK(any.covers(host));
  CHECK(any.covers(port));
  CHECK(host.covers(port));
  CHECK_FALSE(port.covers(host));  // a program for port 80 misses the others
  CHECK_FALSE(host.covers(any));   // one namespace misses the netns collector's sockets
  CHECK_FALSE(port.covers(BpfOwnerFilter{.netns = 7, .port = 81}));
  CHECK(port.covers(first));
  CHECK_FALSE(first.covers(port));  // first-only would drop co-owners
}

TEST_CASE("one iteration's records answer a query: its sockets only, one holder per process") {
  // Socket 100: pid 30 by fds 9 and 4 (dup'ed), pid 7 by fd 5; socket 200 is not asked about;
  // socket 300 is asked about and held by nobody.
  const BpfRecords records{{
      {100, {30, 9}, {"nginx"}, 0},
      {200, {8, 3}, {"other"}, 1},
      {100, {7, 5}, {"sshd"}, std::nullopt},
      {100, {30, 4}, {"nginx"}, 0},
  }};
  OwnerQuery query;
  query.inodes = {100, 300};
  OwnerFindings found = holders_of(records, query);
  // One entry per (socket, process), by inode then pid: socket 300 has none, 200 was not asked.
  CHECK(found.holders == std::vector<HeldBy>{{100, {7, 5}}, {100, {30, 4}}});
  CHECK(found.of(100) == std::vector<Holding>{{7, 5}, {30, 4}});
  CHECK(found.of(300).empty());
  CHECK(found.of(200).empty());
  OwnerQuery unsorted;  // the collector asks in inode order; any order gives the same answer
  unsorted.inodes = {300, 100};
  CHECK(holders_of(records, unsorted).holders == found.holders);
  CHECK(found.unreadable == 0);
  // What the iterator saw of each holder comes along, for holders of the sockets asked about.
  REQUIRE(found.facts.size() == 2);
  CHECK(found.facts.at(30).comm == "nginx");
  CHECK(found.facts.at(30).euid == uid_t{0});
  CHECK(found.facts.at(7).comm == "sshd");
  CHECK_FALSE(found.facts.at(7).euid);
  CHECK(found.facts.count(8) == 0);
}
