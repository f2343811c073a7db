#include "monitor/notify/exec_hook.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "core/time.h"
#include "monitor/clock.h"
#include "monitor/events/events_json.h"
#include "monitor/user_error.h"

namespace ctmon::notify {
namespace {

// Without a pidfd the loop looks for finished hooks this often while one runs.
constexpr std::int64_t kReapPoll_ns = 100'000'000;

// A descriptor that signals when `pid` exits, or -1 where the kernel has none (before 5.3).
int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  const long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    (void)fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    return static_cast<int>(fd);
  }
#else
  (void)pid;
#endif
  return -1;
}

// The events line, as a file the hook reads as its stdin. A memfd where the kernel has one, else
// an unnamed file in /tmp; -1 with errno set when neither can be made.
int stdin_file(const std::string& text) {
  int fd = -1;
#ifdef MFD_CLOEXEC
  fd = memfd_create("ctmon-event", MFD_CLOEXEC);
#endif
  if (fd < 0) fd = ::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int saved = errno;
      ::close(fd);
      errno = saved;
      return -1;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::lseek(fd, 0, SEEK_SET) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

// posix_spawn's two argument objects, each with its init and destroy function.
template <class T, int (*Init)(T*), int (*Destroy)(T*)>
class SpawnObject {
 public:
  SpawnObject() { Init(&value_); }
  ~SpawnObject() { Destroy(&value_); }
  SpawnObject(const SpawnObject&) = delete;
  SpawnObject& operator=(const SpawnObject&) = delete;
  T* get() { return &value_; }

 private:
  T value_{};
};
using FileActions =
    SpawnObject<posix_spawn_file_actions_t, posix_spawn_file_actions_init, posix_spawn_file_actions_destroy>;
using SpawnAttributes = SpawnObject<posix_spawnattr_t, posix_spawnattr_init, posix_spawnattr_destroy>;

std::string wait_status_text(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("ended with wait status {}", status);
}

std::string_view failure_name(HookFailure failure) {
  switch (failure) {
    case HookFailure::kCannotRun: return "cannot run";
    case HookFailure::kExitStatus: return "exit status";
    case HookFailure::kKilledBySignal: return "killed";
    case HookFailure::kTimedOut: return "timed out";
  }
  return "?";
}

}  // namespace

// One hook that was started and is not reaped yet.
struct ExecHook::Child {
  pid_t pid = -1;
  int pidfd = -1;                   // -1: reaped by looking (see kReapPoll_ns)
  std::string what;
  std::int64_t term_at_mono_ns = 0;  // the timeout
  std::int64_t kill_at_mono_ns = io::kNever;  // set once SIGTERM was sent
  bool stopped = false;              // the timeout struck

  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pidfd >= 0) ::close(pidfd);
  }
};

ExecHook::ExecHook(ExecHookConfig config, io::LogSink log) : config_(std::move(config)), log_(std::move(log)) {
  if (const std::string problem = executable_file_problem(config_.path); !problem.empty())
    throw UserError(fmt::format("notify.exec '{}': {}; give the absolute path of an executable file "
                                "(chmod +x; it is run without a shell, so a script needs a #! line)",
                                config_.path, problem));
  status_.name = "exec";
  status_.target = config_.path;
  if (log_)
    log_(io::Severity::kInfo, fmt::format("notify: running {} when an episode opens and closes (timeout {})",
                                          config_.path, format_duration_exact(config_.timeout_s)));
}

ExecHook::~ExecHook() = default;

void ExecHook::on_episode(const Episode& episode, EpisodeChange change, const io::SampleView& view) {
  (void)view;
  if (change == EpisodeChange::opened)
    enqueue(events::episode_to_json(episode), EpisodeState::kOpen);
  else if (change == EpisodeChange::closed)
    enqueue(events::episode_to_json(episode), EpisodeState::kClose);
}

void ExecHook::enqueue(const nlohmann::json& event, EpisodeState state) {
  Run run;
  run.what = fmt::format("episode {} ({})", event.at("id").dump(), to_string(state));
  if (waiting_.size() >= kMaxWaiting) {
    ++status_.failed;
    if (overflow_.enter() && log_)
      log_(io::Severity::kWarning,
           fmt::format("notify: {} runs of {} are already waiting; {} and later ones are dropped until they "
                       "catch up (is the hook too slow?)",
                       kMaxWaiting, config_.path, run.what));
    return;
  }
  if (overflow_.clear() && log_)
    log_(io::Severity::kInfo, fmt::format("notify: runs of {} are queued again", config_.path));
  run.env = hook_environment(event, state, config_.host);
  run.stdin_text = event.dump() + "\n";
  waiting_.push_back(std::move(run));
}

std::int64_t ExecHook::want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) {
  std::int64_t due = io::kNever;
  if (!waiting_.empty() && running_.size() < kMaxRunning) due = now_mono_ns;
  for (const auto& child : running_) {
    if (child->pidfd >= 0)
      fds.push_back({child->pidfd, POLLIN, 0});
    else
      due = std::min(due, now_mono_ns + kReapPoll_ns);
    due = std::min(due, child->stopped ? child->kill_at_mono_ns : child->term_at_mono_ns);
  }
  return due;
}

