#include "monitor/clock.h"
#include "monitor/daemon/daemon.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>

#include "monitor/cli/events_json.h"
#include "monitor/daemon/pipeline.h"
#include "monitor/daemon/status_file.h"
#include "monitor/daemon/schedule.h"
#include "monitor/io/condition_log.h"
#include "monitor/nft/netlink_source.h"
#include "monitor/nft/nft_error.h"
#include "monitor/nft/ruleset.h"
#include "monitor/store/database.h"
#include "monitor/store/meta_store.h"
#include "monitor/store/rollup.h"
#include "monitor/store/sqlite_handle.h"
#include "monitor/user_error.h"

namespace ctmon {
namespace {

constexpr std::int64_t kNsPerS = 1'000'000'000;
// A missing table is re-installed (or looked for) at most this often, not every sample.
constexpr std::int64_t kTableRetry_ns = 10 * kNsPerS;

// Mean detector time per sample in microseconds, to two decimals (0 before the first sample).
double detector_us_per_sample(const PipelineStats& stats) {
  if (stats.samples == 0) return 0.0;
  return std::round(static_cast<double>(stats.detector_ns) / static_cast<double>(stats.samples) / 10.0) / 100.0;
}


std::int64_t local_offset_s(std::int64_t wall_ns) {
  const time_t seconds = static_cast<time_t>(wall_ns / kNsPerS);
  tm local{};
  localtime_r(&seconds, &local);
  return local.tm_gmtoff;
}

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

