#include "monitor/daemon/counter_input.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "core/time.h"
#include "monitor/clock.h"
#include "monitor/nft/nft_error.h"
#include "monitor/nft/ruleset_watch.h"
#include "monitor/user_error.h"

namespace ctmon {
namespace {

// A missing table is re-installed (or looked for) at most this often, not every sample; so are
// lost rules whose reinstall failed.
constexpr std::int64_t kTableRetry_ns = 10 * kNsPerS;
// Without change notifications (a kernel that refuses the subscription) the rules are checked
// this often: frozen counters go unnoticed for at most this long.
constexpr std::int64_t kRulesPoll_ns = 60 * kNsPerS;

// Sampling counts as keeping up again after this long without a skipped tick: a router that
// skips every few ticks under load is one condition, logged once, not one line per skip.
constexpr double kKeepingUp_s = 60;

std::int64_t interval_ns(double interval_s) { return std::llround(interval_s * 1e9); }

}  // namespace

// Reads the kernel for one table; what CounterInput re-creates when the table changes.
class CounterInput::Reader {
 public:
  Reader(const std::string& table, bool install, Logger& log)
      : table_(nft::parse_table_ref(table)), install_(install), log_(log),
        source_(std::make_unique<nft::NetlinkSource>(table_)) {
    try {
      watch_ = std::make_unique<nft::RulesetWatch>(table_);
    } catch (const nft::NftError& e) {
      log_.warning("{}; checking the rules every {} instead", e.what(),
                   format_duration_exact(kRulesPoll_ns / 1e9));
    }
    if (!source_->reader().table_exists()) {
      if (install_) {
        nft::install_rules(table_);
        log_.info("table {} was missing: installed it", table_.display());
      } else {
        log_.warning("table {} does not exist and --no-install-rules is set: waiting for it "
                     "(create it with 'ctmon rules install')",
                     table_.display());
        (void)trouble_.enter(Trouble::kMissing);
      }
    }
  }

  /// One reading into `sample`; false when there is none this tick (the reason is logged once).
  bool read(Sample& sample, CounterCatalog& catalog, std::int64_t now_mono_ns) {
    try {
      source_->next(sample, catalog);
    } catch (const nft::NftError& e) {
      if (e.kind() == nft::NftErrorKind::kTableMissing) {
        state_ = status::TableState::kMissing;
      } else {
        state_ = status::TableState::kUnreadable;
        error_ = e.what();
      }
      handle(e, now_mono_ns);
      return false;
    }
    if (trouble_.clear()) log_.info("table {} readable again", table_.display());
    state_ = status::TableState::kOk;
    error_.clear();
    if (sample.counters.empty() || std::none_of(sample.counters.begin(), sample.counters.end(),
                                                [](const auto& c) { return c.present; })) {
      if (empty_.enter())
        log_.warning("table {} has no counters; 'ctmon rules check' shows what is missing",
                     table_.display());
      state_ = status::TableState::kNoCounters;
      return false;
    }
    (void)empty_.clear();
    note_resets(sample);
    return true;
  }

  /// Adds the watch's descriptor; returns when the rules are due to be checked.
  std::int64_t want(std::vector<pollfd>& fds) const {
    if (watch_) fds.push_back(pollfd{watch_->fd(), POLLIN, 0});
    return rules_check_due_ns_;
  }

  /// Checks the rules when a notification touched the table (`notified`: the watch may be
  /// readable) or a check is due; a check that finds rules missing reinstalls them if allowed.
  void watch_rules(std::int64_t now_mono_ns, bool notified) {
    if (notified && watch_ && watch_->drain()) rules_check_due_ns_ = now_mono_ns;
    if (now_mono_ns >= rules_check_due_ns_) check_rules(now_mono_ns);
  }

  [[nodiscard]] status::TableState state() const {
    return state_ == status::TableState::kOk && rules_missing_.active()
               ? status::TableState::kRulesMissing
               : state_;
  }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  enum class Trouble { kMissing, kUnreadable };