void ExecHook::pump(std::int64_t now_mono_ns) {
  for (auto it = running_.begin(); it != running_.end();) {
    Child& child = **it;
    int wait_status = 0;
    const pid_t done = ::waitpid(child.pid, &wait_status, WNOHANG);
    if (done == child.pid || (done < 0 && errno == ECHILD)) {
      if (done == child.pid) finished(child, wait_status);
      it = running_.erase(it);
      continue;
    }
    if (!child.stopped && now_mono_ns >= child.term_at_mono_ns) {
      child.stopped = true;
      child.kill_at_mono_ns = now_mono_ns + kKillGrace_ns;
      (void)::kill(-child.pid, SIGTERM);
    } else if (child.stopped && now_mono_ns >= child.kill_at_mono_ns) {
      child.kill_at_mono_ns = io::kNever;  // once; the pidfd or the poll then reaps it
      (void)::kill(-child.pid, SIGKILL);
    }
    ++it;
  }
  while (!waiting_.empty() && running_.size() < kMaxRunning) {
    Run run = std::move(waiting_.front());
    waiting_.pop_front();
    start(std::move(run), now_mono_ns);
  }
  status_.queued = waiting_.size();
  if (!running_.empty()) status_.state = "running";
}

void ExecHook::start(Run run, std::int64_t now_mono_ns) {
  const int input = stdin_file(run.stdin_text);
  if (input < 0) {
    failed(HookFailure::kCannotRun, fmt::format("cannot make its stdin for {}: {}", run.what, std::strerror(errno)));
    return;
  }
  FileActions actions;
  SpawnAttributes attr;
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawn_file_actions_adddup2(actions.get(), input, STDIN_FILENO);
  posix_spawn_file_actions_addopen(actions.get(), STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_setsigmask(attr.get(), &none);
  posix_spawnattr_setsigdefault(attr.get(), &all);
  posix_spawnattr_setpgroup(attr.get(), 0);
  posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> argv = {config_.path.data(), nullptr};
  std::vector<char*> envp;
  for (std::string& variable : run.env) envp.push_back(variable.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int error = posix_spawn(&pid, config_.path.c_str(), actions.get(), attr.get(), argv.data(), envp.data());
  ::close(input);
  if (error != 0) {
    failed(HookFailure::kCannotRun, fmt::format("cannot run it for {}: {}", run.what, std::strerror(error)));
    return;
  }
  auto child = std::make_unique<Child>();
  child->pid = pid;
  child->pidfd = open_pidfd(pid);
  child->what = std::move(run.what);
  child->term_at_mono_ns = now_mono_ns + static_cast<std::int64_t>(config_.timeout_s * static_cast<double>(kNsPerS));
  running_.push_back(std::move(child));
}

void ExecHook::finished(Child& child, int wait_status) {
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0 && !child.stopped) {
    ++status_.delivered;
    status_.last_success_wall_ns = now_wall_ns();
    status_.state = "ok";
    status_.detail.clear();
    if (failure_.clear() && log_) log_(io::Severity::kInfo, fmt::format("notify: {} works again", config_.path));
    return;
  }
  if (child.stopped)
    failed(HookFailure::kTimedOut,
           fmt::format("did not finish within {} for {}: stopped it (SIGTERM to its process group, SIGKILL "
                       "{} s later)",
                       format_duration_exact(config_.timeout_s), child.what, kKillGrace_ns / kNsPerS));
  else if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 127)
    failed(HookFailure::kCannotRun, fmt::format("exited with status 127 for {}: the program or its #! "
                                                "interpreter was not found",
                                                child.what));
  else
    failed(WIFEXITED(wait_status) ? HookFailure::kExitStatus : HookFailure::kKilledBySignal,
           fmt::format("{} for {}", wait_status_text(wait_status), child.what));
}

void ExecHook::failed(HookFailure failure, const std::string& detail) {
  ++status_.failed;
  status_.last_error_wall_ns = now_wall_ns();
  status_.state = std::string(failure_name(failure));
  status_.detail = config_.path + " " + detail;
  if (failure_.enter(failure) && log_)
    log_(io::Severity::kWarning,
         fmt::format("notify: {} {}; failures of this kind are not logged again until a run succeeds",
                     config_.path, detail));
}

bool ExecHook::finish(const Analyzer& analyzer, std::int64_t now_mono_ns) {
  (void)analyzer;
  pump(now_mono_ns);
  if (!waiting_.empty() && log_)
    log_(io::Severity::kWarning, fmt::format("notify: stopping with {} run(s) of {} not started; they are not made up "
                                             "for at the next start",
                                             waiting_.size(), config_.path));
  // Hooks still running are left to finish on their own: stopping ctmon must not cut a
  // notification short. They are re-parented to init, which reaps them.
  return true;
}

void ExecHook::report(status::DaemonStatus& status) const {
  status::NotifierStatus s = status_;
  s.queued = waiting_.size();
  status.notifiers.push_back(std::move(s));
}

std::unique_ptr<ExecHook> make_exec_output(const Config& config, io::LogSink log) {
  if (config.notify.exec.empty()) return nullptr;
  ExecHookConfig hook;
  hook.path = config.notify.exec;
  hook.timeout_s = config.notify.exec_timeout_s;
  hook.host = host_name(config);
  return std::make_unique<ExecHook>(std::move(hook), std::move(log));
}

}  // namespace ctmon::notify
