#include "monitor/daemon/daemon.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"
#include "monitor/clock.h"
#include "monitor/config/config_keys.h"
#include "monitor/daemon/pipeline.h"
#include "monitor/daemon/registry.h"
#include "monitor/daemon/sd_notify.h"
#include "monitor/daemon/status_file.h"
#include "monitor/daemon/status_server.h"
#include "monitor/io/condition_log.h"
#include "monitor/nft/ruleset.h"
#include "monitor/status/daemon_status.h"
#include "monitor/status/status_socket.h"
#include "monitor/store/database.h"
#include "monitor/store/meta_store.h"
#include "monitor/store/rollup.h"
#include "monitor/store/sqlite_handle.h"
#include "monitor/user_error.h"

namespace ctmon {
namespace {

// SIGTERM, SIGINT and SIGHUP arrive as readable data on a descriptor, so the loop handles them
// between samples, never inside a commit.
class SignalFd {
 public:
  SignalFd() {
    sigset_t set;
    sigemptyset(&set);
    for (const int signal : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, signal);
    if (sigprocmask(SIG_BLOCK, &set, &previous_) != 0 ||
        (fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
      throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
  }
  ~SignalFd() {
    close(fd_);
    sigprocmask(SIG_SETMASK, &previous_, nullptr);
  }
  SignalFd(const SignalFd&) = delete;
  SignalFd& operator=(const SignalFd&) = delete;

  [[nodiscard]] int fd() const { return fd_; }

  /// The pending signal, or 0 when none.
  [[nodiscard]] int take() const {
    signalfd_siginfo info{};
    if (read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
      return static_cast<int>(info.ssi_signo);
    return 0;
  }

 private:
  int fd_ = -1;
  sigset_t previous_{};
};

store::SampleWriterOptions writer_options(const Config& config) {
  store::SampleWriterOptions options;
  options.commit_interval_s = std::llround(config.commit_interval_s);
  options.retention_raw_s = std::llround(config.retention_raw_s);
  options.retention_rollup_s = std::llround(config.retention_rollup_s);
  return options;
}

// The pid file (the `status_file` setting), written once at start and removed at a clean stop,
// and the status socket next to it (status_socket.h): `ctmon status` asks the socket and tells a
// dead daemon from a stuck one with the pid. Failures are logged and the daemon samples on: its
// job is sampling, not reporting.
class StatusPublisher {
 public:
  StatusPublisher(const Config& config, Logger& log) : path_(config.status_file) {
    if (path_.empty()) return;
    const std::string socket_path = status::status_socket_path(path_);
    try {
      server_ = std::make_unique<StatusServer>(socket_path);
    } catch (const std::runtime_error& e) {
      log.warning("no status socket: {}; 'ctmon status' will only see whether this daemon runs", e.what());
    }
    const nlohmann::json pid_file = {{"pid", static_cast<std::int64_t>(getpid())},
                                     {"started_ts", static_cast<double>(now_wall_ns()) / 1e9},
                                     {"socket", socket_path},
                                     {"db", config.db}};
    if (const std::string error = write_status_file(path_, pid_file); !error.empty())
      log.warning("{}; 'ctmon status' will not see this daemon (set status_file)", error);
  }

  /// Null when there is no socket.
  [[nodiscard]] StatusServer* server() const { return server_.get(); }

  void remove() {
    server_.reset();
    if (!path_.empty()) std::remove(path_.c_str());
  }

 private:
  std::string path_;
  std::unique_ptr<StatusServer> server_;
};

// Set while a daemon runs on the database, cleared by a clean stop.
constexpr std::string_view kRunningKey = "daemon_running";

// A daemon that died without a clean stop (power cut, kill -9, OOM killer) never wrote the
// rollup block in progress: up to an hour of minute history, which would have outlived the
// raw ring by weeks. The raw ring still holds that hour, so the rollups are rebuilt from it
// now, before the writer starts. Costs a rewrite of the rollup blocks the raw ring covers:
// paid after a crash only, never on a normal start. Failing here only costs that hour's
// minute history later, so it is a warning, not a reason to stop sampling.
void recover_unclean_stop(store::Database& db, const store::SampleWriterOptions& writer, Logger& log) {
  try {
    store::MetaStore meta(db);
    if (meta.get_int(kRunningKey).value_or(0) != 0) {
      const std::size_t blocks =
          store::rebuild_rollups(db, writer.rollup_block_s, writer.retention_rollup_s, writer.time_unit_ns);
      log.info("the last run did not stop cleanly: rebuilt {} minute-rollup block(s) from the raw samples", blocks);
    }
    meta.set(kRunningKey, std::int64_t{1});
  } catch (const store::SqliteError& e) {
    log.warning("could not check {} for an unclean stop ({}); the minute history of the hour before "
                "a crash may be missing once the raw samples expire",
                db.path().string(), e.what());
  }
}

void mark_clean_stop(store::Database& db, Logger& log) {
  try {
    store::MetaStore(db).set(kRunningKey, std::int64_t{0});
  } catch (const store::SqliteError& e) {
    log.warning("could not record the clean stop in {} ({}); the next start rebuilds the rollups "
                "needlessly", db.path().string(), e.what());
  }
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

// The loop: one ppoll over every part's descriptors and the signals, until the earliest due
// time; then every part that is ready or due is pumped (io/part.h).
class Daemon : public io::SampleSink {
 public:
  Daemon(const Config& config, const std::function<Config()>& reload, Logger& log)
      : config_(config), reload_(reload), log_(log), db_(open_database(config)),
        writer_(writer_options(config)) {
    inputs_ = make_inputs(config_, log_, now_mono_ns());
    recover_unclean_stop(db_, writer_, log_);
    start_pipeline();
    started_wall_ns_ = now_wall_ns();
    publisher_ = std::make_unique<StatusPublisher>(config_, log_);
  }

  int run() {
    if (const auto period = systemd_.watchdog_period();
        period && static_cast<double>(period->count()) < 2e6 * config_.interval_s)
      log_.warning("systemd's WatchdogSec= ({}) is under two sampling intervals: systemd will "
                   "kill ctmon between two pings; raise it in the unit",
                   format_duration_exact(static_cast<double>(period->count()) / 1e6));
    log_.info("sampling table {} every {} into {} (committed every {}; a power cut loses at most "
              "that)",
              config_.table, format_duration_exact(config_.interval_s), config_.db,
              format_duration_exact(config_.commit_interval_s));
    std::vector<pollfd> fds;
    std::vector<Wanted> wanted;
    for (;;) {
      fds.assign(1, pollfd{signals_.fd(), POLLIN, 0});
      wanted.clear();
      const std::int64_t now = now_mono_ns();
      std::int64_t deadline = io::kNever;
      auto collect = [&](io::Part& part) {
        const std::size_t begin = fds.size();
        const std::int64_t due = part.want(fds, now);
        wanted.push_back({begin, fds.size(), due});
        deadline = std::min(deadline, due);
      };
      for (const auto& input : inputs_) collect(*input);
      for (const auto& output : pipeline_->outputs()) collect(*output);
      StatusServer* const server = publisher_->server();
      const std::size_t server_begin = fds.size();
      const std::int64_t server_due = server != nullptr ? server->want(fds, now) : io::kNever;
      deadline = std::min(deadline, server_due);
      const std::size_t server_end = fds.size();

      timespec timeout{};
      if (deadline != io::kNever) {
        const std::int64_t left_ns = std::max<std::int64_t>(0, deadline - now);
        timeout = {static_cast<time_t>(left_ns / kNsPerS), static_cast<long>(left_ns % kNsPerS)};
      }
      if (ppoll(fds.data(), fds.size(), deadline == io::kNever ? nullptr : &timeout, nullptr) < 0 &&
          errno != EINTR)
        throw std::runtime_error(std::string("ppoll: ") + std::strerror(errno));

      if ((fds[0].revents & POLLIN) != 0) {
        if (const std::optional<int> exit_code = on_signal(signals_.take())) return *exit_code;
      }
      const std::int64_t after = now_mono_ns();
      auto due = [&](std::size_t k) {
        for (std::size_t i = wanted[k].begin; i < wanted[k].end; ++i)
          if (fds[i].revents != 0) return true;
        return wanted[k].due <= after;
      };
      std::size_t k = 0;
      bool read = false;
      for (const auto& input : inputs_)
        if (due(k++)) {
          input->pump(after, catalog_, *this);
          read = true;
        }
      if (read) tell_systemd(std::exchange(ready_, true) ? "WATCHDOG=1" : "READY=1");
      for (const auto& output : pipeline_->outputs())
        if (due(k++)) output->pump(after);
      // Clients are served last: a sample due now is never delayed by one.
      if (server != nullptr) {
        bool ready = false;
        for (std::size_t i = server_begin; i < server_end; ++i) ready = ready || fds[i].revents != 0;
        if (ready || server_due <= after)
          server->pump(after, [this](std::string_view request) { return answer(request); });
      }
    }
  }

  void on_reading(const Sample& sample, const CounterCatalog&) override {
    reading_ = sample;  // reuses its capacity: no allocation per reading once grown
    const std::int64_t now = now_mono_ns();
    for (const auto& input : inputs_) input->add_totals(reading_, catalog_, now);
    pipeline_->feed(reading_, catalog_, local_utc_offset_s(sample.wall_ns), now);
    if (const std::optional<std::string> gone = pipeline_->store_files_moved()) restore_database(*gone);
  }

 private:
  struct Wanted {
    std::size_t begin, end;  // its descriptors in the poll set
    std::int64_t due;
  };

  void start_pipeline() {
    pipeline_ = std::make_unique<Pipeline>(db_, network_detectors(config_.interval_s, config_.episode_gap_s), writer_,
                                           log_, local_utc_offset_s);
    for (auto& output : make_outputs(config_, db_, log_, [this] { return status(); }))
      pipeline_->add_output(std::move(output));
  }

  // Someone deleted the database (or its -wal or -shm) under the daemon: its commits reach files
  // nobody can open again. Everything is still visible through the open connection, so it is
  // written back to the path and the daemon goes on with the new file; if that fails, it stops
  // loudly (UserError: exit 1) rather than report "ok" with nothing on disk.
  void restore_database(const std::string& what) {
    log_.error("{}: {} while the daemon was writing it; writing everything back", config_.db, what);
    const bool saved = pipeline_->finish(now_mono_ns());  // RAM into the connection first
    pipeline_.reset();  // its stores hold statements on the old connection
    store::Database::restore(std::move(db_), std::chrono::system_clock::now());
    db_ = store::Database::open(config_.db);
    start_pipeline();
    log_.info("{} written back; sampling goes on into it{}", config_.db,
              saved ? ", nothing was lost" : " (the last samples could not be saved)");
  }

  static store::Database open_database(const Config& config) {
    (void)nft::parse_table_ref(config.table);  // a typo must not create a database first
    return store::Database::open(config.db);
  }

  [[nodiscard]] status::DaemonStatus status() const {
    status::DaemonStatus s;
    s.pid = getpid();
    s.started_wall_ns = started_wall_ns_;
    for (const auto& input : inputs_) input->report(s);
    pipeline_->report(s);
    return s;
  }

  // Readiness (once the first reading was tried: a daemon waiting for its table is up), a
  // watchdog ping per sampling tick, and the stop, for the unit's Type=notify and WatchdogSec=.
  // Nothing is sent where no service manager asked for it ($NOTIFY_SOCKET unset: procd, a shell).
  void tell_systemd(std::string_view state) {
    const std::string error = systemd_.notify(state);
    if (error.empty()) {
      if (systemd_trouble_.clear()) log_.info("systemd hears the daemon again");
    } else if (systemd_trouble_.enter()) {
      log_.warning("{}", error);
    }
  }

  // One answer on the status socket (status_socket.h).
  [[nodiscard]] std::string answer(std::string_view request) const {
    if (request == status::kStatusRequest) return status::to_json(status()).dump();
    if (request == status::kSamplesRequest) return status::to_json(pipeline_->live_samples()).dump();
    return nlohmann::json{{"error", "unknown request '" + std::string(request).substr(0, 40) +
                                        "'; ask 'status' or 'samples'"}}
        .dump();
  }

  // The exit code when the signal stops the daemon.
  std::optional<int> on_signal(int signal) {
    if (signal == SIGTERM || signal == SIGINT) {
      tell_systemd("STOPPING=1");
      const bool saved = pipeline_->finish(now_mono_ns());
      if (saved) mark_clean_stop(db_, log_);
      publisher_->remove();
      log_.info("stopped after {} samples, {} episodes; {}", pipeline_->stats().samples,
                pipeline_->stats().episodes_opened,
                saved ? "everything saved" : "the last samples could NOT be saved");
      return saved ? 0 : 1;
    }
    if (signal == SIGHUP) reload();
    return std::nullopt;
  }

  void reload() {
    Config fresh;
    try {
      fresh = reload_();
    } catch (const UserError& e) {
      log_.error("SIGHUP: keeping the running configuration: {}", e.what());
      return;
    }
    log_.use_syslog(fresh.syslog);
    // config_ keeps the running value of every key that needs a restart, so the warning
    // repeats at each SIGHUP until the restart happens.
    const std::vector<std::string> restart = keys_needing_restart(config_, fresh);
    for (const auto& input : inputs_) input->reload(fresh);
    for (const auto& output : pipeline_->outputs()) output->reload(fresh);
    if (!restart.empty())
      log_.warning("SIGHUP: changes to {} take effect at the next restart", joined(restart));
    if (fresh.interval_s != config_.interval_s) {
      // The detectors' memories are set in seconds and held in samples: a new interval needs
      // detectors built for it, or every step would be a gap (or a too-short memory).
      const AnalyzerConfig detectors = network_detectors(fresh.interval_s, config_.episode_gap_s);
      if (pipeline_->reconfigure(detectors))
        log_.info("SIGHUP: detectors now sample every {}, keeping what they learned",
                  format_duration_exact(fresh.interval_s));
      else
        log_.warning("SIGHUP: detectors now sample every {} but could not keep what they learned: "
                     "they learn again (the next sample says until when)",
                     format_duration_exact(fresh.interval_s));
    }
    status::DaemonStatus now;
    for (const auto& input : inputs_) input->report(now);
    config_.table = now.source.table;
    config_.install_rules = fresh.install_rules;
    config_.interval_s = fresh.interval_s;
    config_.syslog = fresh.syslog;
    log_.info("SIGHUP: configuration reloaded (table {}, interval {})", config_.table,
              format_duration_exact(config_.interval_s));
  }

  // First, so that a SIGTERM during the start (crash recovery can take seconds) waits for the
  // loop instead of killing the daemon half-way through it.
  SignalFd signals_;
  Config config_;
  std::function<Config()> reload_;
  Logger& log_;
  store::Database db_;
  store::SampleWriterOptions writer_;
  std::unique_ptr<StatusPublisher> publisher_;
  std::vector<std::unique_ptr<io::Input>> inputs_;
  std::unique_ptr<Pipeline> pipeline_;
  CounterCatalog catalog_;
  Sample reading_;  // the pacing input's reading with every other input's totals added
  std::int64_t started_wall_ns_ = 0;
  const daemon::SdNotifier systemd_ = daemon::SdNotifier::from_environment();
  bool ready_ = false;
  ConditionLog<> systemd_trouble_;
};

}  // namespace

int run_daemon(const Config& initial, const std::function<Config()>& reload, Logger& log) {
  Daemon daemon(initial, reload, log);
  return daemon.run();
}

}  // namespace ctmon
