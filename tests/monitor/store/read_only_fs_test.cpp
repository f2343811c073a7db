// A database on a file system that is really read-only: a tmpfs the test mounts, fills and
// remounts read-only (root only; the test exits with 77, "skipped", otherwise). ctest label
// `integration;store_fs`. The mount is removed whatever happens.

#include <unistd.h>

#include <catch2/catch.hpp>

#include "monitor/store/database.h"
#include "monitor/store/sqlite_handle.h"
#include "monitor/user_error.h"
#include "temp_dir.h"

using namespace ctmon;
using namespace ctmon::store;
using ctmon::store::testing::SmallTmpfs;

TEST_CASE("on a read-only file system the daemon says so in one line and readers still read") {
  if (::geteuid() != 0) {
    WARN("not root: cannot mount a tmpfs; skipped");
    std::exit(77);
  }
  SmallTmpfs fs("4m");
  REQUIRE(fs.mounted());
  const auto path = fs.path() / "ctmon.db";
  {
    const Database db = Database::open(path);
    exec(db.handle(), "INSERT INTO meta VALUES ('host', 'router')");
  }  // a clean close: no -wal, no -shm left
  REQUIRE(fs.remount(true));

  try {
    (void)Database::open(path);
    FAIL("opened for writing on a read-only file system");
  } catch (const UserError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("read-only file system") != std::string::npos);
    CHECK(msg.find("--reset-db") == std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }

  const Database reader = Database::open(path, reader_options());
  Statement st(reader.handle(), "SELECT value FROM meta WHERE key = 'host'");
  REQUIRE(st.step());
  CHECK(st.text(0) == "router");
  REQUIRE(fs.remount(false));
}
