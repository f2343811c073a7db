#pragma once
// The store as an output: every sample into the ring buffer (SampleWriter), every episode into
// the events table, and the detectors' learned state saved and restored. Always on.
//
// Episodes are written the moment they open and close, together with the samples buffered so
// far (a power cut never loses an episode nor the samples that show it); everything else is
// committed every commit interval. The detectors' state is saved at shutdown, when an episode
// closes, and every 6 hours (at most half the raw retention), and restored at start, so a
// restart needs no new warm-up.
//
// After a crash the saved state is up to 6 hours older than the samples stored: restore() then
// feeds the detectors the samples stored since the save: the same counters at the same monotonic
// times as the first time, so the same rates, except that the first one is only a rate
// reference to them and their short windows refill. That brings back what they learned in that
// time, and tells how the episode open at the crash went on and where its traffic ended:
// closing it at the last stored sample instead would stretch a 25 s burst by however long the
// router stayed up after it. The events table's record of that episode (its start) stays what
// the crashed run saw. Costs reading and scoring those samples once per crash (up to 21,600 at
// 1 s: about a tenth of a second on a PC); after a clean stop there are none.

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "detectors/analyzer.h"
#include "monitor/daemon/logger.h"
#include "monitor/io/condition_log.h"
#include "monitor/io/output.h"
#include "monitor/status/live_samples.h"
#include "monitor/store/database.h"
#include "monitor/store/event_store.h"
#include "monitor/store/meta_store.h"
#include "monitor/store/sample_writer.h"
#include "monitor/store/state_store.h"

namespace ctmon {

class StoreOutput : public io::Output {
 public:
  /// Uses `db` (read-write; outlives this object).
  StoreOutput(store::Database& db, const store::SampleWriterOptions& writer, Logger& log);

  /// Seconds east of UTC at a wall time, for the detectors' time-of-day bins.
  using LocalOffset = std::function<std::int64_t(std::int64_t wall_ns)>;

  /// Restores the detectors' saved state into `analyzer` when it is compatible (logging which
  /// way it went) and feeds it the samples stored since that state was saved (see above), and
  /// the open episode's events-table id with it. An episode the events table still has open
  /// from before a crash goes on, from its recorded start, when the detectors have an episode
  /// open; else it is closed where they saw it end, or at the last sample stored (its start when
  /// none is later), and returned for the other outputs (on_episode_closed_at_restart). An
  /// episode only the detectors have open is forgotten: the run they caught up on had none.
  std::optional<Episode> restore(Analyzer& analyzer, const LocalOffset& local_offset_s);

  /// Saves the detectors' state now, as of the last sample they saw (a failure is logged, never
  /// thrown).
  void save_state(const Analyzer& analyzer);

  [[nodiscard]] std::string_view name() const override { return "store"; }
  void on_sample(const io::SampleView& view) override;
  bool finish(const Analyzer& analyzer, std::int64_t now_mono_ns) override;
  void report(status::DaemonStatus& status) const override;

  /// After a commit since the last call: what is gone of the database's files (Database::moved()),
  /// else nullopt. Between commits nothing is checked: nothing was written that could be lost.
  [[nodiscard]] std::optional<std::string> files_moved();

  /// The events-table id of the episode this sample opened, changed or closed (after on_sample).
  /// It is the id `ctmon events` and `ctmon show` know; the detectors' own number is not (a
  /// restart that restores a state saved before the last episodes numbers them again).
  [[nodiscard]] std::int64_t event_id() const { return open_event_id_.value_or(recorded_event_id_); }

  [[nodiscard]] const store::SampleWriter& writer() const { return writer_; }
  /// The samples not yet committed, for readers (the status socket's "samples").
  [[nodiscard]] status::LiveSamples live_samples() const;
  /// "ok", or why the last commit failed ("disk full", "database locked", ...).
  [[nodiscard]] store::CommitCondition condition() const { return condition_; }

 private:
  /// Feeds `analyzer` the raw samples stored after `saved_wall_ns`; returns the end of the last
  /// episode it closed meanwhile, if any.
  std::optional<std::int64_t> catch_up(Analyzer& analyzer, std::int64_t saved_wall_ns, std::string_view saved_bytes,
                                       const LocalOffset& local_offset_s);
  std::optional<Episode> settle_open_event(Analyzer& analyzer, std::optional<std::int64_t> caught_up_close_wall_ns);
  void record_episode(const Episode& episode, std::int64_t now_mono_ns, bool force_samples);
  void flush_pending_event();
  void report_commit(const store::CommitResult& result);

  store::Database& db_;
  Logger& log_;
  store::SampleWriter writer_;
  store::EventStore events_;
  store::MetaStore meta_;
  store::StateStore state_;
  std::optional<std::int64_t> open_event_id_;        // events-table id of the open episode
  std::optional<store::EventRecord> pending_event_;  // written when the database lets us
  std::int64_t recorded_event_id_ = 0;              // id of the episode recorded last
  std::int64_t last_event_write_mono_ns_ = 0;
  std::int64_t last_state_save_mono_ns_ = 0;
  std::optional<std::int64_t> last_sample_wall_ns_;  // the detectors' last sample: restored, caught up or fed
  ConditionLog<> event_failure_;
  store::CommitCondition condition_ = store::CommitCondition::kOk;
  std::int64_t commit_interval_s_;
  std::int64_t state_save_interval_ns_;  // besides clean stops and episode closes (store_output.cpp)
  std::uint64_t commits_checked_ = 0;  // writer_.stats().commits_ok at the last files_moved()
};

}  // namespace ctmon
