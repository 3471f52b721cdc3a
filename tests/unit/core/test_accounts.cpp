// User and group names from passwd and group text, and from a --path.rootfs tree
// (tests/fixtures/rootfs): the host's names, not this system's.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "libportman/accounts.hpp"

using namespace portman;

namespace {
const std::filesystem::path kRootfs = std::filesystem::path(PORTMAN_FIXTURES_DIR) / "rootfs";
}

TEST_CASE("parse_id_names reads name and id of passwd lines") {
  IdNames names = parse_id_names(
      "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n");
  CHECK(names.size() == 2);
  CHECK(names.at(0) == "root");
  CHECK(names.at(33) == "www-data");
}

TEST_CASE("parse_id_names reads group lines and a last line without newline") {
  IdNames names = parse_id_names("root:x:0:\nportman:x:998:alice,bob\ndocker:x:997");
  CHECK(names.at(0) == "root");
  CHECK(names.at(998) == "portman");
  CHECK(names.at(997) == "docker");
}

TEST_CASE("parse_id_names skips comments and blank and NIS and malformed lines") {
  IdNames names = parse_id_names(
      "# comment\n\n+nis::::::\n-other::::::\nno colons\nnoid:x::1::/:/bin/false\n"
      "badid:x:12a:1::/:/bin/false\nneg:x:-1:1::/:/bin/false\nbig:x:99999999999:1::/:/bin/false\n"
      ":x:5:5::/:/bin/false\nshort:x\nok:x:7:7::/:/bin/sh\n");
  CHECK(names.size() == 1);
  CHECK(names.at(7) == "ok");
}

TEST_CASE("parse_id_names keeps the first name of an id as getpwuid does") {
  IdNames names = parse_id_names("first:x:1000:1000::/:/bin/sh\nsecond:x:1000:1000::/:/bin/sh\n");
  CHECK(names.at(1000) == "first");
}

TEST_CASE("parse_id_names drops a carriage return before the newline") {
  IdNames names = parse_id_names("dos:x:5:5::/:/bin/sh\r\n");
  CHECK(names.at(5) == "dos");
  CHECK(parse_id_names("dosid:x:6\r\n").at(6) == "dosid");
}

TEST_CASE("parse_id_names of empty text is empty") {
  CHECK(parse_id_names("").empty());
  CHECK(parse_id_names("\n\n").empty());
}

TEST_CASE("Accounts from text answer from the text only") {
  Accounts a = Accounts::from_text("hostweb:x:33:33::/:/bin/false\n", "hostgrp:x:33:\n");
  CHECK(a.from_files());
  CHECK(a.user(33) == "hostweb");
  CHECK(a.group(33) == "hostgrp");
  // root is in every system's database, but not in this text.
  CHECK_FALSE(a.user(0).has_value());
  CHECK_FALSE(a.group(0).has_value());
}

TEST_CASE("Accounts from a rootfs tree name users and groups from its etc files") {
  auto a = Accounts::from_rootfs(kRootfs / "host");
  REQUIRE(a.ok());
  CHECK(a->from_files());
  CHECK(a->user(33) == "hostweb");
  CHECK(a->user(1000) == "dokploy");
  CHECK(a->user(999) == "redis");
  CHECK(a->user(1001) == "crlf");
  CHECK(a->user(1002) == "crlf2");
  CHECK_FALSE(a->user(12).has_value());
  CHECK(a->group(998) == "portman");
  CHECK(a->group(33) == "hostweb");
}

TEST_CASE("Accounts from a rootfs without etc/group still name users") {
  auto a = Accounts::from_rootfs(kRootfs / "nogroup");
  REQUIRE(a.ok());
  CHECK(a->user(0) == "root");
  CHECK_FALSE(a->group(0).has_value());
}

TEST_CASE("Accounts from a rootfs without etc/passwd is refused with the path") {
  auto a = Accounts::from_rootfs(kRootfs / "missing");
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().kind == ErrorKind::bad_input);
  const std::string& msg = a.error().message;
  CHECK(msg.find("--path.rootfs") != std::string::npos);
  CHECK(msg.find((kRootfs / "missing" / "etc/passwd").string()) != std::string::npos);
}

TEST_CASE("Accounts from rootfs / ask this system's databases") {
  for (const char* root : {"/", "//", ""}) {
    auto a = Accounts::from_rootfs(root);
    REQUIRE(a.ok());
    CHECK_FALSE(a->from_files());
    CHECK(a->user(::getuid()) == user_name(::getuid()));
  }
  CHECK(Accounts{}.user(0) == user_name(0));
  CHECK(Accounts{}.group(0) == group_name(0));
  CHECK(is_own_root("/"));
  CHECK_FALSE(is_own_root("/host"));
}

TEST_CASE("Accounts from a rootfs read the files again after they are replaced") {
  char tmpl[] = "/tmp/pm-accounts-XXXXXX";
  REQUIRE(::mkdtemp(tmpl));
  const std::filesystem::path root = tmpl;
  std::filesystem::create_directories(root / "etc");
  auto write = [&](const std::string& name, const std::string& text) {
    // As useradd does: a new file renamed over the old one.
    std::ofstream(root / "etc" / (name + ".new")) << text;
    std::filesystem::rename(root / "etc" / (name + ".new"), root / "etc" / name);
  };
  write("passwd", "root:x:0:0::/root:/bin/sh\n");
  auto a = Accounts::from_rootfs(root);
  REQUIRE(a.ok());
  CHECK_FALSE(a->user(1500).has_value());
  CHECK_FALSE(a->refresh());  // unchanged

  write("passwd", "root:x:0:0::/root:/bin/sh\nlate:x:1500:1500::/home/late:/bin/sh\n");
  CHECK(a->refresh());
  CHECK(a->user(1500) == "late");
  CHECK_FALSE(a->refresh());

  write("group", "late:x:1500:\n");  // a group file that appears counts as a change
  CHECK(a->refresh());
  CHECK(a->group(1500) == "late");

  // A passwd that cannot be read keeps the names read before.
  std::filesystem::remove(root / "etc/passwd");
  CHECK_FALSE(a->refresh());
  CHECK(a->user(1500) == "late");
  std::filesystem::remove_all(root);

  Accounts system;
  CHECK_FALSE(system.refresh());
  Accounts text = Accounts::from_text("x:x:1:1::/:/bin/sh\n", "");
  CHECK_FALSE(text.refresh());
}
