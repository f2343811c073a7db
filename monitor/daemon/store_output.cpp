#include "monitor/daemon/store_output.h"

#include "core/episode.h"
#include "core/time.h"
#include "monitor/clock.h"
#include "monitor/events/event_record.h"
#include "monitor/store/sample_reader.h"
#include "monitor/store/sqlite_handle.h"

namespace ctmon {
namespace {

// While an episode is open its peak may rise every sample; rewriting the row every time would
// cost flash for nothing, so the running peak is written at most this often (and at close).
constexpr std::int64_t kOpenEpisodeRewrite_ns = 60 * kNsPerS;
// How much learning a power cut may cost at most.
constexpr std::int64_t kStateSaveInterval_ns = 3600 * kNsPerS;
constexpr std::string_view kOpenEventKey = "open_event_id";

}  // namespace

StoreOutput::StoreOutput(store::Database& db, const store::SampleWriterOptions& writer, Logger& log)
    : db_(db), log_(log), writer_(db, writer), events_(db), meta_(db), state_(db),
      commit_interval_s_(writer.commit_interval_s) {}

std::optional<Episode> StoreOutput::restore(Analyzer& analyzer) {
  if (const auto saved = state_.load(Analyzer::kStateVersion)) {
    const std::string_view bytes(reinterpret_cast<const char*>(saved->data.data()),
                                 saved->data.size());
    if (const RestoreStatus status = analyzer.restore_state(bytes); status.ok)
      log_.info("detectors resumed from the state saved at {} ({} samples learned)",
                rfc3339_utc(saved->saved_wall_ns), analyzer.samples_seen());
    else
      log_.warning("detectors start cold: the saved state does not fit ({})", status.error);
  } else if (state_.saved_version()) {
    log_.warning("detectors start cold: the saved state is of another ctmon version");
  }
  return settle_open_event(analyzer);
}

std::optional<Episode> StoreOutput::settle_open_event(const Analyzer& analyzer) {
  const Episode* open = analyzer.open_episode();
  try {
    const std::int64_t id = meta_.get_int(kOpenEventKey).value_or(0);
    const std::optional<store::EventRecord> row = id != 0 ? events_.get(id) : std::nullopt;
    if (!row || row->end_wall_ns) return std::nullopt;
    if (open != nullptr && open->start_wall_ns == row->start_wall_ns) {
      open_event_id_ = id;  // the detectors carry it on
      return std::nullopt;
    }
    // The detectors' state was saved before this episode opened: nothing will ever close it.
    store::EventRecord closed = *row;
    const std::int64_t last_sample = store::SampleReader(db_).extent().newest_raw_wall_ns.value_or(row->start_wall_ns);
    closed.end_wall_ns = std::max(last_sample, row->start_wall_ns);
    closed.updated_wall_ns = now_wall_ns();
    events_.upsert(closed);
    meta_.set(kOpenEventKey, std::int64_t{0});
    log_.warning("episode {} was still open when the daemon stopped without saving: closed at the last "
                 "stored sample, {}",
                 id, rfc3339_utc(*closed.end_wall_ns));
    Episode episode;
    episode.id = static_cast<std::uint64_t>(id);
    episode.open = false;
    episode.start_wall_ns = closed.start_wall_ns;
    episode.end_wall_ns = *closed.end_wall_ns;
    episode.peak_score = closed.peak_score;
    episode.summary = closed.summary;
    for (const EpisodeKind kind : {EpisodeKind::wan_drop, EpisodeKind::invalid_burst, EpisodeKind::scan,
                                   EpisodeKind::udp_storm, EpisodeKind::conntrack_full})
      if (to_string(kind) == closed.kind) episode.kind = kind;
    return episode;
  } catch (const store::SqliteError& e) {
    log_.warning("could not check {} for an episode left open by a crash ({}); it may stay open",
                 db_.path().string(), e.what());
    return std::nullopt;
  }
}

void StoreOutput::on_sample(const io::SampleView& view) {
  const std::int64_t now_mono_ns = view.now_mono_ns;
  writer_.append(view.sample, view.catalog);
  const StepResult& step = view.step;
  if (step.change != EpisodeChange::none && step.episode != nullptr) {
    if (step.change == EpisodeChange::opened) {
      record_episode(*step.episode, now_mono_ns, true);
    } else if (step.change == EpisodeChange::closed) {
      record_episode(*step.episode, now_mono_ns, true);
      save_state(view.analyzer, view.sample.wall_ns);
      last_state_save_mono_ns_ = now_mono_ns;
    } else if (now_mono_ns - last_event_write_mono_ns_ >= kOpenEpisodeRewrite_ns) {
      record_episode(*step.episode, now_mono_ns, false);
    }
  }
  flush_pending_event();

  if (writer_.commit_due(now_mono_ns)) report_commit(writer_.commit(now_mono_ns));
  if (last_state_save_mono_ns_ == 0) last_state_save_mono_ns_ = now_mono_ns;
  if (now_mono_ns - last_state_save_mono_ns_ >= kStateSaveInterval_ns) {
    save_state(view.analyzer, view.sample.wall_ns);
    last_state_save_mono_ns_ = now_mono_ns;
  }
}

void StoreOutput::record_episode(const Episode& episode, std::int64_t now_mono_ns,
                                 bool force_samples) {
  if (!open_event_id_) {
    open_event_id_ = events_.next_event_id();
    if (pending_event_ && pending_event_->id >= *open_event_id_) open_event_id_ = pending_event_->id + 1;
  }
  pending_event_ = events::to_event_record(episode, *open_event_id_, now_wall_ns());
  recorded_event_id_ = *open_event_id_;
  last_event_write_mono_ns_ = now_mono_ns;
  if (!episode.open) open_event_id_.reset();
  flush_pending_event();
  // The samples that show the episode become durable with it, not up to a commit interval later.
  if (force_samples) report_commit(writer_.flush(now_mono_ns));
}

void StoreOutput::flush_pending_event() {
  if (!pending_event_) return;
  try {
    events_.upsert(*pending_event_);
    if (pending_event_->end_wall_ns)
      meta_.set(kOpenEventKey, std::int64_t{0});
    else
      meta_.set(kOpenEventKey, pending_event_->id);
    pending_event_.reset();
    if (event_failure_.clear()) log_.info("episodes are being recorded again");
  } catch (const store::SqliteError& e) {
    if (event_failure_.enter())
      log_.error("cannot record episode {} yet ({}); kept in memory and retried every sample",
                 pending_event_->id, e.what());
  }
}

void StoreOutput::report_commit(const store::CommitResult& result) {
  condition_ = result.condition;
  if (!result.changed) return;
  if (result.condition == store::CommitCondition::kOk)
    log_.info("writing samples to {} works again; nothing was lost", db_.path().string());
  else
    log_.error("cannot write samples to {}: {} ({}); {} samples kept in memory, retrying",
               db_.path().string(), store::to_string(result.condition), result.message,
               result.samples_in_ram);
}

void StoreOutput::save_state(const Analyzer& analyzer, std::int64_t wall_ns) {
  const std::string bytes = analyzer.save_state();
  store::DetectorState state;
  state.format_version = Analyzer::kStateVersion;
  state.saved_wall_ns = wall_ns;
  state.data.assign(bytes.begin(), bytes.end());
  try {
    state_.save(state);
  } catch (const store::SqliteError& e) {
    log_.warning("cannot save the detectors' state ({}); a restart now would relearn", e.what());
  }
}

bool StoreOutput::finish(const Analyzer& analyzer, std::int64_t now_mono_ns) {
  // An open episode's row may hold a peak up to a minute old: store what is known now.
  if (const Episode* open = analyzer.open_episode(); open != nullptr && open_event_id_)
    pending_event_ = events::to_event_record(*open, *open_event_id_, now_wall_ns());
  flush_pending_event();
  const store::CommitResult result = writer_.flush(now_mono_ns);
  save_state(analyzer, now_wall_ns());
  if (result.condition != store::CommitCondition::kOk) {
    log_.error("the final write to {} failed: {} ({}); {} samples were not saved",
               db_.path().string(), store::to_string(result.condition), result.message,
               result.samples_in_ram);
    return false;
  }
  return pending_event_ == std::nullopt;
}

status::LiveSamples StoreOutput::live_samples() const {
  status::LiveSamples live;
  live.db = db_.path().string();
  live.continues_stored = writer_.stats().commits_ok > 0;
  writer_.uncommitted(live.counters, live.samples);
  return live;
}

std::optional<std::string> StoreOutput::files_moved() {
  const std::uint64_t commits = writer_.commits_ok();
  if (commits == commits_checked_) return std::nullopt;
  commits_checked_ = commits;
  return db_.moved();
}

void StoreOutput::report(status::DaemonStatus& status) const {
  const store::WriterStats stats = writer_.stats();
  status.store.db = db_.path().string();
  status.store.commit_interval_s = static_cast<double>(commit_interval_s_);
  status.store.samples_in_ram = stats.samples_in_ram;
  status.store.samples_dropped = stats.samples_dropped;
  status.store.state = condition_;
}

}  // namespace ctmon
