// ctmon replay: run the daemon's detectors over a recorded CSV as fast as possible and print the
// episodes found (events JSON lines with --json, a table otherwise). `--format nab` scores a NAB
// single-series file instead and writes `timestamp,value,anomaly_score` to --scores-out.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "core/time.h"
#include "detectors/analyzer.h"
#include "monitor/cli/commands.h"
#include "monitor/cli/config_flags.h"
#include "monitor/cli/event_table.h"
#include "monitor/cli/terminal.h"
#include "monitor/clock.h"
#include "monitor/daemon/logger.h"
#include "monitor/daemon/pipeline.h"
#include "monitor/daemon/registry.h"
#include "monitor/events/event_record.h"
#include "monitor/events/events_json.h"
#include "monitor/influx/influx_output.h"
#include "monitor/source/csv_source.h"
#include "monitor/store/database.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {


/// The replay pipeline, source to detectors, as the daemon runs it: every sample goes through
/// `analyzer` and `on_step` sees the sample and what the analyzer made of it. `--db` (storing
/// samples and events) plugs in as another on_step. Returns the number of samples.
std::uint64_t analyze_source(CounterSource& source, CounterCatalog& catalog, Analyzer& analyzer,
                             std::int64_t local_offset_s,
                             const std::function<void(const Sample&, const StepResult&)>& on_step) {
  Sample sample;
  std::uint64_t n = 0;
  while (source.next(sample, catalog)) {
    on_step(sample, analyzer.observe(sample, catalog, local_offset_s));
    ++n;
  }
  return n;
}

/// A CounterSource that replays a few samples read ahead (to learn the interval) before the
/// rest of the underlying source.
class PeekedSource : public CounterSource {
 public:
  PeekedSource(CounterSource& inner, std::vector<Sample> ahead) : inner_(inner), ahead_(std::move(ahead)) {}
  bool next(Sample& out, CounterCatalog& catalog) override {
    if (next_ < ahead_.size()) {
      out = ahead_[next_++];
      out.counters.resize(catalog.size());
      return true;
    }
    return inner_.next(out, catalog);
  }

 private:
  CounterSource& inner_;
  std::vector<Sample> ahead_;
  std::size_t next_ = 0;
};

/// "\r 42% ..." on stderr, only when stderr is a terminal.
class Progress {
 public:
  Progress(const std::string& path, const char* what) : what_(what) {
    if (!isatty(STDERR_FILENO)) return;
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    total_ = f ? static_cast<std::uint64_t>(f.tellg()) : 0;
  }
  ~Progress() {
    if (total_ > 0 && shown_ >= 0) fmt::print(stderr, "\r{:60}\r", "");
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(std::uint64_t bytes, std::uint64_t samples) {
    if (total_ == 0 || (samples & 0xfff) != 0) return;
    const int percent = static_cast<int>(100 * bytes / total_);
    if (percent == shown_) return;
    shown_ = percent;
    const int width = 30;
    const int filled = width * percent / 100;
    fmt::print(stderr, "\r{} [{}{}] {:3}%", what_, std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(width - filled), ' '), percent);
    std::fflush(stderr);
  }

 private:
  const char* what_;
  std::uint64_t total_ = 0;
  int shown_ = -1;
};

