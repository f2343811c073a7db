#include "monitor/daemon/status_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/monitor/store/temp_dir.h"

namespace ctmon {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_CASE("the pid file is written whole, and a folder is created for it") {
  store::testing::TempDir dir;
  const std::string path = (dir / "run/ctmon.status").string();
  REQUIRE(write_status_file(path, {{"pid", 42}}).empty());
  CHECK(read_text(path) == "{\"pid\":42}\n");
  REQUIRE(write_status_file(path, {{"pid", 43}}).empty());
  CHECK(read_text(path) == "{\"pid\":43}\n");
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777 & ~0640) == 0);  // the group may read, others nothing (umask may narrow)
}

TEST_CASE("a symlink planted at the temporary name is removed, never written through") {
  store::testing::TempDir dir;
  const std::string victim = (dir / "victim").string();
  std::ofstream(victim) << "precious\n";
  const std::string path = (dir / "ctmon.status").string();
  REQUIRE(::symlink(victim.c_str(), (path + ".tmp").c_str()) == 0);
  REQUIRE(write_status_file(path, {{"pid", 7}}).empty());
  CHECK(read_text(victim) == "precious\n");
  CHECK(read_text(path) == "{\"pid\":7}\n");
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
}

TEST_CASE("a folder that cannot be written is an error text, not an exception") {
  store::testing::TempDir dir;
  const std::string blocked = (dir / "file-not-folder").string();
  std::ofstream(blocked) << "x";
  const std::string error = write_status_file(blocked + "/ctmon.status", {{"pid", 1}});
  CHECK(error.find("cannot create " + blocked + "/ctmon.status.tmp") != std::string::npos);
}

}  // namespace
}  // namespace ctmon