  /// Waits until `deadline_mono_ns` or a signal, whichever comes first; returns the signal or 0.
  /// With a `sender`, HTTP to InfluxDB progresses during the wait: curl's sockets and the
  /// signalfd are watched in one poll, so a slow server never delays a sample.
  int wait_until(std::int64_t deadline_mono_ns, influx::Sender* sender = nullptr) const {
    for (;;) {
      const std::int64_t left_ns = deadline_mono_ns - clock_ns(CLOCK_MONOTONIC);
      if (left_ns <= 0) return 0;
      if (sender != nullptr) {
        sender->pump(clock_ns(CLOCK_MONOTONIC));
        const int left_ms = static_cast<int>((left_ns + 999'999) / 1'000'000);
        if (!sender->wait(fd_, left_ms)) continue;
        signalfd_siginfo info{};
        if (read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
          return static_cast<int>(info.ssi_signo);
        continue;
      }
      pollfd pfd{fd_, POLLIN, 0};
      const timespec timeout{static_cast<time_t>(left_ns / kNsPerS),
                             static_cast<long>(left_ns % kNsPerS)};
      const int ready = ppoll(&pfd, 1, &timeout, nullptr);
      if (ready > 0) {
        signalfd_siginfo info{};
        if (read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
          return static_cast<int>(info.ssi_signo);
      }
    }
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

// Reads the kernel, and deals with the table coming and going: one log line when it goes, one
// when it is back; reinstalls it when allowed.
class KernelSampler {
 public:
  KernelSampler(const Config& config, Logger& log)
      : table_(nft::parse_table_ref(config.table)), install_(config.install_rules), log_(log),
        source_(std::make_unique<nft::NetlinkSource>(table_)) {
    if (!source_->reader().table_exists()) {
      if (install_) {
        nft::install_rules(table_);
        log_.info("table {} was missing: installed it", table_.display());
      } else {
        log_.warning("table {} does not exist and --no-install-rules is set: waiting for it "
                     "(create it with 'ctmon rules install')",
                     table_.display());
        (void)trouble_.enter(TableTrouble::kMissing);
      }
    }
  }

  /// One reading into `sample`; false when there is none this tick (the reason is logged once).
  bool read(Sample& sample, CounterCatalog& catalog, std::int64_t now_mono_ns) {
    try {
      source_->next(sample, catalog);
    } catch (const nft::NftError& e) {
      state_ = e.kind() == nft::NftErrorKind::kTableMissing ? "missing"
                                                            : std::string("error: ") + e.what();
      handle(e, now_mono_ns);
      return false;
    }
    if (trouble_.clear()) log_.info("table {} readable again", table_.display());
    state_ = "ok";
    if (sample.counters.empty() || std::none_of(sample.counters.begin(), sample.counters.end(),
                                                [](const auto& c) { return c.present; })) {
      if (empty_.enter())
        log_.warning("table {} has no counters; 'ctmon rules check' shows what is missing",
                     table_.display());
      state_ = "no counters";
      return false;
    }
    (void)empty_.clear();
    note_resets(sample);
    return true;
  }

  /// "ok", "missing", "no counters" or "error: <why>", as of the last read().
  [[nodiscard]] const std::string& state() const { return state_; }

 private:
  void handle(const nft::NftError& e, std::int64_t now_mono_ns) {
    if (e.kind() == nft::NftErrorKind::kNoPermission) throw UserError(e.what());
    if (e.kind() != nft::NftErrorKind::kTableMissing) {
      if (trouble_.enter(TableTrouble::kUnreadable)) log_.error("{}; retrying every sample", e.what());
      return;
    }
    if (trouble_.enter(TableTrouble::kMissing)) {
      log_.warning("table {} disappeared (deleted, or 'nft flush ruleset'); {}", table_.display(),
                   install_ ? "reinstalling it" : "waiting for it to come back");
      last_install_mono_ns_ = 0;
    }
    if (install_ && now_mono_ns - last_install_mono_ns_ >= kTableRetry_ns) {
      last_install_mono_ns_ = now_mono_ns;
      try {
        nft::install_rules(table_);
        log_.info("table {} reinstalled; its counters start again from 0", table_.display());
      } catch (const UserError& install_error) {
        log_.error("{}", install_error.what());
      }
    }
  }

  // A counter that went down means the table was re-created or reset: the detectors treat it as
  // a reset, and the owner should know why the series restarted.
  void note_resets(const Sample& sample) {
    std::size_t reset = 0;
    for (std::size_t id = 0; id < sample.counters.size() && id < previous_.size(); ++id)
      if (sample.counters[id].present && previous_[id].present &&
          sample.counters[id].packets < previous_[id].packets)
        ++reset;
    if (reset > 0)
      log_.warning("{} counter(s) of table {} went backwards: the table was reset or re-created "
                   "(rules reloaded?); rates restart from there",
                   reset, table_.display());
    previous_ = sample.counters;
  }

  nft::TableRef table_;
  bool install_;
  Logger& log_;
  std::unique_ptr<nft::NetlinkSource> source_;
  std::vector<CounterTotals> previous_;
  enum class TableTrouble { kMissing, kUnreadable };
  ConditionLog<TableTrouble> trouble_;
  ConditionLog<> empty_;
  std::string state_ = "ok";
  std::int64_t last_install_mono_ns_ = 0;
};

// Rewrites the status file for `ctmon status`; a failure is logged once and then ignored, the
// daemon's job being sampling, not reporting.
class StatusReporter {
 public:
  StatusReporter(const Config& config, Logger& log)
      : path_(config.status_file), log_(log), started_(cli::rfc3339_utc(clock_ns(CLOCK_REALTIME))) {}

  void write(const Config& config, const KernelSampler& sampler, const Pipeline& pipeline,
             const CounterCatalog& catalog, std::int64_t last_sample_wall_ns,
             std::uint64_t missed_ticks, const influx::Sender* sender) {
    if (path_.empty()) return;
    const auto writer = pipeline.writer().stats();
    nlohmann::json status = {
        {"pid", static_cast<std::int64_t>(getpid())},
        {"started", started_},
        {"last_sample_ts", static_cast<double>(last_sample_wall_ns) / kNsPerS},
        {"interval_s", config.interval_s},
        {"commit_interval_s", config.commit_interval_s},
        {"table", config.table},
        {"table_state", sampler.state()},
        {"counters", catalog.size()},
        {"samples", pipeline.stats().samples},
        {"missed_ticks", missed_ticks},
        {"samples_in_ram", writer.samples_in_ram},
        {"samples_dropped", writer.samples_dropped},
        {"store_state", pipeline.store_state()},
        {"episodes_opened", pipeline.stats().episodes_opened},
        {"open_episode", pipeline.analyzer().open_episode() != nullptr},
        {"detector_us_per_sample", detector_us_per_sample(pipeline.stats())},
        {"db", config.db},
    };
    if (sender != nullptr) {
      const influx::SenderStatus influx = sender->status();
      status["influx"] = {{"state", influx.state},
                          {"detail", influx.detail},
                          {"queued", influx.queued},
                          {"last_success_ts", static_cast<double>(influx.last_success_wall_ns) / kNsPerS},
                          {"retry_in_ms", influx.retry_in_ms},
                          {"sent_lines", influx.sent_lines},
                          {"rejected_lines", influx.rejected_lines}};
    }
    const std::string error = write_status_file(path_, status);
    if (error.empty())
      (void)failed_.clear();
    else if (failed_.enter())
      log_.warning("{}; 'ctmon status' will not see this daemon (set status_file)", error);
  }

  void remove() const {
    if (!path_.empty()) std::remove(path_.c_str());
  }

 private:
  std::string path_;
  Logger& log_;
  std::string started_;
  ConditionLog<> failed_;
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

}  // namespace

int run_daemon(const Config& initial, const std::function<Config()>& reload, Logger& log) {
  Config config = initial;
  (void)nft::parse_table_ref(config.table);  // a typo must not create a database first
  store::Database db = store::Database::open(config.db);
  auto sampler = std::make_unique<KernelSampler>(config, log);
  const store::SampleWriterOptions writer = writer_options(config);
  recover_unclean_stop(db, writer, log);
  Pipeline pipeline(db, AnalyzerConfig::network(config.interval_s), writer, log);
  const std::unique_ptr<influx::Sender> sender = start_forwarding(config, pipeline, log);
  SignalFd signals;

  log.info("sampling table {} every {} into {} (committed every {}; a power cut loses at most "
           "that)",
           config.table, format_duration(config.interval_s), config.db,
           format_duration(config.commit_interval_s));

  StatusReporter status(config, log);
  CounterCatalog catalog;
  Sample sample;
  std::int64_t last_sample_wall_ns = 0;
  std::uint64_t missed_total = 0;
  auto interval_ns = static_cast<std::int64_t>(std::llround(config.interval_s * 1e9));
  TickSchedule schedule(clock_ns(CLOCK_MONOTONIC), interval_ns);
  for (;;) {
    const std::int64_t now = clock_ns(CLOCK_MONOTONIC);
    if (sampler->read(sample, catalog, now)) {
      pipeline.feed(sample, catalog, local_offset_s(sample.wall_ns), now);
      last_sample_wall_ns = sample.wall_ns;
    }
    status.write(config, *sampler, pipeline, catalog, last_sample_wall_ns, missed_total,
                 sender.get());

    const TickSchedule::Next next = schedule.advance(clock_ns(CLOCK_MONOTONIC));
    if (next.missed > 0) {
      missed_total += next.missed;
      log.warning("sampling fell behind: {} tick(s) skipped ({} so far); the gap shows in the "
                  "data",
                  next.missed, missed_total);
    }
    switch (signals.wait_until(next.deadline_ns, sender.get())) {
      case SIGTERM:
      case SIGINT: {
        const bool saved = pipeline.finish(clock_ns(CLOCK_MONOTONIC));
        if (saved) mark_clean_stop(db, log);
        status.remove();
        log.info("stopped after {} samples, {} episodes; {}", pipeline.stats().samples,
                 pipeline.stats().episodes_opened,
                 saved ? "everything saved" : "the last samples could NOT be saved");
        return saved ? 0 : 1;
      }
      case SIGHUP: {
        Config fresh;
        try {
          fresh = reload();
        } catch (const UserError& e) {
          log.error("SIGHUP: keeping the running configuration: {}", e.what());
          break;
        }
        log.use_syslog(fresh.syslog);
        if (fresh.db != config.db || writer_options(fresh).commit_interval_s != writer.commit_interval_s ||
            writer_options(fresh).retention_raw_s != writer.retention_raw_s ||
            writer_options(fresh).retention_rollup_s != writer.retention_rollup_s)
          log.warning("SIGHUP: db, commit_interval and retention changes take effect at the "
                      "next restart");
        if (fresh.table != config.table || fresh.install_rules != config.install_rules) {
          try {
            sampler = std::make_unique<KernelSampler>(fresh, log);
          } catch (const UserError& e) {
            log.error("SIGHUP: keeping table {}: {}", config.table, e.what());
            fresh.table = config.table;
          }
        }
        if (fresh.interval_s != config.interval_s) {
          interval_ns = std::llround(fresh.interval_s * 1e9);
          schedule = TickSchedule(clock_ns(CLOCK_MONOTONIC), interval_ns);
          (void)schedule.advance(clock_ns(CLOCK_MONOTONIC));
        }
        log.info("SIGHUP: configuration reloaded (table {}, interval {})", fresh.table,
                 format_duration(fresh.interval_s));
        config.table = fresh.table;
        config.install_rules = fresh.install_rules;
        config.interval_s = fresh.interval_s;
        config.syslog = fresh.syslog;
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace ctmon