/// Parses "+02:00", "-0530", "+2" or plain seconds ("7200") into seconds east of UTC.
std::int64_t parse_utc_offset(const std::string& text) {
  if (text.empty()) return 0;
  const bool has_sign = text[0] == '+' || text[0] == '-';
  const std::string body = has_sign ? text.substr(1) : text;
  const int sign = text[0] == '-' ? -1 : 1;
  std::int64_t h = 0, m = 0;
  char extra = 0;
  const auto bad = [&] {
    return UserError("--utc-offset '" + text + "': expected +HH:MM (e.g. +02:00) or seconds east of UTC (e.g. 7200)");
  };
  if (!has_sign) {
    if (std::sscanf(body.c_str(), "%lld%c", reinterpret_cast<long long*>(&h), &extra) != 1) throw bad();
    return h;
  }
  if (std::sscanf(body.c_str(), "%2lld:%2lld%c", reinterpret_cast<long long*>(&h), reinterpret_cast<long long*>(&m),
                  &extra) == 2 ||
      (body.size() == 4 && std::sscanf(body.c_str(), "%2lld%2lld%c", reinterpret_cast<long long*>(&h),
                                       reinterpret_cast<long long*>(&m), &extra) == 2) ||
      (body.size() <= 2 && std::sscanf(body.c_str(), "%lld%c", reinterpret_cast<long long*>(&h), &extra) == 1)) {
    if (h > 14 || m > 59) throw bad();
    return sign * (h * 3600 + m * 60);
  }
  throw bad();
}

struct Options {
  std::string input;
  std::string format = "replay";
  std::string scores_out;
  std::string utc_offset = "+00:00";
  double interval_s = 0;
  bool json = false;
  std::shared_ptr<ConfigFlags> flags;  ///< --db, --host, InfluxDB: as 'ctmon run' has them
  Config forward;  ///< resolved from flags: db (empty without --db), host, InfluxDB settings
  double influx_drain_s = 60;  ///< how long to wait for the outbox to drain at the end
  std::string gauge_settings;  ///< --format nab: "key=value,..." over AnalyzerConfig::gauge()
};

// The NAB benchmark compares a few pre-declared candidate configurations (bench/detectors/
// nab_bench.sh); this is how it passes one. Benchmarking only: the daemon's settings are its
// config keys.
constexpr const char* kGaugeSettingKeys = "level, noise, window, point, alarm, slack, floor, open, close";
AnalyzerConfig gauge_config(const std::string& spec) {
  AnalyzerConfig c = AnalyzerConfig::gauge();
  std::size_t pos = 0;
  while (pos < spec.size()) {
    const std::size_t comma = std::min(spec.find(',', pos), spec.size());
    const std::string item = spec.substr(pos, comma - pos);
    pos = comma + 1;
    const std::size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    double v = 0;
    char extra = 0;
    if (eq == std::string::npos || std::sscanf(item.c_str() + eq + 1, "%lf%c", &v, &extra) != 1 || !(v >= 0))
      throw UserError("--gauge-settings '" + item + "': expected key=number (number >= 0), e.g. level=200");
    if (key == "level") c.counter.level_memory_samples = v;
    else if (key == "noise") c.counter.noise_memory_samples = v;
    else if (key == "window") c.counter.robust_window_samples = static_cast<std::size_t>(v);
    else if (key == "point") c.counter.point_alarm_sd = v;
    else if (key == "alarm") c.counter.cusum.alarm_sd = v;
    else if (key == "slack") c.counter.cusum.slack_sd = v;
    else if (key == "floor") c.counter.relative_floor = v;
    else if (key == "open") c.episodes.open_samples = static_cast<std::uint32_t>(v);
    else if (key == "close") c.episodes.close_samples = static_cast<std::uint32_t>(v);
    else throw UserError("--gauge-settings: unknown key '" + key + "' (known: " + kGaugeSettingKeys + ")");
  }
  return c;
}

// Collects each episode once, when it closes, and the one still open at the end of the input,
// and prints them only once the whole input was read: a file that turns out bad halfway leaves
// stdout empty (no table header followed by an error), so a pipe never sees half an answer.
// Episodes are few (a handful a day), so holding their lines costs little. The table is the one
// `ctmon events` prints, from the same record.
class EpisodePrinter {
 public:
  explicit EpisodePrinter(bool json) : json_(json), term_(detect_terminal()) {
    if (!json_) out_ = event_table_header(term_) + "\n";
  }
  void step(const StepResult& r) {
    if (r.change == EpisodeChange::closed) add(*r.episode);
  }
  /// Adds the open episode; call when the input has been read without error.
  void finish(const Analyzer& analyzer) {
    if (const Episode* open = analyzer.open_episode()) add(*open);
    if (!json_ && printed_ == 0) out_ += "(no episodes)\n";
  }
  /// Writes what was collected to stdout.
  void flush() {
    std::fwrite(out_.data(), 1, out_.size(), stdout);
    out_.clear();
  }