  void handle(const nft::NftError& e, std::int64_t now_mono_ns) {
    if (e.kind() == nft::NftErrorKind::kNoPermission) throw UserError(e.what());
    if (e.kind() != nft::NftErrorKind::kTableMissing) {
      if (trouble_.enter(Trouble::kUnreadable)) log_.error("{}; retrying every sample", e.what());
      return;
    }
    if (trouble_.enter(Trouble::kMissing)) {
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

  void check_rules(std::int64_t now_mono_ns) {
    // The check sees every change queued so far: those notifications are no news.
    if (watch_) (void)watch_->drain();
    rules_check_due_ns_ = watch_ ? io::kNever : now_mono_ns + kRulesPoll_ns;
    nft::RulesCheck check;
    try {
      check = nft::check_rules(table_);
    } catch (const nft::NftError& e) {
      if (check_failed_.enter()) log_.error("checking the rules: {}; retrying every {}", e.what(),
                                            format_duration_exact(kTableRetry_ns / 1e9));
      rules_check_due_ns_ = std::min(rules_check_due_ns_, now_mono_ns + kTableRetry_ns);
      return;
    }
    if (check_failed_.clear()) log_.info("checking the rules of table {} works again", table_.display());
    // A missing table, or one without counters, is the readings' condition, logged there.
    if (!check.table_exists || check.missing_counters.size() == nft::expected_counter_names().size()) {
      (void)rules_missing_.clear();
      return;
    }
    if (check.missing_rules == 0) {
      if (rules_missing_.clear())
        log_.info("table {} has its rules again: its counters count again", table_.display());
      return;
    }
    const std::string lost = check.missing_rules >= nft::expected_rule_count()
                                 ? std::string("lost its rules (nft flush table?)")
                                 : fmt::format("lost {} of its {} rules (nft flush chain?)",
                                               check.missing_rules, nft::expected_rule_count());
    if (!install_) {
      if (rules_missing_.enter())
        log_.warning("table {} {}: its counters are frozen, and --no-install-rules is set: "
                     "'ctmon rules install' restores the rules",
                     table_.display(), lost);
      return;
    }
    try {
      nft::install_rules(table_);
      (void)rules_missing_.clear();
      log_.warning("table {} {}: reinstalled them; counters keep their values", table_.display(), lost);
    } catch (const UserError& e) {
      if (rules_missing_.enter())
        log_.error("table {} {}: its counters are frozen, and reinstalling failed: {}; retrying every {}",
                   table_.display(), lost, e.what(), format_duration_exact(kTableRetry_ns / 1e9));
      rules_check_due_ns_ = std::min(rules_check_due_ns_, now_mono_ns + kTableRetry_ns);
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
  std::unique_ptr<nft::RulesetWatch> watch_;  // null: the kernel refused; checked every minute
  std::int64_t rules_check_due_ns_ = 0;       // 0: the first pump checks
  ConditionLog<> rules_missing_;
  ConditionLog<> check_failed_;
  std::vector<CounterTotals> previous_;
  ConditionLog<Trouble> trouble_;
  ConditionLog<> empty_;
  status::TableState state_ = status::TableState::kOk;
  std::string error_;
  std::int64_t last_install_mono_ns_ = 0;
};

CounterInput::CounterInput(const Config& config, Logger& log, std::int64_t now_mono_ns)
    : reader_(std::make_unique<Reader>(config.table, config.install_rules, log)), log_(log),
      table_name_(config.table), install_rules_(config.install_rules), interval_s_(config.interval_s),
      schedule_(now_mono_ns, interval_ns(config.interval_s)), deadline_ns_(now_mono_ns) {}

CounterInput::~CounterInput() = default;

std::int64_t CounterInput::want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) {
  // netlink answers a dump at once: the reading is synchronous, on the deadline; the only
  // descriptor is the ruleset watch's.
  (void)now_mono_ns;
  return std::min(deadline_ns_, reader_->want(fds));
}

void CounterInput::pump(std::int64_t now_mono_ns, CounterCatalog& catalog, io::SampleSink& sink) {
  // Pumped before its deadline, the input was woken by the watch or a due rules check; on a
  // tick the watch is left alone (no syscall per sample): if it is readable too, the loop
  // wakes the input again at once.
  const bool tick = now_mono_ns >= deadline_ns_;
  reader_->watch_rules(now_mono_ns, !tick);
  if (!tick) return;
  const std::int64_t read_start_ns = ctmon::now_mono_ns();
  if (reader_->read(sample_, catalog, now_mono_ns)) {
    read_ns_ += ctmon::now_mono_ns() - read_start_ns;
    last_sample_wall_ns_ = sample_.wall_ns;
    sink.on_reading(sample_, catalog);
  }
  const TickSchedule::Next next = schedule_.advance(ctmon::now_mono_ns());
  deadline_ns_ = next.deadline_ns;
  if (next.missed > 0) {
    missed_ticks_ += next.missed;
    ticks_on_time_ = 0;
    if (behind_.enter())
      log_.warning("sampling fell behind: {} tick(s) skipped; the gap shows in the data (the CPU is "
                   "busy or the clock jumped). Logged again when it keeps up for {}",
                   next.missed, format_duration_exact(kKeepingUp_s));
  } else if (behind_.active() && static_cast<double>(++ticks_on_time_) * interval_s_ >= kKeepingUp_s &&
             behind_.clear()) {
    log_.info("sampling keeps up again; {} tick(s) skipped since the start", missed_ticks_);
  }
}

void CounterInput::report(status::DaemonStatus& status) const {
  status.interval_s = interval_s_;
  status.source.table = table_name_;
  status.source.table_state = reader_->state();
  status.source.table_error = reader_->error();
  status.source.missed_ticks = missed_ticks_;
  status.source.last_sample_wall_ns = last_sample_wall_ns_;
  status.source.read_s_total = static_cast<double>(read_ns_) / kNsPerS;
  // What the table holds now: the catalog also keeps names that were renamed or deleted.
  status.source.counters = static_cast<std::uint64_t>(
      std::count_if(sample_.counters.begin(), sample_.counters.end(), [](const CounterTotals& c) { return c.present; }));
}

void CounterInput::reload(const Config& fresh) {
  if (fresh.table != table_name_ || fresh.install_rules != install_rules_) {
    try {
      reader_ = std::make_unique<Reader>(fresh.table, fresh.install_rules, log_);
      table_name_ = fresh.table;
      install_rules_ = fresh.install_rules;
    } catch (const UserError& e) {
      log_.error("SIGHUP: keeping table {}: {}", table_name_, e.what());
    }
  }
  if (fresh.interval_s != interval_s_) {
    interval_s_ = fresh.interval_s;
    const std::int64_t now = ctmon::now_mono_ns();
    schedule_ = TickSchedule(now, interval_ns(interval_s_));
    deadline_ns_ = schedule_.advance(now).deadline_ns;
  }
}

}  // namespace ctmon
