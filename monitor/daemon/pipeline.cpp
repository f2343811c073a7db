#include "monitor/clock.h"
#include "monitor/daemon/pipeline.h"

#include <unistd.h>

#include <cmath>
#include <ctime>

#include "detectors/fusion.h"
#include "monitor/cli/events_json.h"
#include "monitor/store/sqlite_handle.h"

namespace ctmon {
namespace {

constexpr std::int64_t kNsPerS = 1'000'000'000;
// While an episode is open its peak may rise every sample; rewriting the row every time would
// cost flash for nothing, so the running peak is written at most this often (and at close).
constexpr std::int64_t kOpenEpisodeRewrite_ns = 60 * kNsPerS;
// How much learning a power cut may cost at most.
constexpr std::int64_t kStateSaveInterval_ns = 3600 * kNsPerS;
constexpr std::string_view kOpenEventKey = "open_event_id";


std::string detector_names(std::uint8_t bits) {
  std::string names;
  for (const DetectorBit bit :
       {kDetectorPoint, kDetectorCusum, kDetectorMultivariate, kDetectorSeasonal})
    if ((bits & bit) != 0) names += (names.empty() ? "" : ",") + std::string(detector_name(bit));
  return names;
}

}  // namespace

store::EventRecord to_event_record(const Episode& episode, std::int64_t event_id,
                                   std::int64_t now_wall_ns) {
  store::EventRecord record;
  record.id = event_id;
  record.start_wall_ns = episode.start_wall_ns;
  if (!episode.open) record.end_wall_ns = episode.end_wall_ns;
  record.peak_score = episode.peak_score;
  record.kind = std::string(to_string(episode.kind));
  record.summary = episode.summary;
  record.evidence_json = cli::episode_to_json(episode).at("counters").dump();
  record.detectors = detector_names(episode.detectors);
  record.updated_wall_ns = now_wall_ns;
  return record;
}

Pipeline::Pipeline(store::Database& db, const AnalyzerConfig& analyzer,
                   const store::SampleWriterOptions& writer, Logger& log)
    : db_(db), log_(log), analyzer_(analyzer), writer_(db, writer), events_(db), meta_(db),
      state_(db) {
  if (const auto saved = state_.load(Analyzer::kStateVersion)) {
    const std::string_view bytes(reinterpret_cast<const char*>(saved->data.data()),
                                 saved->data.size());
    if (const RestoreStatus status = analyzer_.restore_state(bytes); status.ok)
      log_.info("detectors resumed from the state saved at {} ({} samples learned)",
                cli::rfc3339_utc(saved->saved_wall_ns), analyzer_.samples_seen());
    else
      log_.warning("detectors start cold: the saved state does not fit ({})", status.error);
  } else if (state_.saved_version()) {
    log_.warning("detectors start cold: the saved state is of another ctmon version");
  }
  if (analyzer_.open_episode() != nullptr) open_event_id_ = meta_.get_int(kOpenEventKey);
}

const StepResult& Pipeline::feed(const Sample& sample, const CounterCatalog& catalog,
                                 std::int64_t local_offset_s, std::int64_t now_mono_ns) {
  // The real clock, not the now_mono_ns argument: when replaying that is the recording's time.
  const std::int64_t detectors_start_ns = ctmon::now_mono_ns();
  const StepResult& step = analyzer_.observe(sample, catalog, local_offset_s);
  stats_.detector_ns += ctmon::now_mono_ns() - detectors_start_ns;
  writer_.append(sample, catalog);
  if (forwarder_) forwarder_->step(sample, step, catalog, now_mono_ns, now_wall_ns());
  ++stats_.samples;

  if (step.change != EpisodeChange::none && step.episode != nullptr) {
    const Episode& episode = *step.episode;
    if (step.change == EpisodeChange::opened) {
      ++stats_.episodes_opened;
      log_.info("episode opened: {} (score {:.2f})", episode.summary, episode.peak_score);
      record_episode(episode, now_mono_ns, true);
    } else if (step.change == EpisodeChange::closed) {
      ++stats_.episodes_closed;
      log_.info("episode closed after {:.0f} s: {} (peak {:.2f})",
                static_cast<double>(episode.end_wall_ns - episode.start_wall_ns) / kNsPerS,
                episode.summary, episode.peak_score);
      record_episode(episode, now_mono_ns, true);
      save_state(sample.wall_ns);
      last_state_save_mono_ns_ = now_mono_ns;
    } else if (now_mono_ns - last_event_write_mono_ns_ >= kOpenEpisodeRewrite_ns) {
      record_episode(episode, now_mono_ns, false);
    }
  }
  flush_pending_event();

  if (writer_.commit_due(now_mono_ns)) report(writer_.commit(now_mono_ns));
  if (last_state_save_mono_ns_ == 0) last_state_save_mono_ns_ = now_mono_ns;
  if (now_mono_ns - last_state_save_mono_ns_ >= kStateSaveInterval_ns) {
    save_state(sample.wall_ns);
    last_state_save_mono_ns_ = now_mono_ns;
  }
  return step;
}

void Pipeline::record_episode(const Episode& episode, std::int64_t now_mono_ns,
                              bool force_samples) {
  if (!open_event_id_) {
    open_event_id_ = events_.next_event_id();
    if (pending_event_ && pending_event_->id >= *open_event_id_) open_event_id_ = pending_event_->id + 1;
  }
  pending_event_ = to_event_record(episode, *open_event_id_, now_wall_ns());
  last_event_write_mono_ns_ = now_mono_ns;
  if (!episode.open) open_event_id_.reset();
  flush_pending_event();
  // The samples that show the episode become durable with it, not up to a commit interval later.
  if (force_samples) report(writer_.flush(now_mono_ns));
}

void Pipeline::flush_pending_event() {
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

void Pipeline::report(const store::CommitResult& result) {
  store_condition_ = result.condition;
  if (!result.changed) return;
  if (result.condition == store::CommitCondition::kOk)
    log_.info("writing samples to {} works again; nothing was lost", db_.path().string());
  else
    log_.error("cannot write samples to {}: {} ({}); {} samples kept in memory, retrying",
               db_.path().string(), store::to_string(result.condition), result.message,
               result.samples_in_ram);
}

void Pipeline::save_state(std::int64_t wall_ns) {
  const std::string bytes = analyzer_.save_state();
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

std::unique_ptr<influx::Sender> start_forwarding(const Config& config, Pipeline& pipeline, Logger& log) {
  if (config.influx.url.empty()) return nullptr;
  influx::ForwarderConfig forward;
  forward.host = config.host;
  if (forward.host.empty()) {
    char name[256] = {};
    forward.host = gethostname(name, sizeof name - 1) == 0 && name[0] != '\0' ? name : "router";
  }
  if (const auto colon = config.table.find(':'); colon != std::string::npos)
    forward.collectd_instance = config.table.substr(colon + 1);
  forward.pre_window_ms = std::llround(config.influx.pre_window_s * 1000);
  forward.post_window_ms = std::llround(config.influx.post_window_s * 1000);
  forward.heartbeat_ms = std::llround(config.influx.heartbeat_s * 1000);
  forward.collectd_compat = config.influx.collectd_series;
  influx::SenderConfig send;
  send.influx = config.influx;
  send.rejected_path = config.db + ".influx-rejected";
  pipeline.enable_forwarding(forward);
  auto sender = std::make_unique<influx::Sender>(
      *pipeline.outbox(), send, [&log](influx::Severity severity, const std::string& line) {
        if (severity == influx::Severity::kError)
          log.error("{}", line);
        else if (severity == influx::Severity::kWarning)
          log.warning("{}", line);
        else
          log.info("{}", line);
      });
  log.info("forwarding episodes to InfluxDB at {} ({} API) as host {}; {} lines queued from before",
           influx::loggable_url(config.influx.url), config.influx.api, forward.host,
           pipeline.outbox()->size());
  return sender;
}

void Pipeline::enable_forwarding(const influx::ForwarderConfig& config) {
  outbox_ = std::make_unique<store::Outbox>(db_);
  forwarder_ = std::make_unique<influx::Forwarder>(
      *outbox_, config, [this](influx::Severity severity, const std::string& line) {
        if (severity == influx::Severity::kError)
          log_.error("{}", line);
        else if (severity == influx::Severity::kWarning)
          log_.warning("{}", line);
        else
          log_.info("{}", line);
      });
  if (const Episode* open = analyzer_.open_episode()) forwarder_->resume(*open);
}

bool Pipeline::finish(std::int64_t now_mono_ns) {
  // An open episode's row may hold a peak up to a minute old: store what is known now.
  if (const Episode* open = analyzer_.open_episode(); open != nullptr && open_event_id_)
    pending_event_ = to_event_record(*open, *open_event_id_, now_wall_ns());
  flush_pending_event();
  // What is planned for InfluxDB goes to the durable outbox, not to the network: the sender
  // sends it after the restart.
  if (forwarder_ && !forwarder_->flush(now_wall_ns(), true))
    log_.error("{} InfluxDB points could not be queued in the outbox and are lost",
               forwarder_->pending());
  const store::CommitResult result = writer_.flush(now_mono_ns);
  save_state(now_wall_ns());
  if (result.condition != store::CommitCondition::kOk) {
    log_.error("the final write to {} failed: {} ({}); {} samples were not saved",
               db_.path().string(), store::to_string(result.condition), result.message,
               result.samples_in_ram);
    return false;
  }
  return pending_event_ == std::nullopt;
}

}  // namespace ctmon