 private:
  void add(const Episode& e) {
    ++printed_;
    out_ += (json_ ? events::episode_json_line(e)
                   : event_line(events::to_event_record(e, static_cast<std::int64_t>(e.id), 0), term_)) +
            "\n";
  }
  bool json_;
  Terminal term_;
  int printed_ = 0;
  std::string out_;
};


void run_replay_csv(const Options& o) {
  if (!o.forward.influx.url.empty() && o.forward.db.empty())
    throw UserError("forwarding to InfluxDB (--influx-url or influx.url) needs --db: points are queued in that "
                    "database's outbox first");
  CsvSource csv(o.input);
  // The database keeps samples in time order and drops one that does not advance: refuse the
  // file at its first such row rather than store a fraction of it and exit 0.
  if (!o.forward.db.empty()) csv.require_advancing_time();
  CounterCatalog catalog;
  // The detectors' memories are set in seconds and converted to samples: learn the interval from
  // the first samples unless given.
  std::vector<Sample> ahead;
  double interval_s = o.interval_s;
  for (Sample s; ahead.size() < 2 && csv.next(s, catalog);) ahead.push_back(s);
  if (interval_s <= 0 && ahead.size() == 2) interval_s = static_cast<double>(ahead[1].mono_ns - ahead[0].mono_ns) / kNsPerS;
  if (interval_s <= 0) interval_s = 1.0;
  PeekedSource source(csv, std::move(ahead));

  EpisodePrinter printer(o.json);
  Progress progress(o.input, "replay");
  const std::int64_t offset = parse_utc_offset(o.utc_offset);
  if (!o.forward.db.empty()) {
    // The daemon's own pipeline, paced by the recording's clock instead of the real one, so the
    // database ends up as if the daemon had sampled this file.
    store::Database db = store::Database::open(o.forward.db);
    Logger log;
    Pipeline pipeline(db, network_detectors(interval_s, o.forward.episode_gap_s), store::SampleWriterOptions{}, log,
                      [offset](std::int64_t) { return offset; });
    influx::Sender* sender = nullptr;
    if (auto forwarding = influx::make_output(o.forward, db, log_sink(log))) {
      sender = &forwarding->sender();
      pipeline.add_output(std::move(forwarding));
    }
    Sample sample;
    std::int64_t last_mono_ns = 0;
    while (source.next(sample, catalog)) {
      printer.step(pipeline.feed(sample, catalog, offset, sample.mono_ns));
      last_mono_ns = sample.mono_ns;
      progress.update(csv.bytes_read(), pipeline.stats().samples);
      constexpr std::uint64_t kPumpEverySamples = 256;  // HTTP progresses during a long replay
      if (sender && pipeline.stats().samples % kPumpEverySamples == 0) sender->pump(now_mono_ns());
    }
    printer.finish(pipeline.analyzer());
    if (!pipeline.finish(last_mono_ns))
      throw UserError("the replayed samples could not all be written to " + o.forward.db + " (see above)");
    printer.flush();
    if (sender) {
      const bool drained = sender->drain(now_mono_ns() + static_cast<std::int64_t>(o.influx_drain_s * 1e9));
      const status::InfluxStatus st = sender->status();
      if (drained)
        log.info("InfluxDB: {} lines sent, {} set aside, outbox empty", st.sent_lines, st.rejected_lines);
      else
        log.warning("InfluxDB: {} lines sent, {} still queued in {} ({}); the next 'ctmon run' or "
                    "'ctmon replay --db' with this database sends them",
                    st.sent_lines, st.queued, o.forward.db, st.detail.empty() ? st.state : st.detail);
    }
    return;
  }
  Analyzer analyzer(network_detectors(interval_s, o.forward.episode_gap_s));
  analyze_source(source, catalog, analyzer, offset, [&](const Sample&, const StepResult& r) {
    printer.step(r);
    progress.update(csv.bytes_read(), analyzer.samples_seen());
  });
  printer.finish(analyzer);
  printer.flush();
}

