#include "monitor/daemon/pipeline.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "core/time.h"
#include "monitor/clock.h"

namespace ctmon {
namespace {


// Mean detector time per sample in microseconds, to two decimals (0 before the first sample).
double detector_us_per_sample(const PipelineStats& stats) {
  if (stats.samples == 0) return 0.0;
  return std::round(static_cast<double>(stats.detector_ns) / static_cast<double>(stats.samples) / 10.0) / 100.0;
}

// "14:32" for a wall time in the zone `local_offset_s` east of UTC: the log line a person reads
// on the router, whose own clock is local.
std::string local_hh_mm(std::int64_t wall_ns, std::int64_t local_offset_s) {
  const std::int64_t local_s = floor_div(wall_ns, kNsPerS) + local_offset_s;
  const std::int64_t minute_of_day = floor_div(local_s, 60) - floor_div(local_s, kSecondsPerDay) * 1440;
  return fmt::format("{:02}:{:02}", minute_of_day / 60, minute_of_day % 60);
}

}  // namespace

AnalyzerConfig network_detectors(double interval_s, double episode_gap_s) {
  AnalyzerConfig config = AnalyzerConfig::network(interval_s);
  constexpr std::uint32_t kMinCloseSamples = 3;  // one late tick must not close an episode
  const auto gap_samples = static_cast<std::uint32_t>(std::lround(episode_gap_s / config.rates.nominal_interval_s));
  config.episodes.merge_gap_s = episode_gap_s;
  config.episodes.close_samples = std::min(config.episodes.close_samples, std::max(kMinCloseSamples, gap_samples));
  return config;
}

Pipeline::Pipeline(store::Database& db, const AnalyzerConfig& analyzer, const store::SampleWriterOptions& writer,
                   Logger& log, const StoreOutput::LocalOffset& local_offset_s)
    : log_(log), analyzer_(std::make_unique<Analyzer>(analyzer)), store_(db, writer, log) {
  closed_at_restart_ = store_.restore(*analyzer_, local_offset_s);
  store_.start(*analyzer_);
}

void Pipeline::add_output(std::unique_ptr<io::Output> output) {
  output->start(*analyzer_);
  if (closed_at_restart_) output->on_episode_closed_at_restart(*closed_at_restart_);
  outputs_.push_back(std::move(output));
}

const StepResult& Pipeline::feed(const Sample& sample, const CounterCatalog& catalog,
                                 std::int64_t local_offset_s, std::int64_t now_mono_ns) {
  // The real clock, not the now_mono_ns argument: when replaying that is the recording's time.
  const std::int64_t detectors_start_ns = ctmon::now_mono_ns();
  const StepResult& step = analyzer_->observe(sample, catalog, local_offset_s);
  stats_.detector_ns += ctmon::now_mono_ns() - detectors_start_ns;
  ++stats_.samples;
  note_learning(sample.wall_ns, local_offset_s);

  if (step.change != EpisodeChange::none && step.episode != nullptr) {
    const Episode& episode = *step.episode;
    if (step.change == EpisodeChange::opened) {
      ++stats_.episodes_opened;
      log_.info("episode opened: {} (score {:.2f})", episode.summary, episode.peak_score);
    } else if (step.change == EpisodeChange::closed) {
      ++stats_.episodes_closed;
      log_.info("episode closed after {:.0f} s: {} (peak {:.2f})",
                static_cast<double>(episode.end_wall_ns - episode.start_wall_ns) / kNsPerS,
                episode.summary, episode.peak_score);
    }
  }
  const io::SampleView view{sample, catalog, step, *analyzer_, now_mono_ns, now_wall_ns()};
  const std::uint64_t commits_before = store_.writer().stats().commits_ok;
  store_.on_sample(view);
  // The other outputs name the episode by its events-table id, as `ctmon events` does: a copy
  // of the step with that id, made only on the rare samples where the numbers differ.
  std::optional<Episode> stored_episode;
  std::optional<StepResult> stored_step;
  if (step.change != EpisodeChange::none && step.episode != nullptr &&
      step.episode->id != static_cast<std::uint64_t>(store_.event_id())) {
    stored_episode = *step.episode;
    stored_episode->id = static_cast<std::uint64_t>(store_.event_id());
    stored_step = step;
    stored_step->episode = &*stored_episode;
  }
  const io::SampleView outputs_view{sample, catalog, stored_step ? *stored_step : step, *analyzer_, now_mono_ns,
                                    view.now_wall_ns};
  for (const auto& output : outputs_) output->on_sample(outputs_view);
  if (step.change != EpisodeChange::none && step.episode != nullptr) {
    store_.on_episode(*step.episode, step.change, view);
    for (const auto& output : outputs_)
      output->on_episode(*outputs_view.step.episode, step.change, outputs_view);
  }
  if (store_.writer().stats().commits_ok != commits_before)
    for (const auto& output : outputs_) output->on_samples_durable(now_mono_ns, view.now_wall_ns);
  return step;
}

void Pipeline::note_learning(std::int64_t wall_ns, std::int64_t local_offset_s) {
  const std::uint64_t left = analyzer_->warmup_samples_left();
  if (left == 0) {
    if (learning_until_wall_ns_ != 0)
      log_.info("detectors ready: they learned this router's traffic, episodes can open from now on");
    learning_until_wall_ns_ = 0;
    return;
  }
  const double interval_s = analyzer_->config().rates.nominal_interval_s;
  learning_until_wall_ns_ = wall_ns + static_cast<std::int64_t>(std::llround(static_cast<double>(left) * interval_s * kNsPerS));
  if (!learning_said_)
    log_.info("detectors learning this router's traffic until {} ({}): no episodes before then",
              local_hh_mm(learning_until_wall_ns_, local_offset_s),
              format_duration_exact(static_cast<double>(left) * interval_s));
  learning_said_ = true;
}

bool Pipeline::reconfigure(const AnalyzerConfig& config) {
  const std::string learned = analyzer_->save_state();
  auto rebuilt = std::make_unique<Analyzer>(config);
  const bool kept = rebuilt->restore_state(learned).ok;  // refused: still the fresh detectors
  analyzer_ = std::move(rebuilt);
  if (!kept) learning_said_ = false;
  return kept;
}

bool Pipeline::finish(std::int64_t now_mono_ns) {
  bool saved = store_.finish(*analyzer_, now_mono_ns);
  for (const auto& output : outputs_) saved = output->finish(*analyzer_, now_mono_ns) && saved;
  return saved;
}

void Pipeline::report(status::DaemonStatus& status) const {
  status.samples = stats_.samples;
  status.episodes_opened = stats_.episodes_opened;
  status.open_episode = analyzer_->open_episode() != nullptr;
  status.detector_us_per_sample = detector_us_per_sample(stats_);
  status.detector_s_total = static_cast<double>(stats_.detector_ns) / kNsPerS;
  status.learning_until_wall_ns = learning_until_wall_ns_;
  store_.report(status);
  for (const auto& output : outputs_) output->report(status);
}

}  // namespace ctmon
