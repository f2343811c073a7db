#pragma once
// `[notify] exec`: a program the owner chose, run when an episode opens and when it closes, as
// an output of the daemon (io/output.h). Off (never constructed) while notify.exec is empty.
//
// How it is run, and why:
//   - posix_spawn of the path itself, argv = [path], no shell: nothing of the episode (whose
//     summary names counters that came from the kernel) is ever parsed by a shell.
//   - The environment is hook_env.h's and nothing else, so the daemon's own variables (an
//     InfluxDB token) never reach it. Signals are reset: default dispositions, empty mask (the
//     daemon blocks SIGTERM for its signalfd, which the child would otherwise inherit, and then
//     the timeout could not stop it).
//   - stdin is the events JSON line in an anonymous in-memory file (memfd), written whole
//     before the spawn: the daemon never waits for a hook to read, and a hook that does not read
//     cannot make it block or take a SIGPIPE. stdout goes to /dev/null (curl's answers would
//     flood the log); stderr is the daemon's, so a hook's complaints reach its log.
//   - Each run is its own process group, so the timeout stops what it started too: at
//     exec_timeout SIGTERM to the group, 2 s later SIGKILL.
//   - Reaped from the poll loop: a pidfd per child (Linux 5.3+) is a descriptor the loop waits
//     for; where there is none, the loop looks every 100 ms while a hook runs. Nothing is
//     installed for SIGCHLD.
//   - At most kMaxRunning at once; later runs wait in order (at most kMaxWaiting; past that a
//     run is dropped, and that is logged once).
//   - A failure (exit status not 0, killed at the timeout, cannot be run) is logged once per
//     kind of failure, and its end once; every run is counted in report().
// An episode still open at a restart was announced by the run before: start() does not run the
// hook again, and its close runs it once.

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/io/condition_log.h"
#include "monitor/io/log_sink.h"
#include "monitor/io/output.h"
#include "monitor/notify/hook_env.h"

namespace ctmon::notify {

struct ExecHookConfig {
  std::string path;        ///< absolute
  double timeout_s = 10;
  std::string host;        ///< CTMON_HOST
};

/// Why a run failed, for logging each kind once.
enum class HookFailure { kCannotRun, kExitStatus, kKilledBySignal, kTimedOut };

class ExecHook : public io::Output {
 public:
  static constexpr std::size_t kMaxRunning = 4;
  static constexpr std::size_t kMaxWaiting = 64;
  static constexpr std::int64_t kKillGrace_ns = 2'000'000'000;

  /// Throws UserError when `config.path` is not an executable regular file.
  ExecHook(ExecHookConfig config, io::LogSink log);
  ~ExecHook() override;
  ExecHook(const ExecHook&) = delete;
  ExecHook& operator=(const ExecHook&) = delete;

  [[nodiscard]] std::string_view name() const override { return "notify.exec"; }
  void on_sample(const io::SampleView& view) override { (void)view; }
  void on_episode(const Episode& episode, EpisodeChange change, const io::SampleView& view) override;
  std::int64_t want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) override;
  void pump(std::int64_t now_mono_ns) override;
  bool finish(const Analyzer& analyzer, std::int64_t now_mono_ns) override;
  void report(status::DaemonStatus& status) const override;

  /// Queues one run for `event` (an events-contract object). For on_episode() and tests.
  void enqueue(const nlohmann::json& event, EpisodeState state);

  /// Runs started and not yet reaped.
  [[nodiscard]] std::size_t running() const { return running_.size(); }

 private:
  struct Run {
    std::vector<std::string> env;
    std::string stdin_text;
    std::string what;  // "episode 12 (open)", for log lines
  };
  struct Child;

  void start(Run run, std::int64_t now_mono_ns);
  void finished(Child& child, int wait_status);
  void failed(HookFailure failure, const std::string& detail);

  ExecHookConfig config_;
  io::LogSink log_;
  std::deque<Run> waiting_;
  std::vector<std::unique_ptr<Child>> running_;
  ConditionLog<HookFailure> failure_;
  ConditionLog<> overflow_;
  status::NotifierStatus status_;
};

/// The hook `config` asks for, or nullptr when notify.exec is empty. Throws UserError like
/// ExecHook's constructor.
[[nodiscard]] std::unique_ptr<ExecHook> make_exec_output(const Config& config, io::LogSink log);

}  // namespace ctmon::notify
