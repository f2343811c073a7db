#include "monitor/notify/exec_hook.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include <catch2/catch.hpp>

#include "monitor/clock.h"
#include "monitor/user_error.h"
#include "tests/monitor/store/temp_dir.h"

namespace ctmon::notify {
namespace {

using store::testing::TempDir;

std::string write_script(const TempDir& dir, const char* name, const std::string& body) {
  const std::string path = (dir / name).string();
  std::ofstream(path) << "#!/bin/sh\n" << body;
  ::chmod(path.c_str(), 0755);
  return path;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

nlohmann::json event(int id) {
  return {{"id", id},         {"start", "2026-12-04T10:00:01Z"}, {"end", nullptr}, {"start_ts", 1.0},
          {"end_ts", nullptr}, {"score", 0.5},                   {"kind", "scan"}, {"counters", nlohmann::json::array()},
          {"summary", "s"},    {"detectors", {"point"}}};
}

struct Logged {
  std::vector<std::string> lines;
  io::LogSink sink() {
    return [this](io::Severity, const std::string& line) { lines.push_back(line); };
  }
  [[nodiscard]] std::size_t count(const std::string& fragment) const {
    return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.find(fragment) != std::string::npos;
    }));
  }
};

// The daemon's loop in miniature: want(), poll, pump(), until `done` or `timeout_s`.
bool drive(ExecHook& hook, const std::function<bool()>& done, double timeout_s) {
  const std::int64_t deadline = clock_ns(CLOCK_MONOTONIC) + static_cast<std::int64_t>(timeout_s * 1e9);
  std::vector<pollfd> fds;
  for (std::int64_t now = clock_ns(CLOCK_MONOTONIC); now < deadline; now = clock_ns(CLOCK_MONOTONIC)) {
    fds.clear();
    const std::int64_t due = hook.want(fds, now);
    const std::int64_t wait_ns = std::clamp<std::int64_t>(due == io::kNever ? deadline - now : due - now, 0, deadline - now);
    (void)::poll(fds.data(), fds.size(), static_cast<int>(wait_ns / 1'000'000 + 1));
    hook.pump(clock_ns(CLOCK_MONOTONIC));
    if (done()) return true;
  }
  return false;
}

status::NotifierStatus status_of(const ExecHook& hook) {
  status::DaemonStatus s;
  hook.report(s);
  REQUIRE(s.notifiers.size() == 1);
  return s.notifiers[0];
}

TEST_CASE("the hook gets the episode in its environment and on stdin, and nothing else") {
  TempDir dir;
  const std::string out = (dir / "out").string();
  const std::string path = write_script(dir, "hook", "env > '" + out + ".env'\ncat > '" + out + ".in'\n");
  Logged log;
  ExecHook hook({path, 5, "gw"}, log.sink());
  hook.enqueue(event(7), EpisodeState::kOpen);
  REQUIRE(drive(hook, [&] { return status_of(hook).delivered == 1; }, 10));
  CHECK(nlohmann::json::parse(slurp(out + ".in")) == event(7));
  const std::string env = slurp(out + ".env");
  CHECK(env.find("CTMON_STATE=open\n") != std::string::npos);
  CHECK(env.find("CTMON_ID=7\n") != std::string::npos);
  CHECK(env.find("CTMON_HOST=gw\n") != std::string::npos);
  CHECK(env.find("CTMON_INFLUX_TOKEN") == std::string::npos);
  CHECK(env.find("HOME=") == std::string::npos);
  const auto s = status_of(hook);
  CHECK(s.name == "exec");
  CHECK(s.state == "ok");
  CHECK(s.failed == 0);
  CHECK(s.last_success_wall_ns > 0);
  CHECK(hook.running() == 0);
}

TEST_CASE("a failing hook is logged once per kind of failure, and its recovery once") {
  TempDir dir;
  const std::string flag = (dir / "ok").string();
  const std::string path = write_script(dir, "hook", "[ -e '" + flag + "' ] && exit 0\nexit 3\n");
  Logged log;
  ExecHook hook({path, 5, "gw"}, log.sink());
  for (int id = 1; id <= 3; ++id) hook.enqueue(event(id), EpisodeState::kOpen);
  REQUIRE(drive(hook, [&] { return status_of(hook).failed == 3 && hook.running() == 0; }, 10));
  CHECK(log.count("exited with status 3") == 1);
  CHECK(status_of(hook).state == "exit status");
  CHECK(status_of(hook).detail.find("status 3") != std::string::npos);
  std::ofstream{flag};
  hook.enqueue(event(4), EpisodeState::kClose);
  REQUIRE(drive(hook, [&] { return status_of(hook).delivered == 1; }, 10));
  CHECK(log.count("works again") == 1);
}