void run_replay_nab(const Options& o) {
  if (o.scores_out.empty()) throw UserError("--format nab writes its scores to a file: add --scores-out FILE");
  GaugeCsvReader reader(o.input);
  std::ofstream out(o.scores_out, std::ios::binary | std::ios::trunc);
  if (!out) throw UserError("cannot write '" + o.scores_out + "': check that its folder exists and is writable");
  out << "timestamp,value,anomaly_score\n";

  CounterCatalog catalog;
  catalog.intern("value");
  Analyzer analyzer(gauge_config(o.gauge_settings));
  EpisodePrinter printer(o.json);
  Progress progress(o.input, "replay");
  const std::int64_t offset = parse_utc_offset(o.utc_offset);
  GaugeRow row;
  std::uint64_t n = 0;
  while (reader.next(row)) {
    const double value = row.value;
    const std::int64_t ns = row.unix_s * kNsPerS;
    const StepResult& r = analyzer.observe_values(ns, ns, std::span<const double>(&value, 1), catalog, offset);
    printer.step(r);
    // NAB charges every row at or above its threshold outside a labelled window and credits only
    // the earliest row inside one: so each episode is reported once, on the row it opened, with
    // the score it opened with; every other row scores 0.
    const double onset_score = r.change == EpisodeChange::opened ? r.score : 0.0;
    out << row.timestamp << ',' << row.value_text << ',' << fmt::format("{:.6f}", onset_score) << '\n';
    progress.update(reader.bytes_read(), ++n);
  }
  printer.finish(analyzer);
  out.close();
  if (!out) throw UserError("writing '" + o.scores_out + "' failed: check free space");
  printer.flush();
}

}  // namespace

void add_replay_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "replay", "Run the detectors over a recorded CSV as fast as possible and print the episodes found");
  cmd->add_option("--input", opts->input, "replay CSV: timestamp,<counter>,... with cumulative packet counts")
      ->required();
  cmd->add_flag("--json", opts->json, "print episodes as events JSON lines instead of a table");
  cmd->add_option("--format", opts->format, "input layout: replay (default) or nab (timestamp,value series)")
      ->check(CLI::IsMember({"replay", "nab"}));
  cmd->add_option("--scores-out", opts->scores_out, "with --format nab: write timestamp,value,anomaly_score here");
  cmd->add_option("--utc-offset", opts->utc_offset,
                  "local time of the recording for time-of-day baselines, e.g. +02:00 (default +00:00)");
  cmd->add_option("--gauge-settings", opts->gauge_settings,
                  std::string("with --format nab, for benchmarking: override the gauge detector profile, "
                              "key=value,... with keys ") + kGaugeSettingKeys);
  cmd->add_option("--interval", opts->interval_s, "sampling interval of the recording (default: learned from the file)")
      ->transform(duration_in_seconds());
  // The daemon's own flags for the database and InfluxDB: with --db, samples, episodes and
  // InfluxDB points go through the same pipeline, forwarder, outbox and sender as the daemon's.
  opts->flags = std::make_shared<ConfigFlags>(cmd, ConfigScope::kReplay);
  cmd->add_option("--influx-drain", opts->influx_drain_s,
                  "how long to wait at the end for the outbox to drain (default 60s); what is left "
                  "stays queued in --db")
      ->transform(duration_in_seconds())
      ->type_name("DURATION");
  cmd->callback([opts] {
    opts->forward = opts->flags->resolve();
    if (opts->format == "nab") {
      run_replay_nab(*opts);
    } else {
      if (!opts->gauge_settings.empty())
        throw UserError("--gauge-settings applies to --format nab only: drop it or add --format nab");
      run_replay_csv(*opts);
    }
  });
}

}  // namespace ctmon::cli
