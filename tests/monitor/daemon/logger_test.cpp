#include "monitor/daemon/logger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using ctmon::is_journal_stream;
using ctmon::Logger;

namespace {

std::string dev_ino(int fd) {
  struct stat st {};
  REQUIRE(fstat(fd, &st) == 0);
  return std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
         std::to_string(static_cast<unsigned long long>(st.st_ino));
}

// A temporary file standing in for the daemon's stderr while it exists.
class StderrToFile {
 public:
  StderrToFile() {
    char name[] = "/tmp/ctmon-logger-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    path_ = name;
    std::fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    REQUIRE(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
    close(fd);
  }
  ~StderrToFile() {
    std::fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    std::remove(path_.c_str());
  }
  StderrToFile(const StderrToFile&) = delete;
  StderrToFile& operator=(const StderrToFile&) = delete;

  [[nodiscard]] std::string text() const {
    std::fflush(stderr);
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string path_;
  int saved_ = -1;
};

// Sets or unsets $JOURNAL_STREAM for one scope.
class JournalStreamEnv {
 public:
  explicit JournalStreamEnv(const char* value) {
    if (const char* old = std::getenv("JOURNAL_STREAM")) old_ = old, had_ = true;
    if (value != nullptr)
      setenv("JOURNAL_STREAM", value, 1);
    else
      unsetenv("JOURNAL_STREAM");
  }
  ~JournalStreamEnv() {
    if (had_)
      setenv("JOURNAL_STREAM", old_.c_str(), 1);
    else
      unsetenv("JOURNAL_STREAM");
  }
  JournalStreamEnv(const JournalStreamEnv&) = delete;
  JournalStreamEnv& operator=(const JournalStreamEnv&) = delete;

 private:
  std::string old_;
  bool had_ = false;
};

}  // namespace

TEST_CASE("JOURNAL_STREAM names the stream only when device and inode match fstat") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const std::string mine = dev_ino(fds[1]);
  CHECK(is_journal_stream(fds[1], mine.c_str()));
  CHECK_FALSE(is_journal_stream(fds[1], nullptr));
  CHECK_FALSE(is_journal_stream(fds[1], ""));
  CHECK_FALSE(is_journal_stream(fds[1], (mine + "0").c_str()));
  CHECK_FALSE(is_journal_stream(fds[1], ("1" + mine).c_str()));
  CHECK_FALSE(is_journal_stream(fds[1], (mine + ":").c_str()));
  CHECK_FALSE(is_journal_stream(fds[1], mine.substr(0, mine.find(':')).c_str()));
  CHECK_FALSE(is_journal_stream(fds[1], ("-" + mine).c_str()));
  CHECK_FALSE(is_journal_stream(fds[1], " 1:2"));

  // Another pipe (as when a journald-logged service's child writes to its own pipe).
  int other[2];
  REQUIRE(pipe(other) == 0);
  CHECK_FALSE(is_journal_stream(other[1], mine.c_str()));
  for (const int fd : {fds[0], fds[1], other[0], other[1]}) close(fd);
  CHECK_FALSE(is_journal_stream(fds[1], mine.c_str()));  // closed
}

TEST_CASE("stderr redirected to a file gets plain lines, without <N> priority prefixes") {
  const JournalStreamEnv env(nullptr);
  const StderrToFile err;
  Logger log;
  log.info("sampling started");
  log.warning("a warning");
  log.error("an error");
  CHECK(err.text() == "sampling started\nwarning: a warning\nerror: an error\n");
}

TEST_CASE("JOURNAL_STREAM inherited from a service but naming another stream gives plain lines") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const JournalStreamEnv env(dev_ino(fds[1]).c_str());
  close(fds[0]);
  close(fds[1]);
  const StderrToFile err;
  Logger log;
  log.info("sampling started");
  CHECK(err.text() == "sampling started\n");
}

TEST_CASE("stderr that is journald's stream gets <N> priority prefixes") {
  const StderrToFile err;
  const JournalStreamEnv env(dev_ino(STDERR_FILENO).c_str());
  Logger log(false, true);
  log.info("sampling started");
  log.warning("a warning");
  log.error("an error");
  log.debug("details");
  CHECK(err.text() == "<6>sampling started\n<4>warning: a warning\n<3>error: an error\n<7>debug: details\n");
}
