// The per-sample pipeline against a real SQLite file: samples, episodes and the detectors' state
// reach the database; a locked database keeps everything in RAM until it can write again.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "core/time.h"
#include "monitor/config/config.h"
#include "monitor/daemon/pipeline.h"
#include "monitor/influx/influx_output.h"
#include "monitor/status/daemon_status.h"
#include "monitor/store/outbox.h"
#include "monitor/store/event_store.h"
#include "monitor/store/sample_reader.h"
#include "monitor/store/state_store.h"
#include "tests/monitor/store/temp_dir.h"

using namespace ctmon;

namespace {

constexpr std::int64_t kT0_wall_ns = 1'795'132'800 * kNsPerS;  // 2026-11-20T00:00:00Z
const char* const kNames[] = {"tcp_conntrack_fwd_new", "tcp_conntrack_fwd_established",
                              "udp_conntrack_fwd_new", "tcp_conntrack_input_invalid"};

// Small detectors memories, so a test needs hundreds of samples, not the daemon's 600 s warm-up.
AnalyzerConfig quick_detectors() {
  AnalyzerConfig config = AnalyzerConfig::network(1.0);
  config.warmup_samples = 60;
  config.use_multivariate = false;  // its covariance needs far more samples than a unit test feeds
  return config;
}

// The tests' wall clock is UTC.
std::int64_t utc(std::int64_t /*wall_ns*/) { return 0; }

store::SampleWriterOptions writer_options() {
  store::SampleWriterOptions options;
  options.commit_interval_s = 60;
  options.retention_raw_s = 3600;
  options.retention_rollup_s = 86400;
  options.rollup_block_s = 3600;
  return options;
}

// A quiet router (deterministic jitter around a few packets per second), with a burst of new TCP
// connections where the test asks for one.
class Traffic {
 public:
  explicit Traffic(CounterCatalog& catalog) {
    for (const char* name : kNames) (void)catalog.intern(name);
    totals_.assign(std::size(kNames), 0);
  }

  Sample next(bool burst) {
    Sample s;
    s.mono_ns = (1000 + index_) * kNsPerS;
    s.wall_ns = kT0_wall_ns + index_ * kNsPerS;
    const std::uint64_t base[] = {3, 100, 1, 0};
    for (std::size_t c = 0; c < totals_.size(); ++c) {
      seed_ = seed_ * 6364136223846793005ULL + 1442695040888963407ULL;
      totals_[c] += base[c] + (seed_ >> 62);  // + 0..3
      if (burst && c == 0) totals_[c] += 400;
      s.counters.push_back({totals_[c], totals_[c] * 80, true});
    }
    ++index_;
    return s;
  }

 private:
  std::vector<std::uint64_t> totals_;
  std::uint64_t seed_ = 42;
  std::int64_t index_ = 0;
};

}  // namespace

TEST_CASE("Pipeline: samples, one episode and the detectors' state reach the database") {
  store::testing::TempDir dir;
  const auto path = dir / "ctmon.db";
  Logger log;
  CounterCatalog catalog;
  Traffic traffic(catalog);
  constexpr int kQuiet = 300, kBurst = 10, kAfter = 80, kTotal = kQuiet + kBurst + kAfter;
  Sample last;
  std::uint64_t learned = 0;
  {
    store::Database db = store::Database::open(path);
    Pipeline pipeline(db, quick_detectors(), writer_options(), log, utc);
    int opened_at = -1;
    for (int i = 0; i < kTotal; ++i) {
      last = traffic.next(i >= kQuiet && i < kQuiet + kBurst);
      const StepResult& step = pipeline.feed(last, catalog, 0, last.mono_ns);
      if (step.change == EpisodeChange::opened) opened_at = i;
    }
    CHECK(opened_at >= kQuiet);
    CHECK(opened_at < kQuiet + kBurst);
    CHECK(pipeline.stats().samples == kTotal);
    CHECK(pipeline.stats().episodes_opened == 1);
    CHECK(pipeline.stats().episodes_closed == 1);
    // The episode is on disk the moment it closes, before any finish().
    store::Database reader = store::Database::open(path, store::reader_options());
    const auto events = store::EventStore(reader).list({});
    REQUIRE(events.size() == 1);
    CHECK(events[0].end_wall_ns.has_value());
    CHECK(events[0].start_wall_ns == kT0_wall_ns + kQuiet * kNsPerS);  // the burst's first sample
    CHECK(events[0].evidence_json.find("tcp_conntrack_fwd_new") != std::string::npos);
    learned = pipeline.analyzer().samples_seen();
    REQUIRE(pipeline.finish(last.mono_ns));
  }
  {
    store::Database reader = store::Database::open(path, store::reader_options());
    const store::Series series = store::SampleReader(reader).read();
    REQUIRE(series.samples.size() == kTotal);
    CHECK(series.samples.back().wall_ns == last.wall_ns);
    CHECK(series.samples.back().counters[series.catalog.find(kNames[0])].packets == last.counters[0].packets);
  }
  // A restart resumes what the detectors learned instead of warming up again.
  store::Database db = store::Database::open(path);
  Pipeline resumed(db, quick_detectors(), writer_options(), log, utc);
  CHECK(resumed.analyzer().samples_seen() == learned);
}