TEST_CASE("a hook that hangs is stopped at the timeout, with what it started, even if it ignores SIGTERM") {
  TempDir dir;
  const std::string pidfile = (dir / "grandchild").string();
  // The daemon blocks SIGTERM for its signalfd; the hook must not inherit that.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t before;
  REQUIRE(sigprocmask(SIG_BLOCK, &term, &before) == 0);
  Logged log;
  const std::string polite = write_script(dir, "polite", "sleep 60 & echo $! > '" + pidfile + "'\nwait\n");
  ExecHook hook({polite, 0.3, "gw"}, log.sink());
  hook.enqueue(event(1), EpisodeState::kOpen);
  const std::int64_t started = clock_ns(CLOCK_MONOTONIC);
  REQUIRE(drive(hook, [&] { return status_of(hook).failed == 1 && hook.running() == 0; }, 10));
  const double took_s = static_cast<double>(clock_ns(CLOCK_MONOTONIC) - started) / 1e9;
  CHECK(took_s < 1.5);  // SIGTERM did it, not the SIGKILL 2 s later
  CHECK(log.count("did not finish within 300ms") == 1);
  CHECK(status_of(hook).state == "timed out");
  // The sleep it started was in its process group: gone too (reaped by init; give it a moment).
  const std::string grandchild = slurp(pidfile);
  REQUIRE(!grandchild.empty());
  const std::string proc = "/proc/" + grandchild.substr(0, grandchild.find('\n'));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::ifstream stat(proc + "/stat");
    std::string line;
    gone = !std::getline(stat, line) || line.find(") Z ") != std::string::npos;
    if (!gone) ::poll(nullptr, 0, 20);
  }
  CHECK(gone);

  const std::string stubborn = write_script(dir, "stubborn", "trap '' TERM\nwhile :; do sleep 0.05; done\n");
  ExecHook hard({stubborn, 0.2, "gw"}, log.sink());
  hard.enqueue(event(2), EpisodeState::kOpen);
  REQUIRE(drive(hard, [&] { return status_of(hard).failed == 1 && hard.running() == 0; }, 10));
  CHECK(status_of(hard).state == "timed out");
  sigprocmask(SIG_SETMASK, &before, nullptr);
}

TEST_CASE("at most kMaxRunning hooks run at once; the others wait their turn") {
  TempDir dir;
  const std::string path = write_script(dir, "slow", "sleep 0.3\n");
  Logged log;
  ExecHook hook({path, 5, "gw"}, log.sink());
  for (int id = 1; id <= 6; ++id) hook.enqueue(event(id), EpisodeState::kOpen);
  std::size_t most = 0;
  REQUIRE(drive(hook, [&] {
    most = std::max(most, hook.running());
    return status_of(hook).delivered == 6;
  }, 10));
  CHECK(most == ExecHook::kMaxRunning);
  CHECK(log.lines.size() == 1);  // the start line only
}

TEST_CASE("a path that cannot be run is refused at start, in one line") {
  TempDir dir;
  const std::string plain = (dir / "plain").string();
  std::ofstream(plain) << "#!/bin/sh\n";
  CHECK_THROWS_WITH(ExecHook({plain, 5, "gw"}, {}), Catch::Contains("not executable") && Catch::Contains(plain));
  CHECK_THROWS_WITH(ExecHook({(dir / "missing").string(), 5, "gw"}, {}), Catch::Contains("No such file"));
  CHECK_THROWS_WITH(ExecHook({dir.path().string(), 5, "gw"}, {}), Catch::Contains("not a regular file"));
}

TEST_CASE("a script whose interpreter is missing is a failure that says so") {
  TempDir dir;
  const std::string path = (dir / "hook").string();
  std::ofstream(path) << "#!/nonexistent/interpreter\n";
  ::chmod(path.c_str(), 0755);
  Logged log;
  ExecHook hook({path, 5, "gw"}, log.sink());
  hook.enqueue(event(1), EpisodeState::kOpen);
  REQUIRE(drive(hook, [&] { return status_of(hook).failed == 1 && hook.running() == 0; }, 10));
  CHECK(status_of(hook).state == "cannot run");
  // posix_spawn reports the failed exec itself on a kernel; under qemu-user (the s390x tests)
  // it cannot, and the child exits 127 instead. Either way the owner is told once, and why.
  CHECK(log.count("cannot run it") + log.count("interpreter was not found") == 1);
}

TEST_CASE("with notify.exec empty, nothing is constructed") {
  Config config;
  CHECK(make_exec_output(config, {}) == nullptr);
}

}  // namespace
}  // namespace ctmon::notify
