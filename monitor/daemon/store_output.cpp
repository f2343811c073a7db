#include "monitor/daemon/store_output.h"

#include <algorithm>

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
// Besides a clean stop and each episode's close, the detectors' state is saved this often. A
// save rewrites all of it (about 100 kB at 18 counters) through the WAL and again at the
// checkpoint: hourly, that was 6.3 MB a day of the 11.7 MB a 24 h replay at 5 s wrote
// (/proc io write_bytes), more than the samples. A crash costs no learning while the raw
// samples since the save are still in the ring (restore() catches up on them), so the bound is
// half the raw retention; the price is that catch-up after a crash, up to 6 h of samples
// (21,600 at 1 s, about a tenth of a second on a PC).
constexpr std::int64_t kStateSaveInterval_ns = std::int64_t{6 * 3600} * kNsPerS;
constexpr std::string_view kOpenEventKey = "open_event_id";

}  // namespace

StoreOutput::StoreOutput(store::Database& db, const store::SampleWriterOptions& writer, Logger& log)
    : db_(db), log_(log), writer_(db, writer), events_(db), meta_(db), state_(db),
      commit_interval_s_(writer.commit_interval_s),
      state_save_interval_ns_(std::min(kStateSaveInterval_ns, writer.retention_raw_s / 2 * kNsPerS)) {}

std::optional<Episode> StoreOutput::restore(Analyzer& analyzer, const LocalOffset& local_offset_s) {
  std::optional<std::int64_t> caught_up_close_wall_ns;
  if (const auto saved = state_.load(Analyzer::kStateVersion)) {
    const std::string_view bytes(reinterpret_cast<const char*>(saved->data.data()),
                                 saved->data.size());
    if (const RestoreStatus status = analyzer.restore_state(bytes); status.ok) {
      log_.info("detectors resumed from the state saved at {} ({} samples learned)",
                rfc3339_utc(saved->saved_wall_ns), analyzer.samples_seen());
      last_sample_wall_ns_ = saved->saved_wall_ns;
      caught_up_close_wall_ns = catch_up(analyzer, saved->saved_wall_ns, bytes, local_offset_s);
    } else
      log_.warning("detectors start cold: the saved state does not fit ({})", status.error);
  } else if (state_.saved_version()) {
    log_.warning("detectors start cold: the saved state is of another ctmon version");
  }
  return settle_open_event(analyzer, caught_up_close_wall_ns);
}

std::optional<std::int64_t> StoreOutput::catch_up(Analyzer& analyzer, std::int64_t saved_wall_ns,
                                                  std::string_view saved_bytes, const LocalOffset& local_offset_s) {
  store::Series series;
  try {
    series = store::SampleReader(db_).read(saved_wall_ns + 1);
  } catch (const std::exception& e) {
    log_.warning("detectors could not read the samples stored after their saved state ({}); they go on "
                 "from the saved state", e.what());
    return std::nullopt;
  }
  // Rollups are minute means of what the detectors saw, not samples they can score again.
  const std::size_t first = series.first_raw;
  if (first >= series.samples.size()) return std::nullopt;
  std::optional<std::int64_t> closed_end_wall_ns;
  for (std::size_t k = first; k < series.samples.size(); ++k) {
    const Sample& sample = series.samples[k];
    const StepResult& step = analyzer.observe(sample, series.catalog, local_offset_s(sample.wall_ns));
    if (step.change == EpisodeChange::closed && step.episode != nullptr) closed_end_wall_ns = step.episode->end_wall_ns;
  }
  // The daemon's source numbers the counters its own way: a save and restore makes the
  // detectors match them by name again, and take the next sample as a new rate reference
  // (the time the daemon was down is unknown to them).
  if (const RestoreStatus status = analyzer.restore_state(analyzer.save_state()); !status.ok) {
    (void)analyzer.restore_state(saved_bytes);
    log_.warning("detectors could not keep what they caught up on ({}); they go on from the saved state",
                 status.error);
    return std::nullopt;
  }
  last_sample_wall_ns_ = series.samples.back().wall_ns;
  log_.info("detectors caught up on the {} samples stored after that, up to {}", series.samples.size() - first,
            rfc3339_utc(*last_sample_wall_ns_));
  return closed_end_wall_ns;
}

std::optional<Episode> StoreOutput::settle_open_event(Analyzer& analyzer,
                                                      std::optional<std::int64_t> caught_up_close_wall_ns) {
  try {
    const std::int64_t id = meta_.get_int(kOpenEventKey).value_or(0);
    const std::optional<store::EventRecord> row = id != 0 ? events_.get(id) : std::nullopt;
    // The events table says what the last run saw, with every sample a rate; what the detectors
    // made of the stored samples (catch_up) decides only how that goes on.
    if (!row || row->end_wall_ns) {
      analyzer.settle_open_episode(std::nullopt);  // the last run had none open: not a real one
      return std::nullopt;
    }
    if (analyzer.open_episode() != nullptr) {
      analyzer.settle_open_episode(row->start_wall_ns);
      open_event_id_ = id;
      log_.info("episode {} goes on from before the restart: the detectors still have it open", id);
      return std::nullopt;
    }
    // The detectors have it closed, or never reached it: it closes now, where they saw its
    // traffic end if they did, else at the last stored sample.
    store::EventRecord closed = *row;
    const bool seen_end = caught_up_close_wall_ns && *caught_up_close_wall_ns >= row->start_wall_ns;
    const std::int64_t end = seen_end ? *caught_up_close_wall_ns
                                      : store::SampleReader(db_).extent().newest_raw_wall_ns.value_or(row->start_wall_ns);
    closed.end_wall_ns = std::max(end, row->start_wall_ns);
    closed.updated_wall_ns = now_wall_ns();
    events_.upsert(closed);
    meta_.set(kOpenEventKey, std::int64_t{0});
    log_.warning("episode {} was still open when the daemon stopped without saving: closed {}, {}", id,
                 seen_end ? "where its traffic ended" : "at the last stored sample", rfc3339_utc(*closed.end_wall_ns));
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
  last_sample_wall_ns_ = view.sample.wall_ns;
  const StepResult& step = view.step;
  if (step.change != EpisodeChange::none && step.episode != nullptr) {
    if (step.change == EpisodeChange::opened) {
      record_episode(*step.episode, now_mono_ns, true);
    } else if (step.change == EpisodeChange::closed) {
      record_episode(*step.episode, now_mono_ns, true);
      save_state(view.analyzer);
      last_state_save_mono_ns_ = now_mono_ns;
    } else if (now_mono_ns - last_event_write_mono_ns_ >= kOpenEpisodeRewrite_ns) {
      record_episode(*step.episode, now_mono_ns, false);
    }
  }
  flush_pending_event();

  if (writer_.commit_due(now_mono_ns)) report_commit(writer_.commit(now_mono_ns));
  if (last_state_save_mono_ns_ == 0) last_state_save_mono_ns_ = now_mono_ns;
  if (now_mono_ns - last_state_save_mono_ns_ >= state_save_interval_ns_) {
    save_state(view.analyzer);
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

void StoreOutput::save_state(const Analyzer& analyzer) {
  const std::string bytes = analyzer.save_state();
  store::DetectorState state;
  state.format_version = Analyzer::kStateVersion;
  state.saved_wall_ns = last_sample_wall_ns_.value_or(now_wall_ns());  // nothing seen: nothing to catch up
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
  save_state(analyzer);
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