TEST_CASE("Pipeline: the status says until when the detectors learn, then that they detect") {
  store::testing::TempDir dir;
  Logger log;
  CounterCatalog catalog;
  Traffic traffic(catalog);
  store::Database db = store::Database::open(dir / "ctmon.db");
  const AnalyzerConfig detectors = quick_detectors();
  Pipeline pipeline(db, detectors, writer_options(), log, utc);
  status::DaemonStatus status;
  pipeline.report(status);
  CHECK(status.learning_until_wall_ns == 0);  // nothing seen: nothing to promise yet
  // Sample i (0-based) is at kT0 + i s; the first that may open an episode is number warmup.
  const std::int64_t first_detecting_wall_ns = kT0_wall_ns + static_cast<std::int64_t>(detectors.warmup_samples) * kNsPerS;
  for (std::uint32_t i = 0; i < detectors.warmup_samples; ++i) {
    const Sample sample = traffic.next(false);
    REQUIRE_FALSE(pipeline.feed(sample, catalog, 0, sample.mono_ns).scored);
    pipeline.report(status);
    REQUIRE(status.learning_until_wall_ns == first_detecting_wall_ns);
  }
  const Sample sample = traffic.next(false);
  CHECK(sample.wall_ns == first_detecting_wall_ns);
  CHECK(pipeline.feed(sample, catalog, 0, sample.mono_ns).scored);
  pipeline.report(status);
  CHECK(status.learning_until_wall_ns == 0);
}

TEST_CASE("Pipeline: a locked database keeps the samples in RAM, and nothing is lost after") {
  store::testing::TempDir dir;
  const auto path = dir / "ctmon.db";
  Logger log;
  CounterCatalog catalog;
  Traffic traffic(catalog);
  store::SampleWriterOptions options = writer_options();
  options.commit_interval_s = 5;
  options.retry_interval_s = 0;
  store::Database db = store::Database::open(path);
  Pipeline pipeline(db, quick_detectors(), options, log, utc);
  sqlite3* locker = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &locker) == SQLITE_OK);
  const std::unique_ptr<sqlite3, int (*)(sqlite3*)> close_locker(locker, sqlite3_close);
  int fed = 0;
  auto feed = [&](int n) {
    for (int i = 0; i < n; ++i, ++fed) {
      const Sample s = traffic.next(false);
      pipeline.feed(s, catalog, 0, s.mono_ns);
    }
  };
  feed(12);
  CHECK(std::string(pipeline.store_state()) == "ok");
  REQUIRE(sqlite3_exec(locker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  feed(12);
  CHECK(std::string(pipeline.store_state()) != "ok");
  CHECK(pipeline.writer().stats().samples_in_ram > 5);
  REQUIRE(sqlite3_exec(locker, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  feed(12);
  CHECK(std::string(pipeline.store_state()) == "ok");
  REQUIRE(pipeline.finish(fed * kNsPerS + 2000 * kNsPerS));
  store::Database reader = store::Database::open(path, store::reader_options());
  CHECK(store::SampleReader(reader).read().samples.size() == static_cast<std::size_t>(fed));
}

TEST_CASE("Pipeline: new detectors for a new interval keep what was learned") {
  store::testing::TempDir dir;
  Logger log;
  CounterCatalog catalog;
  Traffic traffic(catalog);
  store::Database db = store::Database::open(dir / "ctmon.db");
  Pipeline pipeline(db, quick_detectors(), writer_options(), log, utc);
  for (int i = 0; i < 200; ++i) {
    const Sample s = traffic.next(false);
    pipeline.feed(s, catalog, 0, s.mono_ns);
  }
  AnalyzerConfig longer = quick_detectors();
  longer.rates.nominal_interval_s = 5.0;
  REQUIRE(pipeline.reconfigure(longer));
  CHECK(pipeline.analyzer().samples_seen() == 200);
  CHECK(pipeline.analyzer().config().rates.nominal_interval_s == 5.0);
  // A configuration of another shape cannot take the learned state: the detectors start over.
  AnalyzerConfig other = quick_detectors();
  other.use_multivariate = true;
  CHECK_FALSE(pipeline.reconfigure(other));
  CHECK(pipeline.analyzer().samples_seen() == 0);
}

namespace {

// InfluxDB forwarding into the database's outbox; nothing is ever sent (no pump), so the URL
// needs no server.
std::unique_ptr<influx::InfluxOutput> influx_output(store::Database& db) {
  Config config;
  config.db = db.path().string();
  config.host = "router-a";
  config.influx.url = "http://127.0.0.1:9";
  config.influx.pre_window_s = 30;
  config.influx.post_window_s = 30;
  return influx::make_output(config, db, {});
}

std::vector<std::string> outbox_lines(store::Database& db, std::string_view measurement) {
  std::vector<std::string> lines;
  for (const auto& e : store::Outbox(db).peek(1'000'000, std::numeric_limits<std::int64_t>::max()))
    if (e.line.starts_with(std::string(measurement) + ",")) lines.push_back(e.line);
  return lines;
}

// The timestamp (ms) at the end of a line-protocol line.
std::int64_t line_time_ms(const std::string& line) { return std::stoll(line.substr(line.rfind(' ') + 1)); }

}  // namespace

TEST_CASE("Pipeline: every point of a stored sample is in the outbox when the daemon dies") {
  store::testing::TempDir dir;
  const auto path = dir / "ctmon.db";
  Logger log;
  CounterCatalog catalog;
  Traffic traffic(catalog);
  store::SampleWriterOptions options = writer_options();
  options.commit_interval_s = 5;
  {
    store::Database db = store::Database::open(path);
    Pipeline pipeline(db, quick_detectors(), options, log, utc);
    pipeline.add_output(influx_output(db));
    for (int i = 0; i < 300 + 40; ++i) {
      const Sample s = traffic.next(i >= 300);  // an episode that stays open
      pipeline.feed(s, catalog, 0, s.mono_ns);
    }
    REQUIRE(pipeline.stats().episodes_opened == 1);
  }  // kill -9: no finish()
  store::Database db = store::Database::open(path);
  const std::int64_t newest_stored_ns = *store::SampleReader(db).extent().newest_raw_wall_ns;
  REQUIRE(newest_stored_ns >= kT0_wall_ns + 330 * kNsPerS);
  std::int64_t newest_point_ms = 0;
  for (const auto& line : outbox_lines(db, "ctmon_rate")) newest_point_ms = std::max(newest_point_ms, line_time_ms(line));
  // A rate point is stamped with the first sample it covers: the one before the newest.
  CHECK(newest_point_ms >= (newest_stored_ns - kNsPerS) / 1'000'000);
}

TEST_CASE("Pipeline: an episode a crash left open is closed at the last stored sample, in InfluxDB too") {
  store::testing::TempDir dir;
  const auto path = dir / "ctmon.db";
  Logger log;
  CounterCatalog catalog;
  Traffic traffic(catalog);
  store::SampleWriterOptions options = writer_options();
  options.commit_interval_s = 5;
  {
    store::Database db = store::Database::open(path);
    Pipeline pipeline(db, quick_detectors(), options, log, utc);
    pipeline.add_output(influx_output(db));
    for (int i = 0; i < 300 + 20; ++i) {
      const Sample s = traffic.next(i >= 300);
      pipeline.feed(s, catalog, 0, s.mono_ns);
    }
    REQUIRE(pipeline.analyzer().open_episode() != nullptr);
  }  // kill -9 with the episode open; the detectors' state was never saved during it
  std::int64_t newest_stored_ns = 0;
  {
    store::Database db = store::Database::open(path);
    newest_stored_ns = *store::SampleReader(db).extent().newest_raw_wall_ns;
    Pipeline restarted(db, quick_detectors(), options, log, utc);
    CHECK(restarted.analyzer().open_episode() == nullptr);
    restarted.add_output(influx_output(db));
  }
  store::Database reader = store::Database::open(path, store::reader_options());
  const auto events = store::EventStore(reader).list({});
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].end_wall_ns.has_value());
  CHECK(*events[0].end_wall_ns == newest_stored_ns);
  CHECK(events[0].start_wall_ns == kT0_wall_ns + 300 * kNsPerS);
  // The marker's close: the same point as the open marker (host tag, start time), merged by InfluxDB.
  const auto markers = outbox_lines(reader, "ctmon_event");
  REQUIRE(markers.size() == 2);
  CHECK(markers[1] == "ctmon_event,host=router-a state=\"closed\",time_end=" +
                          std::to_string(newest_stored_ns / 1'000'000) + "i " +
                          std::to_string(events[0].start_wall_ns / 1'000'000));
  CHECK(line_time_ms(markers[0]) == line_time_ms(markers[1]));
  // Nothing is left to settle at the next start.
  store::Database db = store::Database::open(path);
  Pipeline again(db, quick_detectors(), options, log, utc);
  again.add_output(influx_output(db));
  CHECK(outbox_lines(db, "ctmon_event").size() == 2);
}

TEST_CASE("Pipeline: after a crash the detectors catch up on the stored samples and end the episode where the traffic did") {
  store::testing::TempDir dir;
  const auto path = dir / "ctmon.db";
  Logger log;
  CounterCatalog catalog;
  Traffic traffic(catalog);
  store::SampleWriterOptions options = writer_options();
  options.commit_interval_s = 5;
  constexpr int kQuiet = 300, kLead = 20, kBurst = 10, kTail = 15;
  std::uint64_t seen_before_crash = 0;
  {
    store::Database db = store::Database::open(path);
    Pipeline pipeline(db, quick_detectors(), options, log, utc);
    for (int i = 0; i < kQuiet; ++i) {
      const Sample s = traffic.next(false);
      pipeline.feed(s, catalog, 0, s.mono_ns);
    }
    REQUIRE(pipeline.finish(kQuiet * kNsPerS));  // a clean stop: the state is saved here
  }
  {
    store::Database db = store::Database::open(path);
    Pipeline pipeline(db, quick_detectors(), options, log, utc);
    for (int i = 0; i < kLead + kBurst + kTail; ++i) {
      const Sample s = traffic.next(i >= kLead && i < kLead + kBurst);
      pipeline.feed(s, catalog, 0, s.mono_ns);
    }
    REQUIRE(pipeline.analyzer().open_episode() != nullptr);
    seen_before_crash = pipeline.analyzer().samples_seen();
  }  // kill -9 in the quiet after the burst, with the episode open and its state never saved
  const std::int64_t burst_start_ns = kT0_wall_ns + (kQuiet + kLead) * kNsPerS;
  const std::int64_t burst_last_ns = burst_start_ns + (kBurst - 1) * kNsPerS;
  store::Database db = store::Database::open(path);
  const std::int64_t newest_stored_ns = *store::SampleReader(db).extent().newest_raw_wall_ns;
  REQUIRE(newest_stored_ns > burst_last_ns + 5 * kNsPerS);  // closing there would be the wrong end
  Pipeline restarted(db, quick_detectors(), options, log, utc);
  // Everything the crashed run scored, except what it had not committed yet.
  CHECK(restarted.analyzer().samples_seen() + static_cast<std::uint64_t>(options.commit_interval_s) >= seen_before_crash);
  const Episode* carried = restarted.analyzer().open_episode();
  REQUIRE(carried != nullptr);
  CHECK(carried->start_wall_ns == burst_start_ns);
  bool closed = false;
  for (int i = 0; i < 120 && !closed; ++i) {
    const Sample s = traffic.next(false);
    closed = restarted.feed(s, catalog, 0, s.mono_ns).change == EpisodeChange::closed;
  }
  REQUIRE(closed);
  const auto events = store::EventStore(db).list({});
  REQUIRE(events.size() == 1);  // carried on, not closed and opened again
  CHECK(events[0].start_wall_ns == burst_start_ns);
  REQUIRE(events[0].end_wall_ns.has_value());
  CHECK(*events[0].end_wall_ns == burst_last_ns);
}

TEST_CASE("Pipeline: the outputs name an episode by its events-table id, also after a crash") {
  store::testing::TempDir dir;
  const auto path = dir / "ctmon.db";
  Logger log;
  CounterCatalog catalog;
  Traffic traffic(catalog);
  store::SampleWriterOptions options = writer_options();
  options.commit_interval_s = 5;
  {
    store::Database db = store::Database::open(path);
    Pipeline pipeline(db, quick_detectors(), options, log, utc);
    for (int i = 0; i < 300 + 20; ++i) {
      const Sample s = traffic.next(i >= 300);
      pipeline.feed(s, catalog, 0, s.mono_ns);
    }
    REQUIRE(pipeline.analyzer().open_episode() != nullptr);
  }  // kill -9: the detectors' state is from before the episode, which they numbered 1
  store::Database db = store::Database::open(path);
  Pipeline restarted(db, quick_detectors(), options, log, utc);
  restarted.add_output(influx_output(db));
  std::uint64_t detectors_id = 0;
  for (int i = 0; i < 300 + 20; ++i) {
    const Sample s = traffic.next(i >= 300);
    const StepResult& step = restarted.feed(s, catalog, 0, s.mono_ns);
    if (step.change == EpisodeChange::opened) detectors_id = step.episode->id;
  }
  REQUIRE(detectors_id == 1);  // numbered again: the case this test is about
  const auto events = store::EventStore(db).list({});
  REQUIRE(events.size() == 2);
  // The first episode's close (state and time_end only), then the second one's open.
  const auto markers = outbox_lines(db, "ctmon_event");
  REQUIRE(markers.size() == 2);
  CHECK(markers[1].find("state=\"open\"") != std::string::npos);
  CHECK(markers[1].find("event_id=\"2\"") != std::string::npos);
}

TEST_CASE("network_detectors: the default episode gap leaves the detectors' defaults as they are") {
  for (const double interval_s : {0.05, 1.0, 5.0, 30.0}) {
    const AnalyzerConfig defaults = AnalyzerConfig::network(interval_s);
    const AnalyzerConfig configured = network_detectors(interval_s, Config{}.episode_gap_s);
    CHECK(configured.episodes.merge_gap_s == defaults.episodes.merge_gap_s);
    CHECK(configured.episodes.close_samples == defaults.episodes.close_samples);
  }
}

TEST_CASE("network_detectors: a short episode gap closes episodes after that gap") {
  const AnalyzerConfig one_s = network_detectors(1.0, 10);
  CHECK(one_s.episodes.merge_gap_s == 10);
  CHECK(one_s.episodes.close_samples == 10);
  CHECK(network_detectors(5.0, 10).episodes.close_samples == 3);  // never fewer than 3 samples
  // A longer gap than the default holds episodes by time; the quiet samples stay the default.
  CHECK(network_detectors(1.0, 600).episodes.merge_gap_s == 600);
  CHECK(network_detectors(1.0, 600).episodes.close_samples == AnalyzerConfig::network(1.0).episodes.close_samples);
}

TEST_CASE("Pipeline: the detectors' state is saved within half the raw retention, so a crash costs no learning") {
  store::testing::TempDir dir;
  const auto path = dir / "ctmon.db";
  Logger log;
  CounterCatalog catalog;
  Traffic traffic(catalog);
  store::SampleWriterOptions options = writer_options();  // 1 h of raw samples: a save every 30 min
  REQUIRE(options.retention_raw_s == 3600);
  std::uint64_t seen_before_crash = 0;
  {
    store::Database db = store::Database::open(path);
    Pipeline pipeline(db, quick_detectors(), options, log, utc);
    for (int i = 0; i < 1900; ++i) {
      const Sample s = traffic.next(false);
      pipeline.feed(s, catalog, 0, s.mono_ns);
    }
    seen_before_crash = pipeline.analyzer().samples_seen();
    REQUIRE(pipeline.stats().episodes_closed == 0);  // a close saves too: not what this is about
  }  // kill -9: no finish()
  store::Database db = store::Database::open(path);
  const auto saved = store::StateStore(db).load(Analyzer::kStateVersion);
  REQUIRE(saved.has_value());
  CHECK(saved->saved_wall_ns >= kT0_wall_ns + 1800 * kNsPerS);
  CHECK(saved->saved_wall_ns < kT0_wall_ns + 1900 * kNsPerS);
  // The restart catches up on the rest, but for what the last commit interval held.
  Pipeline restarted(db, quick_detectors(), options, log, utc);
  CHECK(restarted.analyzer().samples_seen() + static_cast<std::uint64_t>(options.commit_interval_s) >= seen_before_crash);
}
